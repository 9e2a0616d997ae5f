"""Hypothesis drives a dapp and a wallet engine with random interleavings.

Deliveries happen in any order, some twice; the clock jumps; either side pings,
extends, updates, emits, answers or deletes at any point; the dapp restarts from
what a store keeps of it (export → restore). Whatever happens, the
invariants a user relies on hold: no session without a settle, every request
answered at most once, duplicates change nothing, an ended session stays ended.
"""

from __future__ import annotations

import copy
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.protocol.conftest import ACCOUNT, GRANTED, NOW, REQUESTED, make_pair, settle
from walletsync.protocol import events as ev
from walletsync.protocol.engine import SignEngine
from walletsync.protocol.errors import ProtocolError, UnknownTarget
from walletsync.protocol.jsonrpc import sdk_error
from walletsync.protocol.relay_rpc import Publish

NARROWED = {
    "eip155": {"chains": ["eip155:1"], "accounts": [ACCOUNT], "methods": ["personal_sign"], "events": ["chainChanged"]}
}
SIDES = st.sampled_from(["dapp", "wallet"])


class TwoEngines(RuleBasedStateMachine):
    @initialize(handshake=st.sampled_from(["relay", "legacy"]), seed=st.integers(0, 2**16), settled=st.booleans())
    def start(self, handshake, seed, settled):
        self.relay = make_pair(handshake, seed)
        self.now = NOW
        self.uris: list[str] = []
        self.delivered: set[tuple[str, str, str]] = set()
        if settled:  # half the runs start from a live session, so later steps reach deep states
            settle(self.relay, self.now)

    # --- helpers ------------------------------------------------------------------------

    def attempt(self, side, method, *args, **kwargs):
        """Run an intent; a refusal must be a ProtocolError and must leave nothing half-done."""
        calls_before = len(self.relay.calls[side])
        try:
            self.relay.do(side, method, *args, **kwargs)
        except ProtocolError:
            assert len(self.relay.calls[side]) == calls_before

    def pick(self, data, items, label):
        items = sorted(items)
        return data.draw(st.sampled_from(items), label=label) if items else None

    # --- rules ----------------------------------------------------------------------------

    @precondition(lambda self: len(self.uris) < 3)
    @rule()
    def dapp_connects(self):
        self.relay.do("dapp", "connect", self.now, optional_namespaces=REQUESTED)
        self.uris.append(str(self.relay.last("dapp", ev.PairingCreated).uri))

    @precondition(lambda self: self.uris)
    @rule(data=st.data())
    def wallet_pairs(self, data):
        self.attempt("wallet", "pair", data.draw(st.sampled_from(self.uris)), self.now)

    @rule(data=st.data(), approve=st.booleans())
    def wallet_answers_proposal(self, data, approve):
        proposal_id = self.pick(data, self.relay.engines["wallet"].received_proposals, "proposal")
        if proposal_id is not None:
            if approve:
                self.attempt("wallet", "approve", proposal_id, GRANTED, self.now)
            else:
                self.attempt("wallet", "reject", proposal_id, self.now)

    @precondition(lambda self: self.relay.in_flight)
    @rule(data=st.data(), duplicate=st.booleans())
    def relay_delivers(self, data, duplicate):
        index = data.draw(st.integers(0, len(self.relay.in_flight) - 1), label="delivery")
        delivery = self.relay.in_flight[index]
        key = (delivery.client, delivery.topic, delivery.message)
        actions = self.relay.deliver(index, self.now, keep=duplicate)
        if key in self.delivered:
            # a duplicate changes nothing; at most it is refused because its topic is gone
            assert all(isinstance(a, ev.MessageRejected) and isinstance(a.error, UnknownTarget) for a in actions), (
                actions
            )
        self.delivered.add(key)

    @precondition(lambda self: self.relay.in_flight)
    @rule()
    def relay_flushes(self):
        """The common case: everything arrives, in order."""
        while self.relay.in_flight:
            delivery = self.relay.in_flight[0]
            self.delivered.add((delivery.client, delivery.topic, delivery.message))
            self.relay.deliver(0, self.now)

    @rule()
    def dapp_restarts(self):
        """A new dapp engine from what the companion's store keeps: sessions, pairings, proposals, its signing
        requests and the replay memory (not pings or extends in flight: their late answers are refused).
        Everything the old engine was handed before is a duplicate to the new one."""
        old = self.relay.engines["dapp"]
        new = SignEngine(old.metadata, old._random, handshake=old.handshake)
        kept = [r for r in old.requests.values() if r.wire_method == "wc_sessionRequest"]
        actions = new.restore(
            sessions=copy.deepcopy(list(old.sessions.values())),
            pairings=copy.deepcopy(list(old.pairings.values())),
            sent_proposals=copy.deepcopy(list(old.sent_proposals.values())),
            requests=copy.deepcopy(kept),
            replay=old.replay_memory(),
        )
        assert new.topics() == old.topics() and {a.topic for a in actions} == new.topics()
        for client, topic, message in sorted(self.delivered):
            if client == "dapp":
                replayed = new.receive(topic, message, self.now)
                refused = all(
                    isinstance(a, ev.MessageRejected) and isinstance(a.error, UnknownTarget) for a in replayed
                )
                assert refused, replayed
        self.relay.engines["dapp"] = new

    @rule(seconds=st.sampled_from([1, 1, 1, 5, 30, 30, 301, 901, 3 * 86400, 8 * 86400]))
    def time_passes(self, seconds):
        self.now += seconds

    @rule(side=SIDES)
    def clock_fires(self, side):
        self.relay.do(side, "expire", self.now)

    @rule(data=st.data(), expiry=st.sampled_from([300, 900]))
    def dapp_requests(self, data, expiry):
        topic = self.pick(data, self.relay.engines["dapp"].sessions, "session")
        if topic:
            self.attempt(
                "dapp", "request", topic, "eip155:1", "personal_sign", ["0x00", ACCOUNT], self.now, expiry=expiry
            )

    @rule(data=st.data(), reject=st.booleans(), late=st.booleans())
    def wallet_responds(self, data, reject, late):
        wallet = self.relay.engines["wallet"]
        key = self.pick(data, [k for k, r in wallet.requests.items() if r.direction == "incoming"], "request")
        if key:
            answer = {"error": sdk_error("USER_REJECTED")} if reject else {"result": "0xsig"}
            self.attempt("wallet", "respond", key[0], key[1], self.now, allow_late=late, **answer)

    @rule()
    def wallet_signs_everything_then_flushes(self):
        wallet = self.relay.engines["wallet"]
        for topic, request_id in [k for k, r in wallet.requests.items() if r.direction == "incoming"]:
            self.attempt("wallet", "respond", topic, request_id, self.now, result="0xsig")
        self.relay_flushes()

    @rule(data=st.data(), side=SIDES, action=st.sampled_from(["ping", "extend", "disconnect"]))
    def either_side_acts(self, data, side, action):
        topic = self.pick(data, self.relay.engines[side].sessions, "session")
        if topic:
            self.attempt(side, action, topic, self.now)

    @rule(data=st.data(), narrow=st.booleans())
    def wallet_updates_or_emits(self, data, narrow):
        topic = self.pick(data, self.relay.engines["wallet"].sessions, "session")
        if topic:
            self.attempt("wallet", "update", topic, NARROWED if narrow else GRANTED, self.now)
            self.attempt("wallet", "emit", topic, "eip155:1", "chainChanged", 1, self.now)

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def no_session_without_settle(self):
        settled = {e.session.topic for e in self.relay.events["dapp"] if isinstance(e, ev.SessionSettled)}
        assert set(self.relay.engines["dapp"].sessions) <= settled

    @invariant()
    def ended_sessions_stay_ended(self):
        for side in ("dapp", "wallet"):
            ended = {e.topic for e in self.relay.events[side] if isinstance(e, (ev.SessionDeleted, ev.SessionExpired))}
            assert not ended & set(self.relay.engines[side].sessions)

    @invariant()
    def each_request_answered_at_most_once(self):
        outcomes = Counter(
            (e.topic, e.id) for e in self.relay.events["dapp"] if isinstance(e, (ev.RequestAnswered, ev.RequestFailed))
        )
        assert all(n == 1 for n in outcomes.values()), outcomes
        responses = Counter(
            c.extra["correlationId"] for c in self.relay.calls["wallet"] if isinstance(c, Publish) and c.tag == 1109
        )
        assert all(n == 1 for n in responses.values()), responses

    @invariant()
    def both_sides_agree_on_shared_sessions(self):
        dapp, wallet = self.relay.engines["dapp"], self.relay.engines["wallet"]
        for topic in set(dapp.sessions) & set(wallet.sessions):
            assert dapp.sessions[topic].sym_key == wallet.sessions[topic].sym_key
            assert wallet.sessions[topic].is_controller and not dapp.sessions[topic].is_controller


TwoEngines.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_two_engines = TwoEngines.TestCase
