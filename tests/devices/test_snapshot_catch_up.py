"""A device away longer than the relay keeps changes catches up from the snapshot a member published."""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.companion.conftest import paired
from tests.devices.conftest import link, until

SYNC_TTL = 10
"""The relay's shortest TTL (its default limits): A's changes are gone from it 10 s after A published them."""


@pytest.mark.timeout(300)
async def test_a_device_offline_past_the_change_ttl_catches_up_from_a_snapshot(make_devices, relay):
    a, b = make_devices(2)
    await link(a, b)
    (a.home / "config.json").write_text(json.dumps({"sync_ttl": SYNC_TTL}))
    session, phone = await paired(a, "--auto-approve", name="desk")
    await phone.close()
    topic = session["topic"]
    for n in range(1, 5):  # B has never run since it joined
        a.json("rename", f"desk-{n - 1}" if n > 1 else "desk", f"desk-{n}")
    a.json("sync")  # publishes the changes (10 s) and a snapshot (30 days)
    published_by = time.time()

    # every change A published has expired on the relay: past its TTL by the relay's own clock
    await until(lambda: time.time() > published_by + SYNC_TTL + 1, timeout=SYNC_TTL + 5, what="the changes' TTL")
    relay.process.kill(signal.SIGTERM)
    now_ms = int(time.time() * 1000)
    short = relay.rows("SELECT expires_at FROM mailbox WHERE tag = 7700 AND expires_at - published_at <= ?", 10_000)
    assert short and all(expires_at <= now_ms for (expires_at,) in short), "A's changes are still on the relay"
    relay.process = relay.start("sqlite", port=relay.process.port)

    assert b.session_names() == {}  # B has not heard of the session yet
    b.json("sync")
    assert b.session_names() == {topic: "desk-4"}
    b.json("sync")
    assert b.session_names() == {topic: "desk-4"}
