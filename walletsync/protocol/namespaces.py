"""CAIP-2/CAIP-10 ids and namespace rules: what a session may do (reference §6).

Proposal namespaces say what a dapp asks for (``{chains?, methods, events}``),
session namespaces what the wallet granted (``{chains?, accounts, methods,
events}``). A session's chains are the ones its accounts are on. Every check
raises :class:`InvalidNamespaces` or :class:`OutOfScope` with the SDK code to
send back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from walletsync.protocol.errors import Blame, InvalidNamespaces, OutOfScope

Namespaces = dict[str, dict[str, Any]]

MISSING_OR_INVALID = 5
NON_CONFORMING = 9
UNAUTHORIZED_METHOD = 3001
UNAUTHORIZED_EVENT = 3002
UNSUPPORTED_CHAINS = 5100
UNSUPPORTED_METHODS = 5101
UNSUPPORTED_EVENTS = 5102
UNSUPPORTED_ACCOUNTS = 5103


def _nonblank(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def is_chain_id(value: Any) -> bool:
    """CAIP-2 ``namespace:reference`` as the SDK checks it: exactly two non-empty parts."""
    if not _nonblank(value) or ":" not in value:
        return False
    parts = value.split(":")
    return len(parts) == 2 and all(parts)


def is_account_id(value: Any) -> bool:
    """CAIP-10 ``namespace:reference:address``: exactly three parts, non-empty address."""
    if not _nonblank(value):
        return False
    parts = value.split(":")
    return len(parts) == 3 and all(parts)


def chain_of_account(account: str) -> str:
    namespace, reference, _ = account.split(":")
    return f"{namespace}:{reference}"


def _string_list(value: Any, where: str, by: Blame) -> list[str]:
    if not isinstance(value, list) or not all(_nonblank(v) for v in value):
        raise InvalidNamespaces(f"{where} must be a list of non-blank strings", by=by, sdk_code=MISSING_OR_INVALID)
    return value


def requested_chains(key: str, namespace: Mapping[str, Any]) -> list[str]:
    """The chains a proposal namespace asks for: its ``chains``, or the key itself when inline (``eip155:1``)."""
    return [key] if ":" in key else list(namespace.get("chains") or [])


def validate_proposal_namespaces(
    namespaces: Any, label: str = "requiredNamespaces", *, by: Blame = "caller"
) -> Namespaces:
    """Check a proposal's required/optional namespaces; return them unchanged when valid."""
    if not isinstance(namespaces, dict):
        raise InvalidNamespaces(f"{label} must be an object", by=by, sdk_code=MISSING_OR_INVALID)
    for key, namespace in namespaces.items():
        where = f"{label}.{key}"
        if not isinstance(namespace, dict):
            raise InvalidNamespaces(f"{where} must be an object", by=by, sdk_code=MISSING_OR_INVALID)
        if ":" in key:
            if not is_chain_id(key):
                raise InvalidNamespaces(
                    f"{where}: {key!r} is not a CAIP-2 chain id", by=by, sdk_code=MISSING_OR_INVALID
                )
            if "chains" in namespace and namespace["chains"] not in (None, [key]):
                raise InvalidNamespaces(
                    f"{where}: inline chain key must not list other chains", by=by, sdk_code=MISSING_OR_INVALID
                )
        else:
            chains = _string_list(namespace.get("chains"), f"{where}.chains", by)
            if not chains:
                raise InvalidNamespaces(f"{where}.chains must not be empty", by=by, sdk_code=MISSING_OR_INVALID)
            for chain in chains:
                if not is_chain_id(chain) or chain.split(":")[0] != key:
                    raise InvalidNamespaces(
                        f"{where}: {chain!r} is not a chain of namespace {key!r}", by=by, sdk_code=MISSING_OR_INVALID
                    )
        _string_list(namespace.get("methods"), f"{where}.methods", by)
        _string_list(namespace.get("events"), f"{where}.events", by)
    return namespaces


