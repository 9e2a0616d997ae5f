"""Whether a request may go to the phone under the policies, and what it reserves if it may.

:func:`evaluate` is the whole rule: it takes the policies, the request (its method, chain and what decoding
says it does), what was already used (:class:`Use`, one per request let through) and ``now``, and returns a
:class:`Refusal` (a stable ``rule`` and a message for people) or a :class:`Reservation` (the amounts to hold
until the phone answers). Reserving it atomically with the check is the store's job; this module only judges.

What counts:
- the native value a transaction sends (its ``value``; gas is not counted), per chain in that chain's currency;
- per token, what the decoded effects send, approve or permit (an ``approve`` and a permit count the
  allowance they grant, whatever was approved before); an unlimited approval (and ``setApprovalForAll``) is
  refused unless every applying policy allows unlimited approvals, and never fits under a cap on that token;
- a use counts for 24 h from when it was reserved, while it is spent (the phone approved) or still reserved
  and its request not yet expired; a rejection, an error or an expiry without an answer uses nothing.
- requests per hour count every request let through to the phone, whatever its answer.

The allowlist applies to every address value may reach: the recipient of a native transfer and of a token
transfer (inside the calldata, not the token contract), and the spender or operator of an approval or permit
(an approved spender can move the tokens anywhere). A call walletsync cannot read must have its target on the
allowlist, and may not touch a capped token. A method walletsync cannot read at all is refused by any policy
that counts value (caps, an allowlist, or unlimited approvals not allowed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from walletsync.chains.model import Lookup, NoRegistry
from walletsync.decode.amounts import format_amount
from walletsync.decode.model import (
    NATIVE,
    OVER_CAP,
    RECIPIENT_NOT_ALLOWED,
    UNKNOWN_FUNCTION,
    Call,
    Decoded,
    Effect,
    RequestWarning,
)
from walletsync.policy.model import ALL, EVERY_CHAIN, Policies, Policy, TokenCap, floor_amount

HOUR, DAY = 3600, 86400
MAX_ASSETS = 16
"""Distinct assets one request may move; more is refused by any policy (and only so many are recorded)."""

# The rules: stable names, part of the JSON contract (``{"error": {"code": "policy_refused", "rule": …}}``);
# ``recipient_not_allowed`` is also the warning code decoding uses.
POLICY_UNATTESTED = "policy_unattested"
CHAIN_NOT_ALLOWED = "chain_not_allowed"
METHOD_NOT_ALLOWED = "method_not_allowed"
RATE_LIMIT = "rate_limit"
UNREADABLE_REQUEST = "unreadable_request"
UNLIMITED_APPROVAL = "unlimited_approval"
NATIVE_CAP = "native_cap"
TOKEN_CAP = "token_cap"

HARMLESS_METHODS = frozenset(
    {
        "eth_accounts",
        "eth_chainId",
        "eth_requestAccounts",
        "wallet_addEthereumChain",
        "wallet_getCallsStatus",
        "wallet_getCapabilities",
        "wallet_switchEthereumChain",
        "wallet_watchAsset",
    }
)
"""Methods that sign nothing and move nothing: no policy needs to read them (chains, methods and the rate
still apply)."""

Key = tuple[str, str]
"""``(chain id, asset)``: what an amount is of; the asset is :data:`NATIVE` or a token's checksummed address."""


@dataclass(frozen=True)
class Request:
    """A request as policies see it. ``decoded`` is None when walletsync cannot read the method at all."""

    session: str
    method: str
    chain_id: str
    decoded: Decoded | None


@dataclass(frozen=True)
class Use:
    """One request let through to the phone: what it reserved, and how that ended so far."""

    session: str
    at: int
    expiry: int
    """When its request expires unanswered: until then a reservation counts."""
    state: Literal["reserved", "spent", "released"]
    amounts: Mapping[Key, int] = field(default_factory=dict)

    def counts_amounts(self, now: int) -> bool:
        """Whether its amounts count against a cap at ``now``."""
        if self.at <= now - DAY:
            return False
        return self.state == "spent" or (self.state == "reserved" and self.expiry > now)

    def counts_request(self, now: int) -> bool:
        """Whether it counts against a per-hour request limit at ``now``."""
        return self.at > now - HOUR


