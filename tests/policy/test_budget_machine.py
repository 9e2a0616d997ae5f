"""Hypothesis: whatever the sequence of reserves, approvals, rejections and clock moves, no cap is overshot.

A model of the store (the uses, each reserved, spent or released) drives :func:`evaluate` exactly as the gate
does: a request is reserved only when evaluate says so. Two sessions, a cap on each session and a cap on
all sessions together. Invariants, at every step, for every scope:
- what counts now (spent, plus reserved and not yet expired) fits under the cap;
- what was spent on answers that came in time, among the uses of the last 24 h, fits under the cap.
An approval after its request expired (a late answer) is allowed too, and is the documented exception:
the overshoot is at most what such late answers spent.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from walletsync.decode.model import NATIVE, ChainRef, Decoded, Effect
from walletsync.policy.evaluate import DAY, Request, Reservation, Use, evaluate
from walletsync.policy.model import ALL, NativeCap, Policies, Policy

SESSIONS = ("aa" * 32, "bb" * 32)
KEY = ("eip155:1", NATIVE)
ETHER = 10**18
SESSION_CAP, ALL_CAP = 10 * ETHER, 15 * ETHER
POLICIES = Policies(
    Policy(native_caps=(NativeCap("*", "15"),)),
    {SESSIONS[0]: Policy(native_caps=(NativeCap("eip155:1", "10"),))},
)


def sending(session: str, amount: int) -> Request:
    effect = Effect("send", "eip155:1", NATIVE, amount, "0x" + "11" * 20)
    decoded = Decoded("transaction", "send", ChainRef("eip155:1", None, None), effects=(effect,))
    return Request(session, "eth_sendTransaction", "eip155:1", decoded)


class Budgets(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.now = 1_700_000_000
        self.uses: list[Use] = []
        self.late: set[int] = set()

    @rule(session=st.sampled_from(SESSIONS), halves=st.integers(1, 24), wei=st.integers(0, 1), ttl=st.integers(60, DAY))
    def reserve(self, session: str, halves: int, wei: int, ttl: int) -> None:
        amount = halves * ETHER // 2 - wei  # whole halves (and one wei less): the caps are met exactly, or nearly
        verdict = evaluate(POLICIES, sending(session, amount), self.uses, self.now)
        if isinstance(verdict, Reservation):
            self.uses.append(Use(session, self.now, self.now + ttl, "reserved", verdict.amounts))

    def _live(self) -> list[int]:
        return [i for i, u in enumerate(self.uses) if u.state == "reserved" and u.expiry > self.now]

    @precondition(lambda self: self._live())
    @rule(data=st.data(), approved=st.booleans())
    def answer(self, data: st.DataObject, approved: bool) -> None:
        index = data.draw(st.sampled_from(self._live()))
        use = self.uses[index]
        self.uses[index] = Use(use.session, use.at, use.expiry, "spent" if approved else "released", use.amounts)

    @precondition(lambda self: any(u.state == "reserved" and u.expiry <= self.now for u in self.uses))
    @rule(data=st.data())
    def answer_late(self, data: st.DataObject) -> None:
        expired = [i for i, u in enumerate(self.uses) if u.state == "reserved" and u.expiry <= self.now]
        index = data.draw(st.sampled_from(expired))
        use = self.uses[index]
        self.uses[index] = Use(use.session, use.at, use.expiry, "spent", use.amounts)
        self.late.add(index)

    @rule(seconds=st.sampled_from([1, 60, 299, 300, 3600, DAY // 2, DAY - 1, DAY, 2 * DAY]))
    def wait(self, seconds: int) -> None:
        self.now += seconds

    def _scopes(self) -> list[tuple[str, int]]:
        return [(SESSIONS[0], SESSION_CAP), (ALL, ALL_CAP)]

    def _in(self, scope: str) -> list[tuple[int, Use]]:
        return [(i, u) for i, u in enumerate(self.uses) if scope == ALL or u.session == scope]

    @invariant()
    def what_counts_fits_under_each_cap(self) -> None:
        for scope, cap in self._scopes():
            counted = sum(u.amounts.get(KEY, 0) for _, u in self._in(scope) if u.counts_amounts(self.now))
            late = sum(
                u.amounts.get(KEY, 0) for i, u in self._in(scope) if i in self.late and u.counts_amounts(self.now)
            )
            assert counted <= cap + late

    @invariant()
    def what_was_spent_in_time_in_any_24_h_fits_under_each_cap(self) -> None:
        for scope, cap in self._scopes():
            spent = sum(
                u.amounts.get(KEY, 0)
                for i, u in self._in(scope)
                if u.state == "spent" and i not in self.late and u.at > self.now - DAY
            )
            assert spent <= cap


Budgets.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestBudgets = Budgets.TestCase