def validate_session_namespaces(namespaces: Any, *, by: Blame = "caller") -> Namespaces:
    """Check granted namespaces: non-empty, methods/events lists, every account CAIP-10 of that namespace."""
    if not isinstance(namespaces, dict) or not namespaces:
        raise InvalidNamespaces("namespaces must be a non-empty object", by=by, sdk_code=MISSING_OR_INVALID)
    for key, namespace in namespaces.items():
        where = f"namespaces.{key}"
        if not isinstance(namespace, dict):
            raise InvalidNamespaces(f"{where} must be an object", by=by, sdk_code=MISSING_OR_INVALID)
        accounts = _string_list(namespace.get("accounts"), f"{where}.accounts", by)
        for account in accounts:
            if not is_account_id(account) or account.split(":")[0] != key.split(":")[0]:
                raise InvalidNamespaces(
                    f"{where}: {account!r} is not a CAIP-10 account of {key!r}", by=by, sdk_code=MISSING_OR_INVALID
                )
        if "chains" in namespace and namespace["chains"] is not None:
            for chain in _string_list(namespace["chains"], f"{where}.chains", by):
                if not is_chain_id(chain):
                    raise InvalidNamespaces(
                        f"{where}: {chain!r} is not a CAIP-2 chain id", by=by, sdk_code=MISSING_OR_INVALID
                    )
        _string_list(namespace.get("methods"), f"{where}.methods", by)
        _string_list(namespace.get("events"), f"{where}.events", by)
    return namespaces


def session_chains(namespaces: Namespaces) -> set[str]:
    """The chains a session covers: those its accounts are on."""
    return {chain_of_account(a) for ns in namespaces.values() for a in ns.get("accounts", [])}


def session_accounts(namespaces: Namespaces) -> list[str]:
    return [a for ns in namespaces.values() for a in ns.get("accounts", [])]


def require_conforming(required: Namespaces, approved: Namespaces, *, by: Blame = "caller") -> None:
    """``required ⊆ approved``: every required namespace, chain, method and event was granted."""
    approved_keys = {k.split(":")[0] for k in approved}
    for key, namespace in required.items():
        ns_name = key.split(":")[0]
        if ns_name not in approved_keys:
            raise InvalidNamespaces(f"required namespace {ns_name!r} was not approved", by=by, sdk_code=NON_CONFORMING)
        granted = [v for k, v in approved.items() if k.split(":")[0] == ns_name]
        granted_chains = {c for v in granted for c in (v.get("chains") or [])} | {
            chain_of_account(a) for v in granted for a in v.get("accounts", [])
        }
        granted_methods = {m for v in granted for m in v.get("methods", [])}
        granted_events = {e for v in granted for e in v.get("events", [])}
        missing = set(requested_chains(key, namespace)) - granted_chains
        if missing:
            raise InvalidNamespaces(f"required chains not approved: {sorted(missing)}", by=by, sdk_code=NON_CONFORMING)
        if not set(namespace.get("methods", [])) <= granted_methods:
            missing = set(namespace.get("methods", [])) - granted_methods
            raise InvalidNamespaces(f"required methods not approved: {sorted(missing)}", by=by, sdk_code=NON_CONFORMING)
        if not set(namespace.get("events", [])) <= granted_events:
            missing = set(namespace.get("events", [])) - granted_events
            raise InvalidNamespaces(f"required events not approved: {sorted(missing)}", by=by, sdk_code=NON_CONFORMING)


def _grants_for_chain(namespaces: Namespaces, chain_id: str) -> list[dict[str, Any]]:
    return [ns for ns in namespaces.values() if any(chain_of_account(a) == chain_id for a in ns.get("accounts", []))]


def require_in_scope(namespaces: Namespaces, chain_id: Any, method: Any, *, by: Blame = "caller") -> None:
    """Is ``(chain_id, method)`` inside the session? Raise :class:`OutOfScope` naming which part is not."""
    if not is_chain_id(chain_id) or chain_id not in session_chains(namespaces):
        raise OutOfScope(f"chain {chain_id!r} is not in this session", by=by, sdk_code=UNSUPPORTED_CHAINS)
    if not any(method in ns.get("methods", []) for ns in _grants_for_chain(namespaces, chain_id)):
        raise OutOfScope(
            f"method {method!r} is not allowed on {chain_id} in this session", by=by, sdk_code=UNAUTHORIZED_METHOD
        )


def require_event_in_scope(namespaces: Namespaces, chain_id: Any, event: Any, *, by: Blame = "caller") -> None:
    if not is_chain_id(chain_id) or chain_id not in session_chains(namespaces):
        raise OutOfScope(f"chain {chain_id!r} is not in this session", by=by, sdk_code=UNSUPPORTED_CHAINS)
    if not any(event in ns.get("events", []) for ns in _grants_for_chain(namespaces, chain_id)):
        raise OutOfScope(
            f"event {event!r} is not allowed on {chain_id} in this session", by=by, sdk_code=UNAUTHORIZED_EVENT
        )