@dataclass(frozen=True)
class Refusal:
    """The request may not go to the phone: ``rule`` (stable) and ``message`` (for people, says what to do)."""

    rule: str
    message: str
    scope: str
    """:data:`~walletsync.policy.model.ALL` or the session topic whose policy refused it."""


@dataclass(frozen=True)
class Reservation:
    """The request may go: hold these amounts until the phone answers."""

    amounts: Mapping[Key, int]


def evaluate(
    policies: Policies, request: Request, used: Sequence[Use], now: int, lookup: Lookup | None = None
) -> Refusal | Reservation:
    """The first refusal of the applying policies (rules in a fixed order), else what to reserve.

    ``used``: the uses of the last 24 h, of every session (each scope counts its own).
    """
    reading = _Reading.of(request)
    for refusal in _refusals(policies, request, reading, used, now, lookup or NoRegistry()):
        return refusal
    amounts = dict(list(reading.amounts.items())[:MAX_ASSETS])
    return Reservation(amounts)


def warnings(
    policies: Policies, request: Request, used: Sequence[Use], now: int, lookup: Lookup | None = None
) -> tuple[RequestWarning, ...]:
    """The policy's warnings on a decoded request (``over_cap``, ``recipient_not_allowed``): for ``decode`` and the
    request screen, through :meth:`Decoded.warned`. Each distinct message once."""
    codes = {NATIVE_CAP: OVER_CAP, TOKEN_CAP: OVER_CAP, RECIPIENT_NOT_ALLOWED: RECIPIENT_NOT_ALLOWED}
    found: dict[str, RequestWarning] = {}
    for refusal in _refusals(policies, request, _Reading.of(request), used, now, lookup or NoRegistry()):
        if refusal.rule in codes:
            found.setdefault(refusal.message, RequestWarning(codes[refusal.rule], refusal.message))
    return tuple(found.values())


# --- what a request does, as policies count it ------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    readable: bool
    amounts: dict[Key, int]
    """Native value and finite token amounts (sent + approved + permitted), per chain and asset."""
    unlimited: tuple[Effect, ...]
    parties: tuple[tuple[str, str | None], ...]
    """``(role, address)`` every address value may reach; None: a contract being created."""
    unread: tuple[str, ...]
    """Targets of calls walletsync could not read."""

    @classmethod
    def of(cls, request: Request) -> _Reading:
        decoded = request.decoded
        if decoded is None:
            return cls(False, {}, (), (), ())
        amounts: dict[Key, int] = {}
        unlimited: list[Effect] = []
        parties: list[tuple[str, str | None]] = []
        native_sent = 0
        for effect in decoded.effects:
            parties.append((_ROLE[effect.kind], effect.counterparty))
            if effect.amount is None:
                if effect.kind != "send":
                    unlimited.append(effect)
                continue
            if effect.asset == NATIVE:
                native_sent += effect.amount if effect.kind == "send" else 0
                continue
            if effect.kind in ("send", "approve", "permit"):
                key = (effect.chain_id, effect.asset)
                amounts[key] = amounts.get(key, 0) + effect.amount
        calls = list(_walk(decoded.calls))
        value = sum(c.value for c in decoded.calls)
        for call in calls:
            if call.value > 0:
                parties.append(("recipient", call.to))
        native = max(native_sent, value)
        if native:
            amounts = {(request.chain_id, NATIVE): native, **amounts}
        unread = [c.to for c in calls if c.to is not None and _unread(c)]
        if any(w.code == UNKNOWN_FUNCTION for w in decoded.warnings) and not unread:
            unread = [c.to for c in calls if c.to is not None and c.selector is not None]
        return cls(True, amounts, tuple(unlimited), tuple(dict.fromkeys(parties)), tuple(dict.fromkeys(unread)))


def _unread(call: Call) -> bool:
    """Whether decoding did not read this call's effects: a function outside its table of known functions, even
    one a selector list names (``permitTransferFrom``), or one whose arguments did not decode."""
    from walletsync.decode.functions import FUNCTIONS

    if call.selector is None:
        return False
    return call.function is None or call.selector.lower() not in FUNCTIONS


