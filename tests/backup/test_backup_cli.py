"""`walletsync backup` as a user runs it: real processes, relay, OS keyring and phone.

Made on one data dir, restored into a fresh one, and the restored session signs with the same phone, no new QR."""

from __future__ import annotations

import json
import os
import subprocess

from tests.companion.conftest import Cli, cli, paired  # noqa: F401 (cli: the fixture)
from tests.procs import REPO

PASSPHRASE = "a long backup passphrase"


def _env(**extra: str) -> dict:
    return {**os.environ, **extra}


def _twin(cli: Cli, name: str) -> Cli:
    """Another data dir on the same relay: the fresh machine."""
    return Cli(cli.home.parent / name, cli.relay_url, cli.logs)


def _with_stdin(cli: Cli, text: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*cli.base, *args], input=text, capture_output=True, text=True, timeout=60, cwd=REPO)


def _state(home) -> dict:
    return {p.name: p.read_bytes() for p in sorted(home.iterdir()) if p.is_file() and not p.name.startswith(".")}


async def test_restore_into_a_fresh_data_dir_then_sign_with_the_same_phone(cli, tmp_path):
    session, phone = await paired(cli, "--auto-approve", name="desk")
    try:
        address = session["accounts"][0].split(":")[2]
        cli.json("policy", "set", "desk", "--max-native-per-day", "0.5")
        cli.json("watch", "add", "0x" + "11" * 20, "--label", "cold store")
        file = tmp_path / "desk.wsbackup"
        made = cli.json("backup", "create", "-o", str(file), env=_env(WALLETSYNC_BACKUP_PASSPHRASE=PASSPHRASE))
        assert made["file"] == str(file) and made["shares"] is None and made["threshold"] is None
        assert made["created_at"] > 0

        data = file.read_bytes()
        for needle in ("desk", "cold store", address, address.lower()[2:], session["topic"], "eip155", "policies"):
            assert needle.encode() not in data, f"{needle!r} is in the backup file in clear"

        checked = cli.json("backup", "verify", str(file), env=_env(WALLETSYNC_BACKUP_PASSPHRASE=PASSPHRASE))
        assert checked["ok"] is True and checked["sessions"] == 1 and "policies.json" in checked["files"]

        fresh = _twin(cli, "fresh")
        restored = fresh.json("backup", "restore", str(file), env=_env(WALLETSYNC_BACKUP_PASSPHRASE=PASSPHRASE))
        assert restored["created_at"] == made["created_at"] and restored["device_group"] is None
        [back] = fresh.json("sessions")
        assert back["name"] == "desk" and back["topic"] == session["topic"] and back["status"] == "active"
        assert fresh.json("audit", "verify")["ok"] is True
        rows = fresh.json("audit")
        assert rows[-1]["kind"] == "restored_from_backup" and rows[-1]["data"]["made_at"] == made["created_at"]
        said = fresh.run("audit").stdout.splitlines()[-1]
        assert "restored_from_backup" in said and "restored from backup made on " in said and " by '" in said
        assert [w["label"] for w in fresh.json("watch")] == ["cold store"]
        shown = fresh.run("policy", "show", "desk")
        assert shown.returncode == 0 and "in force" in shown.stdout

        signed = fresh.json("sign", "desk", "--message", "after the restore")
        assert signed["verified"] is True and signed["recovered"] == address
    finally:
        await phone.close()


