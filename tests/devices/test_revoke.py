"""Revoking a device re-keys the group: it reads nothing published afterwards, the others go on, the audit says who."""

from __future__ import annotations

import pytest

from tests.companion.conftest import paired
from tests.devices.conftest import link, settle


@pytest.mark.timeout(300)
async def test_a_revoked_device_reads_nothing_new_and_the_audit_says_who_revoked_whom(make_devices):
    a, b, c = make_devices(3)
    await link(a, b)
    await link(b, c)
    session, phone = await paired(a, "--auto-approve", name="desk")
    await phone.close()
    topic = session["topic"]
    settle(a, b, c)
    assert c.session_names() == {topic: "desk"}
    ids = {d.label: d.me()["id"] for d in (a, b, c)}

    revoked = a.json("devices", "revoke", c.me()["name"])
    assert revoked["event"] == "revoked" and revoked["device"]["id"] == ids[c.label]
    assert revoked["kept_sessions"] == ["desk"]  # said plainly: C still knows that session's key

    a.json("rename", "desk", "after-revoke")
    settle(a, b, c)
    assert b.session_names() == {topic: "after-revoke"}  # A and B go on in the new epoch
    assert c.session_names() == {topic: "desk"}  # C read none of it
    assert c.me()["status"].startswith("this device (revoked")
    assert {d["id"] for d in a.json("devices")} == {ids[a.label], ids[b.label]}
    assert {d["id"] for d in b.json("devices")} == {ids[a.label], ids[b.label]}

    for device in (a, b):  # who revoked whom, and which sessions were kept, on both remaining devices
        rows = [r for r in device.json("audit") if r["kind"] == "device_revoked" and r["device"] == ids[a.label]]
        assert rows and rows[-1]["data"]["device"] == ids[c.label] and rows[-1]["data"]["by"] == ids[a.label]
        assert rows[-1]["data"]["kept_sessions"] == ["desk"]

    # C says nothing more to the group (and the others would refuse it: test_hostile_sync.py)
    c.json("rename", "desk", "from-the-revoked")
    settle(a, b)
    assert a.session_names() == {topic: "after-revoke"} and b.session_names() == {topic: "after-revoke"}


@pytest.mark.timeout(300)
async def test_revoke_with_end_sessions_ends_what_the_revoked_device_knew(make_devices):
    a, b = make_devices(2)
    await link(a, b)
    session, phone = await paired(a, "--auto-approve", name="desk")
    try:
        settle(a, b)
        revoked = a.json("devices", "revoke", b.me()["name"], "--end-sessions")
        assert revoked["ended_sessions"] == ["desk"] and revoked["kept_sessions"] == []
        deleted = await phone.expect("deleted")
        assert (deleted["topic"], deleted["by"]) == (session["topic"], "peer")  # the phone was told
        assert a.json("sessions", "--offline")[0]["status"] == "revoked"
    finally:
        await phone.close()
