"""Events the engine reports to its caller, named for what happened.

The engine returns these alongside relay calls (:mod:`walletsync.protocol.relay_rpc`
params). The service layer persists and audits them; the UI shows them.

An event is a snapshot: one that carries engine state (a :class:`Session`, namespaces)
holds its own copy, so whatever the engine changes later never alters an event already
emitted.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal, Union

from walletsync.protocol.errors import ProtocolError
from walletsync.protocol.jsonrpc import RpcError
from walletsync.protocol.relay_rpc import Params
from walletsync.protocol.state import Direction, Proposal, Session
from walletsync.protocol.uri import PairingUri

Actor = Literal["self", "peer"]


@dataclass(frozen=True)
class Event:
    """Base of everything the engine reports that is not a relay call."""


@dataclass(frozen=True)
class PairingCreated(Event):
    uri: PairingUri


@dataclass(frozen=True)
class Paired(Event):
    """The wallet stored a pairing from a URI and subscribed to it."""

    topic: str
    expiry: int


@dataclass(frozen=True)
class ProposalSent(Event):
    proposal: Proposal


@dataclass(frozen=True)
class ProposalReceived(Event):
    proposal: Proposal


@dataclass(frozen=True)
class ProposalApproved(Event):
    """The wallet answered our proposal with its key; the settle request comes next on ``session_topic``."""

    proposal_id: int
    session_topic: str


@dataclass(frozen=True)
class ProposalRejected(Event):
    proposal_id: int
    error: RpcError


@dataclass(frozen=True)
class ProposalExpired(Event):
    proposal_id: int


@dataclass(frozen=True)
class SessionSettled(Event):
    """A session exists. On the wallet ``acknowledged`` is False until the dapp's 1103 arrives.

    ``session`` is a copy of the engine's, as it was when the session settled.
    """

    session: Session

    def __post_init__(self) -> None:
        object.__setattr__(self, "session", copy.deepcopy(self.session))


@dataclass(frozen=True)
class Acknowledged(Event):
    """The peer answered our settle, update, extend or ping (``error`` is None on success)."""

    topic: str
    id: int
    method: str
    error: RpcError | None = None


@dataclass(frozen=True)
class RequestSent(Event):
    topic: str
    id: int
    chain_id: str
    method: str
    params: Any
    expiry: int


@dataclass(frozen=True)
class SessionRequestReceived(Event):
    topic: str
    id: int
    chain_id: str
    method: str
    params: Any
    expiry: int


@dataclass(frozen=True)
class RequestAnswered(Event):
    """The peer answered a request we sent. ``late`` when it came after the request expired."""

    topic: str
    id: int
    method: str
    result: Any
    late: bool = False


@dataclass(frozen=True)
class RequestFailed(Event):
    """A request we sent came back as an error (or the session ended under it)."""

    topic: str
    id: int
    method: str
    error: RpcError
    late: bool = False


@dataclass(frozen=True)
class RequestExpired(Event):
    topic: str
    id: int
    method: str
    direction: Direction


@dataclass(frozen=True)
class SessionPinged(Event):
    topic: str


@dataclass(frozen=True)
class SessionExtended(Event):
    topic: str
    expiry: int


@dataclass(frozen=True)
class SessionUpdated(Event):
    topic: str
    namespaces: dict[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "namespaces", copy.deepcopy(self.namespaces))


@dataclass(frozen=True)
class SessionEventReceived(Event):
    topic: str
    chain_id: str
    name: str
    data: Any


@dataclass(frozen=True)
class SessionDeleted(Event):
    topic: str
    code: int
    message: str
    by: Actor


@dataclass(frozen=True)
class SessionExpired(Event):
    topic: str


@dataclass(frozen=True)
class PairingExpired(Event):
    topic: str


@dataclass(frozen=True)
class PairingDeleted(Event):
    topic: str


@dataclass(frozen=True)
class MessageRejected(Event):
    """A message from the relay or peer was refused; nothing else changed. ``error.by`` is 'peer'."""

    topic: str
    error: ProtocolError


Action = Union[Params, Event]
"""What engine methods return: relay calls to make (in order) and events to report."""
