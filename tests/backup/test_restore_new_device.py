"""A backup of a device group's member restored as a new device: its own identity, the sessions usable with the same
phone (no new QR), then it joins the group through a member's link and revokes the old device. Real processes,
relay, OS keyring and phone."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from tests.companion.conftest import paired
from tests.devices.conftest import link, make_devices, relay, settle  # noqa: F401 (make_devices, relay: fixtures)
from tests.terminal import Terminal

PASSPHRASE = "a long backup passphrase"
ENV = {**os.environ, "WALLETSYNC_BACKUP_PASSPHRASE": PASSPHRASE}


def _state(home) -> dict:
    return {p.name: p.read_bytes() for p in sorted(home.iterdir()) if p.is_file() and not p.name.startswith(".")}


@pytest.mark.timeout(300)
async def test_a_member_restored_as_a_new_device_signs_joins_and_revokes_the_old_one(make_devices, tmp_path):
    a, b, new = make_devices(3)
    await link(a, b)
    session, phone = await paired(a, "--auto-approve", name="desk")
    try:
        address = session["accounts"][0].split(":")[2]
        a.json("policy", "set", "desk", "--max-native-per-day", "0.5")
        a.json("watch", "add", "0x" + "11" * 20, "--label", "cold store")
        assert a.json("sign", "desk", "--message", "before the backup")["verified"] is True
        file = tmp_path / "a.wsbackup"
        a.json("backup", "create", "-o", str(file), env=ENV)
        old = a.me()

        # a script that does not say how: a typed error naming the two ways, and nothing written
        refused = new.json("backup", "restore", str(file), env=ENV, ok=False)
        assert refused["error"]["code"] == "restore_choice_needed"
        assert "--as-new-device" in refused["error"]["message"] and "--as-old-device" in refused["error"]["message"]
        assert not (new.home / "walletsync.db").exists()

        restored = new.json("backup", "restore", str(file), "--as-new-device", env=ENV)
        assert restored["as"] == "new_device" and restored["sessions"] == 1 and restored["group"] is not None
        assert restored["old_device_id"] == old["id"] and (restored["joined"], restored["old_device_revoked"]) == (
            False,
            False,
        )
        assert any("devices join" in line for line in restored["next"])
        assert any(f"devices revoke {old['id'][:12]}" in line for line in restored["next"])
        me = new.me()
        assert me["id"] != old["id"]  # its own identity (the device id is the hash of its relay client key)

        # a second restore into the same (no longer fresh) device is refused, and changes nothing
        before = _state(new.home)
        again = new.json("backup", "restore", str(file), "--as-new-device", env=ENV, ok=False)
        assert again["error"]["code"] == "restore_refused"
        assert _state(new.home) == before

        # the session came back usable with the same phone, and what A did on it was not taken as the phone speaking
        signed = new.json("sign", "desk", "--message", "on the new device")
        assert signed["verified"] is True and signed["recovered"] == address
        assert [r["direction"] for r in new.requests()] == ["outgoing", "outgoing"]
        assert [w["label"] for w in new.json("watch")] == ["cold store"]
        policy = new.run("policy", "show", "desk")
        assert policy.returncode == 0 and "in force" in policy.stdout

        # the audit: its own log says where it came from; A's rows are A's, checked with A's key
        rows = new.json("audit")
        restored_row = next(r for r in rows if r["kind"] == "restored_from_backup")
        assert restored_row["data"]["old_device_id"] == old["id"] and restored_row["data"]["made_by"] == old["name"]
        verdict = new.json("audit", "verify")
        [theirs] = verdict["devices"]
        shown = old["name"] if old["name"] != me["name"] else f"{old['name']} (old)"  # told apart from this device
        assert verdict["ok"] is True and (theirs["device"], theirs["name"], theirs["ok"]) == (old["id"], shown, True)

        # joins through B's link, revokes A: B lists the new device and not A
        await link(b, new, name="restored")
        revoked = new.json("devices", "revoke", old["id"][:12])
        assert revoked["device"]["id"] == old["id"]
        settle(new, b)
        assert {d["id"] for d in b.json("devices")} == {b.me()["id"], me["id"]}
        assert new.json("audit", "verify")["ok"] is True
        signed = new.json("sign", "desk", "--message", "in the group")
        assert signed["verified"] is True and signed["recovered"] == address
    finally:
        await phone.close()


@pytest.mark.timeout(300)
async def test_on_a_terminal_restore_asks_how_then_joins_with_a_pasted_link_and_revokes_the_old_device(
    make_devices, tmp_path
):
    a, b, new = make_devices(3)
    await link(a, b)
    file = tmp_path / "a.wsbackup"
    a.json("backup", "create", "-o", str(file), env=ENV)
    old = a.me()
    env = {k: v for k, v in ENV.items() if k != "WALLETSYNC_LINK"}
    argv = [sys.executable, "-m", "walletsync", "--data-dir", str(new.home), "backup", "restore", str(file)]
    terminal = Terminal(argv, env, tmp_path / "restore.txt")
    await asyncio.to_thread(terminal.expect, "Choice [1]: ")
    terminal.type("")
    await asyncio.to_thread(terminal.expect, "(Enter: later): ")
    showing = await b.spawn("devices", "link", "--json", "--yes")
    try:
        terminal.type((await showing.expect("link"))["uri"])
        await asyncio.to_thread(terminal.expect, "Do the codes match on both devices? [y/N] ")
        terminal.type("y")
        await asyncio.to_thread(terminal.expect, "Revoke the old device")
        terminal.type("")
        code, out = await asyncio.to_thread(terminal.finish)
        assert code == 0, terminal.screen
        assert await showing.exit_code() == 0
    finally:
        await showing.close()
    assert "as a new device" in out and "devices join" not in out and "devices revoke" not in out
    me = new.me()
    assert me["name"] == old["name"] + " (restored)"  # the same host's name, told apart from the old device's
    settle(new, b)
    assert {d["id"] for d in b.json("devices")} == {b.me()["id"], me["id"]}
    assert {d["id"] for d in new.json("devices")} == {b.me()["id"], me["id"]} and me["id"] != old["id"]
