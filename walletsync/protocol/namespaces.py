"""CAIP-2/CAIP-10 ids and namespace rules: what a session may do (reference §6).

Proposal namespaces say what a dapp asks for (``{chains?, methods, events}``),
session namespaces what the wallet granted (``{chains?, accounts, methods,
events}``). A session's chains are the ones its accounts are on. Every check
raises :class:`InvalidNamespaces` or :class:`OutOfScope` with the SDK code to
send back.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

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


def validate_proposal_namespaces(namespaces: Any, label: str = "requiredNamespaces", *, by: Blame = "peer") -> Namespaces:
    """Check a proposal's required/optional namespaces; return them unchanged when valid."""
    if not isinstance(namespaces, dict):
        raise InvalidNamespaces(f"{label} must be an object", by=by, sdk_code=MISSING_OR_INVALID)
    for key, namespace in namespaces.items():
        where = f"{label}.{key}"
        if not isinstance(namespace, dict):
            raise InvalidNamespaces(f"{where} must be an object", by=by, sdk_code=MISSING_OR_INVALID)
        if ":" in key:
            if not is_chain_id(key):
                raise InvalidNamespaces(f"{where}: {key!r} is not a CAIP-2 chain id", by=by, sdk_code=MISSING_OR_INVALID)
            if "chains" in namespace and namespace["chains"] not in (None, [key]):
                raise InvalidNamespaces(f"{where}: inline chain key must not list other chains", by=by, sdk_code=MISSING_OR_INVALID)
        else:
            chains = _string_list(namespace.get("chains"), f"{where}.chains", by)
            if not chains:
                raise InvalidNamespaces(f"{where}.chains must not be empty", by=by, sdk_code=MISSING_OR_INVALID)
            for chain in chains:
                if not is_chain_id(chain) or chain.split(":")[0] != key:
                    raise InvalidNamespaces(f"{where}: {chain!r} is not a chain of namespace {key!r}", by=by, sdk_code=MISSING_OR_INVALID)
        _string_list(namespace.get("methods"), f"{where}.methods", by)
        _string_list(namespace.get("events"), f"{where}.events", by)
    return namespaces


def validate_session_namespaces(namespaces: Any, *, by: Blame = "peer") -> Namespaces:
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
                raise InvalidNamespaces(f"{where}: {account!r} is not a CAIP-10 account of {key!r}", by=by, sdk_code=MISSING_OR_INVALID)
        if "chains" in namespace and namespace["chains"] is not None:
            for chain in _string_list(namespace["chains"], f"{where}.chains", by):
                if not is_chain_id(chain):
                    raise InvalidNamespaces(f"{where}: {chain!r} is not a CAIP-2 chain id", by=by, sdk_code=MISSING_OR_INVALID)
        _string_list(namespace.get("methods"), f"{where}.methods", by)
        _string_list(namespace.get("events"), f"{where}.events", by)
    return namespaces


def session_chains(namespaces: Namespaces) -> set[str]:
    """The chains a session covers: those its accounts are on."""
    return {chain_of_account(a) for ns in namespaces.values() for a in ns.get("accounts", [])}


def session_accounts(namespaces: Namespaces) -> list[str]:
    return [a for ns in namespaces.values() for a in ns.get("accounts", [])]


def require_conforming(required: Namespaces, approved: Namespaces, *, by: Blame = "peer") -> None:
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
        raise OutOfScope(f"method {method!r} is not allowed on {chain_id} in this session", by=by, sdk_code=UNAUTHORIZED_METHOD)


def require_event_in_scope(namespaces: Namespaces, chain_id: Any, event: Any, *, by: Blame = "caller") -> None:
    if not is_chain_id(chain_id) or chain_id not in session_chains(namespaces):
        raise OutOfScope(f"chain {chain_id!r} is not in this session", by=by, sdk_code=UNSUPPORTED_CHAINS)
    if not any(event in ns.get("events", []) for ns in _grants_for_chain(namespaces, chain_id)):
        raise OutOfScope(f"event {event!r} is not allowed on {chain_id} in this session", by=by, sdk_code=UNAUTHORIZED_EVENT)


def merge_namespaces(*sources: Mapping[str, Any]) -> Namespaces:
    """Union of proposal namespaces by namespace name (what SDK 2.25 does to required + optional)."""
    merged: Namespaces = {}
    for source in sources:
        for key, namespace in source.items():
            name = key.split(":")[0]
            target = merged.setdefault(name, {"chains": [], "methods": [], "events": []})
            for field, values in (("chains", requested_chains(key, namespace)), ("methods", namespace.get("methods", [])), ("events", namespace.get("events", []))):
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
                raise InvalidNamespaces(f"required chain {chain} has no account in this wallet", by="caller", sdk_code=UNSUPPORTED_CHAINS)
        if not set(namespace.get("methods", [])) <= methods:
            raise InvalidNamespaces(f"required methods unsupported: {sorted(set(namespace['methods']) - methods)}", by="caller", sdk_code=UNSUPPORTED_METHODS)
        if not set(namespace.get("events", [])) <= events:
            raise InvalidNamespaces(f"required events unsupported: {sorted(set(namespace['events']) - events)}", by="caller", sdk_code=UNSUPPORTED_EVENTS)
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
        raise InvalidNamespaces("none of the requested chains has an account in this wallet", by="caller", sdk_code=UNSUPPORTED_CHAINS)
    return approved