_NOUN = {"approve": "approval", "permit": "permit", "approve_all": "approval", "send": "transfer"}
_ROLE = {"send": "recipient", "approve": "spender", "permit": "spender", "approve_all": "operator"}


def _walk(calls: Sequence[Call], depth: int = 0) -> Iterator[Call]:
    for call in calls:
        yield call
        if depth < 16:
            yield from _walk(call.calls, depth + 1)


# --- the rules, in the order they are checked ---------------------------------------------------------------


def _refusals(
    policies: Policies, request: Request, reading: _Reading, used: Sequence[Use], now: int, lookup: Lookup
) -> Iterator[Refusal]:
    applying = policies.applying(request.session)
    if not applying:
        return
    words = _Words(lookup, request.chain_id)
    for scope, policy in applying:
        if policy.chains is not None and request.chain_id not in policy.chains:
            allowed = ", ".join(sorted(policy.chains)) or "none"
            yield Refusal(
                CHAIN_NOT_ALLOWED, f"{_whose(scope)} allows only the chains {allowed}, not {words.chain}", scope
            )
    for scope, policy in applying:
        if policy.methods is not None and request.method not in policy.methods:
            allowed = ", ".join(sorted(policy.methods)) or "none"
            yield Refusal(
                METHOD_NOT_ALLOWED, f"{_whose(scope)} allows only the methods {allowed}, not {request.method}", scope
            )
    for scope, policy in applying:
        if policy.max_requests_per_hour is not None:
            count = sum(1 for u in _in_scope(used, scope) if u.counts_request(now))
            if count >= policy.max_requests_per_hour:
                yield Refusal(
                    RATE_LIMIT,
                    f"{_whose(scope)} allows {policy.max_requests_per_hour} requests an hour, and {count} went "
                    "to the phone in the last hour: wait, or change the policy",
                    scope,
                )
    yield from _readable(applying, request, reading)
    yield from _unlimited(applying, reading, words)
    yield from _allowlist(applying, reading)
    yield from _native_caps(applying, request, reading, used, now, words)
    yield from _token_caps(applying, reading, used, now)


def _readable(applying: list[tuple[str, Policy]], request: Request, reading: _Reading) -> Iterator[Refusal]:
    if request.method in HARMLESS_METHODS:
        return
    for scope, policy in applying:
        if not policy.counts_value:
            continue
        if not reading.readable:
            yield Refusal(
                UNREADABLE_REQUEST,
                f"walletsync cannot read what {request.method} would do, and {_whose(scope)} limits value "
                "(caps, recipients or unlimited approvals): it refuses what it cannot count",
                scope,
            )
        elif len(reading.amounts) > MAX_ASSETS:
            yield Refusal(
                UNREADABLE_REQUEST,
                f"the request moves more than {MAX_ASSETS} different assets: too many to count",
                scope,
            )


def _unlimited(applying: list[tuple[str, Policy]], reading: _Reading, words: _Words) -> Iterator[Refusal]:
    for effect in reading.unlimited:
        what = (
            f"an approval of every token of {words.asset(effect.chain_id, effect.asset)}"
            if effect.kind == "approve_all"
            else f"an unlimited {_NOUN[effect.kind]} of {words.asset(effect.chain_id, effect.asset)}"
        )
        for scope, policy in applying:
            if not policy.allow_unlimited_approvals:
                yield Refusal(
                    UNLIMITED_APPROVAL,
                    f"{what} for {effect.counterparty}: {_whose(scope)} does not allow unlimited approvals "
                    "(ask for an exact amount, or set the policy with --allow-unlimited-approvals)",
                    scope,
                )
            elif _cap_of(policy, effect.chain_id, effect.asset) is not None:
                yield Refusal(
                    TOKEN_CAP, f"{what} cannot fit under the daily cap {_whose(scope)} sets on that token", scope
                )


