"""What the store hands out: sessions and requests as the user sees them, with no key material."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from walletsync.protocol.namespaces import Beyond, beyond_request, granted_chains, requested_by_chain

ENDED = ("expired", "deleted", "revoked")
"""The statuses of a session that is over."""


_BEYOND: dict[tuple[int, int, int], tuple[Any, Any, Any, Beyond]] = {}
_BEYOND_KEPT = 64


def _beyond(required: Any, optional: Any, granted: dict[str, Any]) -> Beyond:
    """:func:`beyond_request`, once per distinct request and grant: the store decodes equal JSON into the same
    objects (sessions with one phone, from one proposal), so a listing of thousands computes it a few times.
    The objects are kept with their answer, so their ids cannot be reused while they are remembered."""
    key = (id(required), id(optional), id(granted))
    kept = _BEYOND.get(key)
    if kept is not None and kept[0] is required and kept[1] is optional and kept[2] is granted:
        return kept[3]
    if len(_BEYOND) >= _BEYOND_KEPT:
        _BEYOND.clear()
    answer = beyond_request(required, optional, granted)
    _BEYOND[key] = (required, optional, granted, answer)
    return answer


def accounts_of(namespaces: dict[str, Any]) -> list[str]:
    """The accounts a session's namespaces grant, in their order."""
    return [a for ns in namespaces.values() for a in ns.get("accounts", [])]


@dataclass(frozen=True)
class SessionRecord:
    """A session as the user sees it (no key material)."""

    topic: str
    name: str
    peer: dict[str, Any]
    namespaces: dict[str, Any]
    expiry: int
    status: str
    created_at: int
    last_seen: int | None
    last_ping: int | None
    pairing_topic: str
    is_controller: bool
    required_namespaces: dict[str, Any] | None = None
    optional_namespaces: dict[str, Any] | None = None
    """What the proposal asked for (None: not known, so nothing counts as beyond it)."""

    @property
    def accounts(self) -> list[str]:
        return accounts_of(self.namespaces)

    @cached_property
    def beyond_request(self) -> Beyond:
        """What the phone granted that the user never asked for (shown, and never used without an explicit choice)."""
        if self.required_namespaces is None and self.optional_namespaces is None:
            return Beyond()
        return _beyond(self.required_namespaces, self.optional_namespaces, self.namespaces)

    @property
    def requested_chains(self) -> list[str]:
        """The granted chains the user asked for, in account order: where a request may go without ``--chain``."""
        granted = granted_chains(self.namespaces)
        if self.required_namespaces is None and self.optional_namespaces is None:
            return granted
        asked = requested_by_chain(self.required_namespaces or {}, self.optional_namespaces or {})
        return [c for c in granted if c in asked]

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md session object."""
        return {
            "name": self.name,
            "topic": self.topic,
            "peer": {k: self.peer.get(k) for k in ("name", "url", "description")},
            "accounts": self.accounts,
            "namespaces": self.namespaces,
            "expiry": self.expiry,
            "status": self.status,
            "created_at": self.created_at,
            "last_seen": self.last_seen,
            "beyond_request": self.beyond_request.to_json(),
        }


class SessionSummary(NamedTuple):
    """A session as the session list shows it: one line of ``walletsync sessions`` (no key material).

    What listing thousands of sessions needs and no more (:class:`SessionRecord` has the rest): the phone's
    metadata is read for its name only, and the accounts and what was granted beyond the request are worked out
    once per distinct grant. A tuple, because building ten thousand frozen dataclasses is a good part of listing.
    """

    topic: str
    name: str
    peer_name: Any
    """The ``name`` in the phone's metadata as it sent it (any JSON value; None when it sent none)."""
    expiry: int
    status: str
    accounts: tuple[str, ...]
    chains: tuple[str, ...]
    """The chains of its accounts and of what was granted, sorted."""
    beyond_request: Beyond
    """What the phone granted that the user never asked for (as :attr:`SessionRecord.beyond_request`)."""


@dataclass(frozen=True)
class RequestRecord:
    topic: str
    id: int
    method: str | None
    params: Any
    chain_id: str | None
    expiry: int
    status: str
    result: Any
    error: dict[str, Any] | None
    verdict: dict[str, Any] | None
    created_at: int
    answered_at: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "topic",
                "id",
                "method",
                "params",
                "chain_id",
                "expiry",
                "status",
                "result",
                "error",
                "verdict",
                "created_at",
                "answered_at",
            )
        }
