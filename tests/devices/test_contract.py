"""The device commands' JSON contract, and their refusal to link when nobody can compare the codes."""

from __future__ import annotations

import pytest

from tests.devices.conftest import link

DEVICE_KEYS = {"name", "id", "this_device", "linked_at", "last_seen", "status", "behind"}


@pytest.mark.timeout(180)
async def test_link_join_devices_and_sync_print_the_documented_json(make_devices):
    a, b = make_devices(2)
    shown, joined = await link(a, b)

    assert [e["event"] for e in shown] == ["link", "code", "linked"]
    offer, code, linked = shown
    assert set(offer) == {"event", "uri", "expires_at"} and offer["uri"].startswith("walletsync:link?")
    assert isinstance(offer["expires_at"], int)
    assert set(code) == {"event", "code"} and len(digits := code["code"].replace(" ", "")) == 6 and digits.isdigit()
    assert set(linked) == {"event", "device"} and set(linked["device"]) == DEVICE_KEYS
    assert linked["device"]["name"] == "b" and linked["device"]["this_device"] is False

    assert [e["event"] for e in joined] == ["code", "joined"]
    assert joined[0]["code"] == code["code"]  # both devices show the same code
    assert all(set(d) == DEVICE_KEYS for d in joined[1]["devices"])
    assert {d["id"] for d in joined[1]["devices"]} == {a.me()["id"], linked["device"]["id"]}

    for device in (a, b):
        listed = device.json("devices")
        assert len(listed) == 2 and all(set(d) == DEVICE_KEYS for d in listed)
        assert [d["this_device"] for d in listed] == [True, False]  # this device first
        status = device.json("sync")
        assert set(status) == {"devices", "pending"} and isinstance(status["pending"], int)
        assert all(set(d) == DEVICE_KEYS for d in status["devices"])


async def test_without_a_terminal_or_yes_link_and_join_refuse(make_devices):
    """Nobody could compare the codes: both refuse before touching the relay (no link is shown)."""
    a, b = make_devices(2)
    code, printed, _ = await a.feed("devices", "link", "--json", stdin="")
    assert code != 0 and printed == [{"error": {"code": "no_confirmation", "message": printed[0]["error"]["message"]}}]
    link_text = f"walletsync:link?v=1&secret={'A' * 43}&relay={b.relay_url}&expires=4102444800\n"
    code, printed, _ = await b.feed("devices", "join", "--json", stdin=link_text)
    assert code != 0 and printed[0]["error"]["code"] == "no_confirmation"
    assert len(printed) == 1
