"""Every event :meth:`Companion.events` streams: the engine's, re-exported here, and the service's own.

The service's events derive from :class:`ServiceEvent` (itself an engine
:class:`~walletsync.protocol.events.Event`, so one stream carries both). Callers
import all of them from here, never from ``walletsync.protocol``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walletsync.names import MAX_CELLS
from walletsync.protocol.events import (
    Acknowledged,
    Event,
    MessageRejected,
    PairingCreated,
    PairingDeleted,
    PairingExpired,
    ProposalApproved,
    ProposalExpired,
    ProposalRejected,
    ProposalSent,
    RequestAnswered,
    RequestExpired,
    RequestFailed,
    RequestSent,
    SessionDeleted,
    SessionEventReceived,
    SessionExpired,
    SessionExtended,
    SessionPinged,
    SessionSettled,
    SessionUpdated,
)
from walletsync.protocol.namespaces import Beyond
from walletsync.text import shown
from walletsync.transport.client import Status

__all__ = [
    "Acknowledged",
    "Event",
    "MessageRejected",
    "PairingCreated",
    "PairingDeleted",
    "PairingExpired",
    "ProposalApproved",
    "ProposalExpired",
    "ProposalRejected",
    "ProposalSent",
    "RelayStatusChanged",
    "RequestAnswered",
    "RequestExpired",
    "RequestFailed",
    "RequestSent",
    "RequestVerified",
    "ScopeWidened",
    "ServiceEvent",
    "SessionDeleted",
    "SessionEventReceived",
    "SessionExpired",
    "SessionExtended",
    "SessionPinged",
    "SessionRenamed",
    "SessionSettled",
    "SessionUpdated",
    "StoreChanged",
]


@dataclass(frozen=True)
class ServiceEvent(Event):
    """Base of the events the service adds to the engine's."""


@dataclass(frozen=True)
class RequestVerified(ServiceEvent):
    """An answer was checked; ``verdict`` is :meth:`walletsync.signatures.Verdict.to_json`."""

    topic: str
    id: int
    verdict: dict[str, Any]


@dataclass(frozen=True)
class RelayStatusChanged(ServiceEvent):
    """The relay link went up, down, or is connecting."""

    status: Status


@dataclass(frozen=True)
class SessionRenamed(ServiceEvent):
    """The user gave a session a new local name."""

    topic: str
    name: str


@dataclass(frozen=True)
class ScopeWidened(ServiceEvent):
    """A phone granted more than the user asked for: when the session settled (``update`` False) or by a
    ``wc_sessionUpdate`` (``update`` True). ``added`` is what is newly beyond the request (audited as is)."""

    topic: str
    name: str
    added: Beyond
    update: bool

    def message(self) -> str:
        """One line for people (the name and the phone's ids are data: show with markup off)."""
        name = shown(self.name, MAX_CELLS)  # a name stored before the name rules may hold anything
        if self.update:
            return f"phone widened scope of {name}: {self.added.summary()}"
        return f"phone granted {name} more than asked: {self.added.summary()}"


@dataclass(frozen=True)
class StoreChanged(ServiceEvent):
    """Another walletsync process on this data dir changed sessions, requests or the audit: re-read what you show."""
