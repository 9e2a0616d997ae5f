"""A companion opened offline (``sessions --offline``, ``rename``, ``audit``) gives its engine only the sessions with
something to expire; what it lists is what loading every session gave: a session past its expiry and a request past
its own are marked expired (and audited) on opening, the others are untouched."""

from __future__ import annotations

import os

from walletsync.protocol.state import PendingRequest, Session
from walletsync.service import Companion, Config

NOW = 1_800_000_000


def _session(n: int, expiry: int) -> Session:
    return Session(
        topic=f"{n:02x}" * 32,
        sym_key=os.urandom(32),
        pairing_topic=os.urandom(32).hex(),
        self_public_key="aa" * 32,
        peer_public_key="bb" * 32,
        peer_metadata={"name": f"Wallet {n}"},
        controller_public_key="bb" * 32,
        namespaces={"eip155": {"chains": ["eip155:1"], "accounts": [], "methods": ["personal_sign"], "events": []}},
        expiry=expiry,
        is_controller=False,
        acknowledged=True,
    )


async def test_an_offline_companion_expires_what_is_due_and_leaves_the_rest(tmp_path):
    config = Config(data_dir=str(tmp_path / "data"))
    first = await Companion.open(config, offline=True, clock=lambda: NOW)
    past, live, asked = _session(1, NOW + 60), _session(2, NOW + 7200), _session(3, NOW + 7200)
    with first.db.transaction():
        for n, s in enumerate((past, live, asked)):
            first.db.save_session(s, name=f"s{n}", now=NOW)
        first.db.save_request(
            PendingRequest(asked.topic, 7, "wc_sessionRequest", "outgoing", NOW + 300, "personal_sign", ["0x", "0x"]),
            now=NOW,
        )
    await first.close()

    later = NOW + 600  # the first session's expiry and the request's have passed
    companion = await Companion.open(config, offline=True, clock=lambda: later)
    try:
        assert set(companion.engine.sessions) == {asked.topic}  # loaded for its request; the expired one dropped
        statuses = {s.name: s.status for s in companion.sessions()}
        assert statuses == {"s0": "expired", "s1": "active", "s2": "active"}
        assert [(r.id, r.status) for r in companion.requests("s2")] == [(7, "expired")]
        kinds = [(e.kind, e.session) for e in companion.audit_entries()]
        assert ("session_expired", past.topic) in kinds
    finally:
        await companion.close()