def _allowlist(applying: list[tuple[str, Policy]], reading: _Reading) -> Iterator[Refusal]:
    for scope, policy in applying:
        if policy.recipients is None:
            continue
        for role, address in reading.parties:
            if address is None:
                yield Refusal(
                    RECIPIENT_NOT_ALLOWED,
                    f"the request sends value to a contract it creates, which {_whose(scope)}'s allowlist cannot name",
                    scope,
                )
            elif address not in policy.recipients:
                yield Refusal(
                    RECIPIENT_NOT_ALLOWED,
                    f"the {role} {address} is not on {_whose(scope)}'s allowlist (add it with --recipients)",
                    scope,
                )
        for target in reading.unread:
            if target not in policy.recipients:
                yield Refusal(
                    RECIPIENT_NOT_ALLOWED,
                    f"the request calls a function walletsync cannot read on {target}, which is not on "
                    f"{_whose(scope)}'s allowlist",
                    scope,
                )


def _native_caps(
    applying: list[tuple[str, Policy]],
    request: Request,
    reading: _Reading,
    used: Sequence[Use],
    now: int,
    words: _Words,
) -> Iterator[Refusal]:
    key = (request.chain_id, NATIVE)
    amount = reading.amounts.get(key, 0)
    if not amount:
        return
    for scope, policy in applying:
        for cap in policy.native_caps:
            if cap.chain_id not in (EVERY_CHAIN, request.chain_id):
                continue
            limit = floor_amount(cap.per_day, words.decimals)
            spent = _used(used, scope, key, now)
            if spent + amount > limit:
                yield Refusal(
                    NATIVE_CAP, words.over(scope, amount, spent, limit, words.currency, words.decimals), scope
                )


def _token_caps(
    applying: list[tuple[str, Policy]], reading: _Reading, used: Sequence[Use], now: int
) -> Iterator[Refusal]:
    for scope, policy in applying:
        for cap in policy.token_caps:
            key = (cap.chain_id, cap.address)
            if cap.address in reading.unread:
                yield Refusal(
                    TOKEN_CAP,
                    f"the request calls a function walletsync cannot read on {cap.label()}, which "
                    f"{_whose(scope)} caps: it cannot count what that would move",
                    scope,
                )
                continue
            amount = reading.amounts.get(key, 0)
            if not amount:
                continue
            spent = _used(used, scope, key, now)
            if spent + amount > cap.units:
                yield Refusal(TOKEN_CAP, _over_token(scope, cap, amount, spent), scope)


# --- helpers -----------------------------------------------------------------------------------------------


def _in_scope(used: Sequence[Use], scope: str) -> Iterator[Use]:
    return (u for u in used if scope == ALL or u.session == scope)


def _used(used: Sequence[Use], scope: str, key: Key, now: int) -> int:
    return sum(u.amounts.get(key, 0) for u in _in_scope(used, scope) if u.counts_amounts(now))


def _cap_of(policy: Policy, chain_id: str, asset: str) -> TokenCap | None:
    return next((c for c in policy.token_caps if (c.chain_id, c.address) == (chain_id, asset)), None)


def _whose(scope: str) -> str:
    return "the all-sessions policy" if scope == ALL else "the session's policy"


def _over_token(scope: str, cap: TokenCap, amount: int, spent: int) -> str:
    left = max(cap.units - spent, 0)
    return (
        f"{format_amount(amount, cap.decimals)} {cap.label()} would make "
        f"{format_amount(spent + amount, cap.decimals)} in 24 h; {_whose(scope)} allows {cap.per_day} a day "
        f"({format_amount(left, cap.decimals)} left)"
    )


class _Words:
    """How a message names the request's chain, its currency and a token."""

    def __init__(self, lookup: Lookup, chain_id: str) -> None:
        self.lookup = lookup
        chain = lookup.chain(chain_id)
        self.chain = chain.label() if chain else chain_id
        self.currency = chain.currency if chain else ""
        self.decimals = chain.decimals if chain else 18

    def asset(self, chain_id: str, asset: str) -> str:
        token = self.lookup.token(chain_id, asset)
        return token.label() if token else asset

    def over(self, scope: str, amount: int, spent: int, limit: int, unit: str, decimals: int) -> str:
        left = max(limit - spent, 0)

        def sum_of(units: int) -> str:
            return f"{format_amount(units, decimals)} {unit}".rstrip()

        return (
            f"sending {sum_of(amount)} on {self.chain} would make {sum_of(spent + amount)} in 24 h; "
            f"{_whose(scope)} allows {sum_of(limit)} a day ({sum_of(left)} left)"
        )