def merge_namespaces(*sources: Mapping[str, Any]) -> Namespaces:
    """Union of proposal namespaces by namespace name (what SDK 2.25 does to required + optional)."""
    merged: Namespaces = {}
    for source in sources:
        for key, namespace in source.items():
            name = key.split(":")[0]
            target = merged.setdefault(name, {"chains": [], "methods": [], "events": []})
            for field, values in (
                ("chains", requested_chains(key, namespace)),
                ("methods", namespace.get("methods", [])),
                ("events", namespace.get("events", [])),
            ):
                target[field] += [v for v in values if v not in target[field]]
    return merged


def build_approved_namespaces(
    required: Namespaces,
    optional: Namespaces,
    *,
    accounts: Iterable[str],
    methods: Iterable[str],
    events: Iterable[str],
) -> Namespaces:
    """What a wallet grants: the requested chains it has accounts on, ∩ the methods/events it supports.

    Raises :class:`InvalidNamespaces` (by the caller's side: the wallet cannot
    serve it) when a *required* chain, method or event is unsupported.
    """
    accounts, methods, events = list(accounts), set(methods), set(events)
    have_chains = {chain_of_account(a) for a in accounts}
    for key, namespace in required.items():
        for chain in requested_chains(key, namespace):
            if chain not in have_chains:
                raise InvalidNamespaces(
                    f"required chain {chain} has no account in this wallet", by="caller", sdk_code=UNSUPPORTED_CHAINS
                )
        if not set(namespace.get("methods", [])) <= methods:
            raise InvalidNamespaces(
                f"required methods unsupported: {sorted(set(namespace['methods']) - methods)}",
                by="caller",
                sdk_code=UNSUPPORTED_METHODS,
            )
        if not set(namespace.get("events", [])) <= events:
            raise InvalidNamespaces(
                f"required events unsupported: {sorted(set(namespace['events']) - events)}",
                by="caller",
                sdk_code=UNSUPPORTED_EVENTS,
            )
    approved: Namespaces = {}
    for name, wanted in merge_namespaces(required, optional).items():
        chains = [c for c in wanted["chains"] if c in have_chains]
        chain_accounts = [a for a in accounts if chain_of_account(a) in chains]
        if not chain_accounts:
            continue
        approved[name] = {
            "chains": chains,
            "accounts": chain_accounts,
            "methods": [m for m in wanted["methods"] if m in methods],
            "events": [e for e in wanted["events"] if e in events],
        }
    if not approved:
        raise InvalidNamespaces(
            "none of the requested chains has an account in this wallet", by="caller", sdk_code=UNSUPPORTED_CHAINS
        )
    return approved


# --- granted beyond the request -------------------------------------------------------------
#
# The SDK accepts a session that grants more (or other) than the proposal asked for, and an
# update that widens it. walletsync keeps those wire rules but never acts on the extra without
# the user: these helpers say, per chain, what was granted that nobody asked for.

ChainScope = dict[str, tuple[set[str], set[str]]]
"""chain id -> (methods, events)."""
MaybeNamespaces = Mapping[str, Any] | None


def requested_by_chain(*proposal_namespaces: Mapping[str, Any]) -> ChainScope:
    """What proposal namespaces (required, optional, …) ask for on each chain, merged by namespace name as the SDK
    merges them (``eip155:1`` and ``eip155:56`` keys make one ``eip155`` request): a wallet grants per namespace."""
    out: ChainScope = {}
    for merged in merge_namespaces(*(source or {} for source in proposal_namespaces)).values():
        for chain in merged["chains"]:
            out[chain] = (set(merged["methods"]), set(merged["events"]))
    return out


def granted_by_chain(namespaces: Mapping[str, Any]) -> ChainScope:
    """What session namespaces grant on each chain: a namespace's methods/events on every chain it has an account on."""
    out: ChainScope = {}
    for namespace in namespaces.values():
        for account in namespace.get("accounts") or []:
            methods, events = out.setdefault(chain_of_account(account), (set(), set()))
            methods.update(namespace.get("methods") or [])
            events.update(namespace.get("events") or [])
    return out


def granted_chains(namespaces: Mapping[str, Any]) -> list[str]:
    """The session's chains in the order its accounts list them."""
    return list(dict.fromkeys(chain_of_account(a) for ns in namespaces.values() for a in ns.get("accounts") or []))


