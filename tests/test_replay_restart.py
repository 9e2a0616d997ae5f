"""Replay protection survives a restart: the engine's replay memory, exported and restored (issue #9, item 10).

The pure tests restart a dapp engine through export → restore; the last one restarts
the companion itself on its data dir, with a real relay process and a Python wallet,
and hands the restarted companion envelopes it had handled before.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib

from tests.companion.test_service import Clock, companion_with_wallet
from tests.protocol.conftest import ACCOUNT, GRANTED, NOW, make_pair, settle
from walletsync.protocol import events as ev
from walletsync.protocol.engine import SignEngine
from walletsync.protocol.relay_rpc import MessageData, Publish
from walletsync.service import Companion, Config

NARROWED = {"eip155": {"chains": ["eip155:1"], "accounts": [ACCOUNT], "methods": ["personal_sign"], "events": []}}


def restarted(old: SignEngine, *, replay: bool = True) -> SignEngine:
    """A new engine given what a store keeps of ``old`` (copies, as a database round trip would make)."""
    new = SignEngine(old.metadata, old._random, handshake=old.handshake)
    stored_requests = [r for r in old.requests.values() if r.wire_method == "wc_sessionRequest"]
    new.restore(
        sessions=copy.deepcopy(list(old.sessions.values())),
        pairings=copy.deepcopy(list(old.pairings.values())),
        sent_proposals=copy.deepcopy(list(old.sent_proposals.values())),
        requests=copy.deepcopy(stored_requests),
        replay=old.replay_memory() if replay else None,
    )
    return new


def published(relay, side: str, tag: int) -> Publish:
    return [c for c in relay.calls[side] if isinstance(c, Publish) and c.tag == tag][-1]


def test_an_older_update_after_a_restart_is_refused_and_a_handled_one_is_a_duplicate():
    relay = make_pair()
    topic = settle(relay)
    relay.do("wallet", "update", topic, NARROWED, NOW)
    older = published(relay, "wallet", 1104)  # held back: delivered only after the restart
    relay.in_flight.clear()
    relay.do("wallet", "update", topic, GRANTED, NOW + 1)
    newer = published(relay, "wallet", 1104)
    relay.run(NOW + 1)
    assert relay.engines["dapp"].sessions[topic].namespaces == GRANTED

    dapp = relay.engines["dapp"] = restarted(relay.engines["dapp"])
    assert dapp.receive(topic, newer.message, NOW + 2) == []  # handled before the restart: a duplicate
    refused = dapp.receive(topic, older.message, NOW + 2)
    assert [type(a) for a in refused] == [Publish, ev.MessageRejected]
    assert "older than one already applied" in str(refused[1].error)
    assert dapp.sessions[topic].namespaces == GRANTED


def test_without_the_replay_memory_a_restart_would_roll_back():
    """The control: what the memory prevents really happens without it."""
    relay = make_pair()
    topic = settle(relay)
    relay.do("wallet", "update", topic, NARROWED, NOW)
    older = published(relay, "wallet", 1104)
    relay.in_flight.clear()
    relay.do("wallet", "update", topic, GRANTED, NOW + 1)
    relay.run(NOW + 1)
    dapp = restarted(relay.engines["dapp"], replay=False)
    assert any(isinstance(a, ev.SessionUpdated) for a in dapp.receive(topic, older.message, NOW + 2))
    assert dapp.sessions[topic].namespaces == NARROWED


def test_replay_changes_are_what_is_new_and_survive_the_end_of_a_session():
    relay = make_pair()
    topic = settle(relay)
    dapp = relay.engines["dapp"]
    dapp.take_replay_changes()
    relay.do("wallet", "disconnect", topic, NOW)
    delete = published(relay, "wallet", 1112)
    relay.run(NOW)
    assert topic not in dapp.sessions
    changes = dapp.take_replay_changes()
    assert len(changes.seen[topic]) == 1 and len(changes.handled_ids[topic]) == 1  # the delete that ended it
    assert changes.seen[topic][0] == hashlib.sha256(delete.message.encode()).hexdigest()
    assert not dapp.take_replay_changes()


def test_restore_reports_the_topics_gained_and_lost():
    relay = make_pair()
    topic = settle(relay)
    dapp = relay.engines["dapp"]
    fresh = SignEngine(dapp.metadata, dapp._random)
    gained = fresh.restore(sessions=list(dapp.sessions.values()), pairings=list(dapp.pairings.values()))
    assert {a.topic for a in gained} == dapp.topics() and all(type(a).__name__ == "Subscribe" for a in gained)
    lost = fresh.restore(sessions=[], pairings=[])
    assert {a.topic for a in lost} == dapp.topics() and all(type(a).__name__ == "Unsubscribe" for a in lost)
    assert topic not in fresh.sessions


async def test_a_restarted_companion_refuses_replays_of_what_it_handled(start_relay, tmp_path):
    """The phone narrows the session, widens it again and extends it; the companion restarts; the relay (or anyone)
    pushes the narrowing and the extend again. The namespaces stay widened and nothing is journaled twice."""
    relay = start_relay("memory")
    home = tmp_path / "home"
    companion, wallet, session = await companion_with_wallet(relay.url, home, Clock())
    topic = session.topic
    wide = companion.resolve(topic).namespaces
    narrow = {"eip155": {**wide["eip155"], "methods": []}}
    try:
        captured = []
        for namespaces in (narrow, wide):
            actions = wallet.engine.update(topic, namespaces, wallet.now())
            captured.append(next(a for a in actions if isinstance(a, Publish)))
            await wallet.run(actions)
            await _until(lambda: companion.resolve(topic).namespaces == namespaces)
        actions = wallet.engine.extend(topic, wallet.now())
        captured.append(next(a for a in actions if isinstance(a, Publish)))
        await wallet.run(actions)
        await _until(lambda: "session_extended" in [e.kind for e in companion.audit_entries()])
    finally:
        await companion.close()

    companion = await Companion.open(Config(data_dir=str(home), relay=relay.url))
    try:
        await companion.start()
        await companion.online()
        before = [e.kind for e in companion.audit_entries()]
        for publish in (captured[0], captured[2]):  # the older update, the extend: as a relay push would bring them
            pushed = MessageData(topic, publish.message, int(wallet.now() * 1000), publish.tag)
            companion.runner.client.inbox.put_nowait(pushed)
        await companion.sync()
        assert companion.resolve(topic).namespaces == wide
        assert [e.kind for e in companion.audit_entries()] == before
        assert before.count("session_updated") == 2 and before.count("session_extended") == 1
    finally:
        await wallet.close()
        await companion.close()


async def _until(check, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)
