"""The relay killed (-9) and started again on its file while the group syncs: nothing lost, nothing applied twice."""

from __future__ import annotations

import pytest

from tests.companion.conftest import paired
from tests.devices.conftest import link, settle, until


@pytest.mark.timeout(300)
async def test_a_relay_killed_mid_sync_loses_nothing_and_applies_nothing_twice(make_devices, relay):
    a, b = make_devices(2)
    await link(a, b)
    session, phone = await paired(a, "--auto-approve", name="desk")
    await phone.close()
    topic = session["topic"]
    settle(a, b)

    for n in range(1, 6):  # B is offline throughout
        a.json("rename", f"desk-{n - 1}" if n > 1 else "desk", f"desk-{n}")
    a.json("sync")  # published: the relay holds them for B
    relay.restart_hard()

    log = relay.process.log_path
    mark = len(log.read_bytes())
    syncing = await b.spawn("sync", "--json")
    try:  # kill it again as soon as B has said hello: B is mid-sync
        await until(lambda: b"tag=7700" in log.read_bytes()[mark:], timeout=30, what="B's first sync message")
        relay.restart_hard()
        assert await syncing.exit_code(timeout=90) == 0, syncing.events
    finally:
        await syncing.close()

    assert b.session_names() == {topic: "desk-5"}
    b.json("sync")
    assert b.session_names() == {topic: "desk-5"}
    assert [d["status"] for d in b.json("devices")] == ["this device", "in sync"]

    remote = b.remote_audit()
    a_id = next(d["id"] for d in a.json("devices") if d["this_device"])
    own_of_a = [
        {k: v for k, v in r.items() if k not in ("device", "device_name")}
        for r in a.json("audit")
        if r["device"] == a_id
    ]
    assert [{k: v for k, v in r.items() if k != "device"} for r in remote] == own_of_a  # each of A's rows once
    listed_on_b = [r for r in b.json("audit") if r["device"] == a_id]
    assert [{k: v for k, v in r.items() if k not in ("device", "device_name")} for r in listed_on_b] == own_of_a
    rows = [(r["kind"], r["session"], repr(sorted(r["data"].items()))) for r in b.json("audit")]
    assert len(rows) == len(set(rows)), rows
    assert not [r for r in b.json("audit") if r["kind"] == "sync_message_refused"]