def _shown(text: str, width: int = 64) -> str:
    """A peer-chosen id as one line of plain text: non-printables escaped, clipped."""
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" for c in text)
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class Beyond:
    """Grants nobody asked for. ``chains``: chains not requested at all (so anything on them);
    ``methods``/``events``: per *requested* chain, what was granted there without being asked;
    ``namespaces``: whole namespaces never requested. All sorted tuples, so equal means equal."""

    namespaces: tuple[str, ...] = ()
    chains: tuple[str, ...] = ()
    methods: tuple[tuple[str, tuple[str, ...]], ...] = ()
    events: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.namespaces or self.chains or self.methods or self.events)

    def items(self) -> set[tuple[str, ...]]:
        """Every extra as a tuple: ("namespace", ns), ("chain", c), ("method", c, m), ("event", c, e)."""
        out: set[tuple[str, ...]] = {("namespace", n) for n in self.namespaces} | {("chain", c) for c in self.chains}
        for kind, per_chain in (("method", self.methods), ("event", self.events)):
            out |= {(kind, chain, name) for chain, names in per_chain for name in names}
        return out

    @classmethod
    def from_items(cls, items: Iterable[tuple[str, ...]]) -> Beyond:
        items = set(items)
        per_chain: dict[str, dict[str, set[str]]] = {"method": {}, "event": {}}
        for item in items:
            if item[0] in per_chain:
                per_chain[item[0]].setdefault(item[1], set()).add(item[2])

        def grouped(kind: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
            return tuple((chain, tuple(sorted(names))) for chain, names in sorted(per_chain[kind].items()))

        def names(kind: str) -> tuple[str, ...]:
            return tuple(sorted(i[1] for i in items if i[0] == kind))

        return cls(names("namespace"), names("chain"), grouped("method"), grouped("event"))

    def minus(self, other: Beyond) -> Beyond:
        """What is here and not in ``other``: what an update added beyond the request."""
        return Beyond.from_items(self.items() - other.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "namespaces": list(self.namespaces),
            "chains": list(self.chains),
            "methods": {chain: list(names) for chain, names in self.methods},
            "events": {chain: list(names) for chain, names in self.events},
        }

    def summary(self, limit: int = 8) -> str:
        """One line for people: ``+eip155:56, +method eth_sign (eip155:1), …`` (peer text escaped, clipped)."""
        parts = [f"+namespace {_shown(n)}" for n in self.namespaces] + [f"+{_shown(c)}" for c in self.chains]
        for kind, per_chain in (("method", self.methods), ("event", self.events)):
            chains_of_name: dict[str, list[str]] = {}
            for chain, names in per_chain:
                for name in names:
                    chains_of_name.setdefault(name, []).append(chain)
            for name, chains in sorted(chains_of_name.items()):
                parts.append(f"+{kind} {_shown(name)} ({', '.join(_shown(c) for c in chains)})")
        if len(parts) > limit:
            parts = parts[:limit] + [f"… {len(parts) - limit} more"]
        return ", ".join(parts) or "nothing"


def beyond_request(required: MaybeNamespaces, optional: MaybeNamespaces, granted: Mapping[str, Any]) -> Beyond:
    """What ``granted`` (session namespaces) holds that the proposal's required ∪ optional never asked for."""
    requested = requested_by_chain(required or {}, optional or {})
    asked_namespaces = {key.split(":")[0] for key in (*(required or {}), *(optional or {}))}
    items: set[tuple[str, ...]] = set()
    for chain, (methods, events) in granted_by_chain(granted).items():
        if chain.split(":")[0] not in asked_namespaces:
            items.add(("namespace", chain.split(":")[0]))
        if chain not in requested:
            items.add(("chain", chain))
            continue
        asked_methods, asked_events = requested[chain]
        items |= {("method", chain, m) for m in methods - asked_methods} | {
            ("event", chain, e) for e in events - asked_events
        }
    return Beyond.from_items(items)


def request_beyond(required: MaybeNamespaces, optional: MaybeNamespaces, chain_id: str, method: str) -> dict[str, str]:
    """How a request on ``(chain_id, method)`` goes beyond the request: ``{"chain": …}`` for a chain never asked
    for, ``{"method": …}`` for a method not asked for on that chain (on an unasked chain: not asked for anywhere)."""
    requested = requested_by_chain(required or {}, optional or {})
    out: dict[str, str] = {}
    if chain_id not in requested:
        out["chain"] = chain_id
        if not any(method in methods for methods, _ in requested.values()):
            out["method"] = method
    elif method not in requested[chain_id][0]:
        out["method"] = method
    return out
