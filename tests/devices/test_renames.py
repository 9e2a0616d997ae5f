"""Renames made apart: the same session renamed on two devices while each was offline ends with one name on both."""

from __future__ import annotations

import pytest

from tests.companion.conftest import paired
from tests.devices.conftest import link, settle


@pytest.mark.timeout(240)
async def test_concurrent_renames_end_with_the_same_winner_on_both_devices(make_devices):
    a, b = make_devices(2)
    await link(a, b)
    session, phone = await paired(a, "--auto-approve", name="desk")
    await phone.close()
    topic = session["topic"]
    settle(a, b)
    assert b.session_names() == {topic: "desk"}

    a.json("rename", "desk", "from-a")  # no process of B runs
    b.json("rename", "desk", "from-b")  # later, and without having heard of A's rename
    assert (a.session_names(), b.session_names()) == ({topic: "from-a"}, {topic: "from-b"})

    settle(a, b)
    assert a.session_names() == b.session_names() == {topic: "from-b"}  # the later rename wins, everywhere
    assert settle(a, b) == 1  # stable: another round changes nothing
    assert a.session_names() == b.session_names() == {topic: "from-b"}