async def test_shares_restore_and_what_is_refused_leaves_nothing_behind(cli, tmp_path):
    session, phone = await paired(cli, "--auto-approve", name="desk")
    await phone.close()
    file = tmp_path / "shares.wsbackup"
    made = cli.json("backup", "create", "-o", str(file), "--shares", "3", "--threshold", "2")
    shares = made["shares"]
    assert made["threshold"] == 2 and len(shares) == 3 and all(len(s.split()) == 33 for s in shares)

    checked = _with_stdin(cli, shares[1] + "\n", "backup", "check-share", str(file), "--json")
    assert checked.returncode == 0 and json.loads(checked.stdout)["member"] == 2
    other = _with_stdin(cli, shares[1][:-3] + "\n", "backup", "check-share", "--json")
    assert other.returncode != 0 and json.loads(other.stdout)["error"]["code"] == "bad_share"

    fresh = _twin(cli, "fresh")
    one = tmp_path / "one.txt"
    one.write_text(shares[2] + "\n")
    refused = fresh.json("backup", "restore", str(file), "--shares-file", str(one), ok=False)
    assert refused["error"]["code"] == "too_few_shares" and "1 more needed" in refused["error"]["message"]
    typo = shares[0].split()
    typo[4] = "zebra" if typo[4] != "zebra" else "zero"
    bad = tmp_path / "bad.txt"
    bad.write_text(" ".join(typo) + "\n" + shares[1] + "\n")
    refused = fresh.json("backup", "restore", str(file), "--shares-file", str(bad), ok=False)
    assert refused["error"]["code"] == "bad_share"
    assert not (fresh.home / "walletsync.db").exists() and not (fresh.home / "policies.json").exists()

    wrong = _env(WALLETSYNC_BACKUP_PASSPHRASE="not it")
    two = tmp_path / "two.txt"
    two.write_text("# shares 3 and 1\n" + shares[2] + "\n\n" + shares[0] + "\n")
    fresh.json("backup", "restore", str(file), "--shares-file", str(two), env=wrong)
    assert [s["name"] for s in fresh.json("sessions")] == ["desk"]


async def test_a_data_dir_with_sessions_is_refused_and_both_sides_are_kept(cli, tmp_path):
    session, phone = await paired(cli, "--auto-approve", name="desk")
    await phone.close()
    env = _env(WALLETSYNC_BACKUP_PASSPHRASE=PASSPHRASE)
    file = tmp_path / "desk.wsbackup"
    cli.json("backup", "create", "-o", str(file), env=env)
    status = cli.json("backup", "status")
    assert status["last_backup"] is not None and status["changed_since"] is False
    before = _state(cli.home)
    refused = cli.json("backup", "restore", str(file), env=env, ok=False)
    assert refused["error"]["code"] == "restore_refused" and "new data dir" in refused["error"]["message"]
    assert _state(cli.home) == before
    assert (
        cli.json("backup", "restore", str(file), env=_env(WALLETSYNC_BACKUP_PASSPHRASE="wrong"), ok=False)["error"][
            "code"
        ]
        == "wrong_passphrase"
    )
    again = cli.json("backup", "create", "-o", str(file), env=env, ok=False)
    assert "already exists" in again["error"]["message"]
    cli.json("rename", "desk", "desk two")
    assert cli.json("backup", "status")["changed_since"] is True


def test_groups_where_the_user_asks_and_enough_of_enough_groups_restore(cli, tmp_path):
    """--group T/N once per group, --group-threshold G: SLIP-39's two levels. 2 of your 3 shares and 1 of the
    family's 2 restore it when both groups are needed; a whole group alone does not."""
    cli.json("watch", "add", "0x" + "22" * 20, "--label", "vault")  # something to bring back
    file = tmp_path / "groups.wsbackup"
    made = cli.json("backup", "create", "-o", str(file), "--group", "2/3", "--group", "1/1", "--group-threshold", "2")
    mine, family = made["shares"]
    assert len(mine) == 3 and len(family) == 1 and made["threshold"] == 2
    assert made["groups"] == [{"threshold": 2, "shares": 3}, {"threshold": 1, "shares": 1}]
    text = cli.run("backup", "create", "-o", str(tmp_path / "again.wsbackup"), "--group", "2/3", "--group", "1/1")
    assert "2 of the 2 groups, each with enough of its own shares (group 1: 2 of its 3; group 2: 1 of its 1)" in (
        text.stdout
    )
    assert "Share 3 of 3 in group 1 of 2:" in text.stdout and "Share 1 of 1 in group 2 of 2:" in text.stdout

    fresh = _twin(cli, "fresh")
    one_group = tmp_path / "one-group.txt"
    one_group.write_text("\n".join(mine) + "\n")
    refused = fresh.json("backup", "restore", str(file), "--shares-file", str(one_group), ok=False)
    assert refused["error"]["code"] == "too_few_shares" and not (fresh.home / "walletsync.db").exists()
    enough = tmp_path / "enough.txt"
    enough.write_text("\n".join([mine[2], family[0], mine[0]]) + "\n")
    fresh.json("backup", "restore", str(file), "--shares-file", str(enough))
    assert [w["label"] for w in fresh.json("watch")] == ["vault"]

    for wrong in (["--group", "2/3", "--shares", "3"], ["--group", "three"], ["--group-threshold", "2"]):
        assert cli.json("backup", "create", *wrong, ok=False)["error"]["code"] == "backup_input", wrong
