"""What a policy says, and the policy file that holds them all: one for every session, one per session.

The file is indented JSON (``policies.json`` in the data dir), written by ``walletsync policy set`` and
readable by people. Reading is strict: an unknown key, a wrong type or a malformed amount is a
:class:`PolicyFileError`, never a limit silently dropped. A session's policy is keyed by its topic (names
change; ``session_name`` is only a reminder for whoever reads the file).

How the two combine: every limit of both applies. Chains, methods and recipients must be allowed by both;
each cap is checked against what its own scope used (the all-sessions policy against every session's use
together, a session's policy against that session's); unlimited approvals need both to allow them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from walletsync import eth
from walletsync.decode.amounts import BadAmount, parse_amount
from walletsync.errors import WalletsyncError

FORMAT = 1
ALL = "all"
"""The scope of the policy for every session (a session's scope is its topic)."""
EVERY_CHAIN = "*"
"""A native cap's chain when it applies to each chain, in that chain's own currency."""

MAX_LIST = 256
"""Items of a chains, methods or recipients list, and caps per policy; sessions per file."""
MAX_FILE_BYTES = 1_000_000
_CHAIN = re.compile(r"[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}")
_METHOD = re.compile(r"[A-Za-z0-9_]{1,64}")
_TOPIC = re.compile(r"[0-9a-f]{64}")


class PolicyFileError(WalletsyncError):
    """The policy file (or a policy given to ``policy set``) does not say anything walletsync can enforce."""

    code = "bad_policy"


@dataclass(frozen=True)
class NativeCap:
    """At most ``per_day`` of a chain's own currency (as people write it: ``"0.1"``) per rolling 24 h."""

    chain_id: str
    """A CAIP-2 id, or :data:`EVERY_CHAIN`: then each chain separately, in its own currency."""
    per_day: str

    def to_json(self) -> dict[str, str]:
        return {"chain": self.chain_id, "per_day": self.per_day}


@dataclass(frozen=True)
class TokenCap:
    """At most ``per_day`` tokens (sent, approved or permitted) of one token per rolling 24 h.

    ``decimals`` is written in the file so that the cap means the same whatever the registry says later.
    """

    chain_id: str
    address: str
    """EIP-55 checksummed."""
    symbol: str
    decimals: int
    per_day: str

    @property
    def units(self) -> int:
        """The cap in the token's smallest unit."""
        return parse_amount(self.per_day, self.decimals)

    def label(self) -> str:
        return f"{self.symbol} {self.address[:6]}…{self.address[-4:]}"

    def to_json(self) -> dict[str, Any]:
        return {
            "chain": self.chain_id,
            "token": self.address,
            "symbol": self.symbol,
            "decimals": self.decimals,
            "per_day": self.per_day,
        }


@dataclass(frozen=True)
class Policy:
    """One scope's limits; ``None`` for a list means "no limit of that kind"."""

    chains: frozenset[str] | None = None
    methods: frozenset[str] | None = None
    native_caps: tuple[NativeCap, ...] = ()
    token_caps: tuple[TokenCap, ...] = ()
    recipients: frozenset[str] | None = None
    """Checksummed addresses value may go to or be approved for (recipients, spenders and operators)."""
    max_requests_per_hour: int | None = None
    allow_unlimited_approvals: bool = False

    @property
    def counts_value(self) -> bool:
        """Whether this policy needs to know what a request does to the account's assets."""
        return bool(self.native_caps or self.token_caps or self.recipients is not None) or (
            not self.allow_unlimited_approvals
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.chains is not None:
            out["chains"] = sorted(self.chains)
        if self.methods is not None:
            out["methods"] = sorted(self.methods)
        if self.native_caps:
            out["max_native_per_day"] = [c.to_json() for c in self.native_caps]
        if self.token_caps:
            out["max_token_per_day"] = [c.to_json() for c in self.token_caps]
        if self.recipients is not None:
            out["recipients"] = sorted(self.recipients)
        if self.max_requests_per_hour is not None:
            out["max_requests_per_hour"] = self.max_requests_per_hour
        out["allow_unlimited_approvals"] = self.allow_unlimited_approvals
        return out

    @classmethod
    def from_json(cls, data: Any, where: str = "policy") -> Policy:
        """A policy from its JSON object; :class:`PolicyFileError` naming ``where`` and the field if it is wrong."""
        fields = {
            "chains",
            "methods",
            "max_native_per_day",
            "max_token_per_day",
            "recipients",
            "max_requests_per_hour",
            "allow_unlimited_approvals",
        }
        _object(data, where, fields | {"session_name"})
        allow = data.get("allow_unlimited_approvals", False)
        if not isinstance(allow, bool):
            raise PolicyFileError(f"{where}.allow_unlimited_approvals must be true or false")
        rate = data.get("max_requests_per_hour")
        if rate is not None and (not isinstance(rate, int) or isinstance(rate, bool) or not 0 <= rate <= 10**6):
            raise PolicyFileError(f"{where}.max_requests_per_hour must be a whole number from 0 to 1000000")
        return cls(
            chains=_strings(data, "chains", where, _CHAIN, "a CAIP-2 chain id like eip155:1"),
            methods=_strings(data, "methods", where, _METHOD, "a method name like eth_sendTransaction"),
            native_caps=tuple(
                _native_cap(c, f"{where}.max_native_per_day") for c in _list(data, "max_native_per_day", where)
            ),
            token_caps=tuple(
                _token_cap(c, f"{where}.max_token_per_day") for c in _list(data, "max_token_per_day", where)
            ),
            recipients=_addresses(data, "recipients", where),
            max_requests_per_hour=rate,
            allow_unlimited_approvals=allow,
        )


@dataclass(frozen=True)
class Policies:
    """Everything the policy file says: the all-sessions policy, and each session's own."""

    all: Policy | None = None
    sessions: Mapping[str, Policy] = field(default_factory=dict)
    """By session topic."""
    names: Mapping[str, str] = field(default_factory=dict)
    """Topic → the session's name when its policy was set: a reminder in the file, never used to match."""

    @property
    def empty(self) -> bool:
        """No policy at all: nothing to check or count."""
        return self.all is None and not self.sessions

    def applying(self, topic: str) -> list[tuple[str, Policy]]:
        """The policies a request on session ``topic`` must pass, as ``(scope, policy)``: its own first."""
        found = [(topic, self.sessions[topic])] if topic in self.sessions else []
        return found + ([(ALL, self.all)] if self.all is not None else [])

    def with_policy(self, scope: str, policy: Policy | None, name: str | None = None) -> Policies:
        """The same, with ``scope``'s policy replaced (``None``: removed)."""
        if scope == ALL:
            return Policies(policy, self.sessions, self.names)
        sessions, names = dict(self.sessions), dict(self.names)
        sessions.pop(scope, None)
        names.pop(scope, None)
        if policy is not None:
            sessions[scope] = policy
            if name:
                names[scope] = name
        return Policies(self.all, sessions, names)

    def to_text(self) -> str:
        """The policy file's text: indented, keys in a fixed order, so the same policies hash the same."""
        sessions = {
            topic: {**({"session_name": self.names[topic]} if topic in self.names else {}), **policy.to_json()}
            for topic, policy in sorted(self.sessions.items())
        }
        document: dict[str, Any] = {"format": FORMAT}
        if self.all is not None:
            document["all"] = self.all.to_json()
        document["sessions"] = sessions
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Policies:
        """The policies a file says; :class:`PolicyFileError` saying what is wrong and where."""
        if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
            raise PolicyFileError(f"the policy file is larger than {MAX_FILE_BYTES} bytes")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PolicyFileError(f"the policy file is not JSON ({exc})") from None
        _object(data, "the policy file", {"format", "all", "sessions"})
        if data.get("format") != FORMAT:
            raise PolicyFileError(f'the policy file must say "format": {FORMAT}')
        everyone = data.get("all")
        sessions = data.get("sessions", {})
        if not isinstance(sessions, dict) or len(sessions) > MAX_LIST * 16:
            raise PolicyFileError("sessions must be an object of session topic → policy")
        policies: dict[str, Policy] = {}
        names: dict[str, str] = {}
        for topic, value in sessions.items():
            if not _TOPIC.fullmatch(topic):
                raise PolicyFileError(f"sessions: {topic[:70]!r} is not a session topic (64 hex digits)")
            policies[topic] = Policy.from_json(value, f"sessions.{topic[:8]}")
            name = value.get("session_name")
            if name is not None:
                if not isinstance(name, str) or len(name) > 200:
                    raise PolicyFileError(f"sessions.{topic[:8]}.session_name must be text")
                names[topic] = name
        return cls(None if everyone is None else Policy.from_json(everyone, "all"), policies, names)


def _object(data: Any, where: str, allowed: set[str]) -> None:
    if not isinstance(data, dict):
        raise PolicyFileError(f"{where} must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PolicyFileError(f"{where}: unknown field {unknown[0][:40]!r} (known: {', '.join(sorted(allowed))})")


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise PolicyFileError(f"{where}.{key} must be a list of at most {MAX_LIST} items")
    return value


def _strings(data: dict[str, Any], key: str, where: str, pattern: re.Pattern[str], what: str) -> frozenset[str] | None:
    if key not in data:
        return None
    items = _list(data, key, where)
    for item in items:
        if not isinstance(item, str) or not pattern.fullmatch(item):
            raise PolicyFileError(f"{where}.{key}: {str(item)[:70]!r} is not {what}")
    return frozenset(items)


def _addresses(data: dict[str, Any], key: str, where: str) -> frozenset[str] | None:
    if key not in data:
        return None
    return frozenset(address(item, f"{where}.{key}") for item in _list(data, key, where))


def address(value: Any, where: str) -> str:
    """``value`` as an EIP-55 address; :class:`PolicyFileError` if it is none (mixed case must be the right one)."""
    if not isinstance(value, str) or not eth.ADDRESS.fullmatch(value):
        raise PolicyFileError(f"{where}: {str(value)[:70]!r} is not a 0x address (0x and 40 hex digits)")
    checksummed = eth.checksum_address(value)
    if value != checksummed and value[2:] not in (value[2:].lower(), value[2:].upper()):
        raise PolicyFileError(f"{where}: {value} has a wrong checksum (mistyped?)")
    return checksummed


def _amount(value: Any, decimals: int, where: str) -> str:
    if not isinstance(value, str):
        raise PolicyFileError(f'{where}.per_day must be an amount in quotes, like "0.1"')
    try:
        parse_amount(value, decimals)
    except BadAmount as exc:
        raise PolicyFileError(f"{where}.per_day: {exc}") from None
    return value


def _native_cap(data: Any, where: str) -> NativeCap:
    _object(data, where, {"chain", "per_day"})
    chain = data.get("chain")
    if chain != EVERY_CHAIN and not (isinstance(chain, str) and _CHAIN.fullmatch(chain)):
        raise PolicyFileError(f'{where}.chain must be a CAIP-2 chain id or "{EVERY_CHAIN}" (every chain)')
    # checked with 18 decimals (an EVM chain's wei); a chain with fewer reads the cap rounded down
    return NativeCap(chain, _amount(data.get("per_day"), 18, where))


def _token_cap(data: Any, where: str) -> TokenCap:
    _object(data, where, {"chain", "token", "symbol", "decimals", "per_day"})
    chain = data.get("chain")
    if not (isinstance(chain, str) and _CHAIN.fullmatch(chain)):
        raise PolicyFileError(f"{where}.chain must be a CAIP-2 chain id like eip155:1")
    decimals, symbol = data.get("decimals"), data.get("symbol", "")
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 77:
        raise PolicyFileError(f"{where}.decimals must be a whole number from 0 to 77")
    if not isinstance(symbol, str) or len(symbol) > 32:
        raise PolicyFileError(f"{where}.symbol must be text of at most 32 characters")
    token = address(data.get("token"), f"{where}.token")
    return TokenCap(chain, token, symbol or "token", decimals, _amount(data.get("per_day"), decimals, where))


def floor_amount(text: str, decimals: int) -> int:
    """``text`` in smallest units of a currency with ``decimals``, extra decimals cut off (rounded down, never
    up): a native cap written for every chain, read with a chain that has fewer decimals, only gets stricter."""
    whole, dot, fraction = text.strip().partition(".")
    return parse_amount(whole + dot + fraction[:decimals] if decimals else whole or "0", decimals)
