"""Three linked devices share one session with the official JS wallet: the phone sees one session, any device signs."""

from __future__ import annotations

import json

import pytest

from tests.devices.conftest import js_wallet_paired, link, settle


@pytest.mark.timeout(300)
async def test_any_member_links_and_any_device_signs_on_a_session_paired_elsewhere(make_devices, log_dir):
    a, b, c = make_devices(3)
    await link(a, b)
    await link(b, c)  # any member can link, not only the one that founded the group
    ids = {d.label: d.me()["id"] for d in (a, b, c)}
    assert {d["id"] for d in c.json("devices")} == set(ids.values())

    session, wallet = await js_wallet_paired(a, log_dir, name="js")
    try:
        signed = c.json("sign", "js", "--message", "from the third device")  # no pairing on C
        address = wallet.events[0]["address"]
        assert signed["verified"] is True and signed["recovered"] == address
        assert (await wallet.expect("request"))["topic"] == session["topic"]
        await wallet.expect("responded")
        await wallet.send("sessions")
        assert (await wallet.expect("sessions"))["topics"] == [session["topic"]]  # the phone saw one session

        settle(a, b, c)
        for device in (a, b, c):
            assert {d["id"] for d in device.json("devices")} == set(ids.values()), device.label
            (request,) = device.requests()
            assert (request["topic"], request["status"]) == (session["topic"], "answered"), device.label
            assert json.loads(request["verdict"])["verified"] is True, device.label
        (verified,) = [
            {k: v for k, v in row.items() if k not in ("device", "device_name")}
            for row in c.json("audit")
            if row["kind"] == "signature_verified" and row["device"] == ids["c"]
        ]
        for device in (a, b):  # C's audit row, as C signed it, is on every device
            remote = [r for r in device.remote_audit() if r["kind"] == "signature_verified"]
            assert remote == [{"device": ids["c"], **verified}], device.label
    finally:
        await wallet.close()
