"""The watch list and its labels are shared by the user's devices: an address watched, relabelled or removed on one
device is so on the other after a sync; concurrent relabels end with one label on both."""

from __future__ import annotations

import pytest

from tests.balances.conftest import FRIEND, STRANGER
from tests.devices.conftest import link, make_devices, relay, settle

__all__ = ["make_devices", "relay"]  # the fixtures: devices of one group on one relay


def watched(device) -> list[tuple[str, str | None, list[str]]]:
    return [(w["address"], w["label"], w["chains"]) for w in device.json("watch")]


@pytest.mark.timeout(240)
async def test_the_watch_list_follows_the_user_across_devices(make_devices):
    a, b = make_devices(2)
    a.json("watch", "add", FRIEND, "--label", "friend", "--chains", "1,137")  # before the group: shared on linking
    await link(a, b)
    a.json("watch", "add", STRANGER, "--chains", "8453")
    settle(a, b, view=watched)
    assert (
        watched(b)
        == watched(a)
        == [
            (FRIEND, "friend", ["eip155:1", "eip155:137"]),
            (STRANGER, None, ["eip155:8453"]),
        ]
    )

    a.json("watch", "add", FRIEND, "--label", "from-a")  # each device offline from the other
    b.json("watch", "add", FRIEND, "--label", "from-b")  # later
    b.json("watch", "remove", STRANGER)
    settle(a, b, view=watched)
    assert watched(a) == watched(b) == [(FRIEND, "from-b", ["eip155:1", "eip155:137"])]

    a.json("watch", "add", STRANGER, "--label", "back")  # watching again after a removal works (anew: on Ethereum,
    settle(a, b, view=watched)  # as no session has accounts on another chain)
    assert watched(b)[-1] == (STRANGER, "back", ["eip155:1"])
