"""What the engine remembers: pairings, proposals, sessions and requests in flight.

Plain dataclasses so the service layer can persist them. Fields named
``sym_key`` or ``private_key`` are secrets: excluded from ``repr`` and to be
stored only sealed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from walletsync.protocol.namespaces import Namespaces, session_accounts, session_chains

Direction = Literal["outgoing", "incoming"]


@dataclass
class Pairing:
    topic: str
    sym_key: bytes = field(repr=False)
    expiry: int
    proposer: bool
    """True when this side created the pairing (the dapp)."""
    active: bool = False
    methods: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """A ``wc_sessionPropose`` as received (or sent): what the dapp asks for and who it says it is."""

    id: int
    pairing_topic: str
    proposer_public_key: str
    proposer_metadata: dict[str, Any]
    required_namespaces: Namespaces
    optional_namespaces: Namespaces
    expiry_timestamp: int
    relays: tuple[dict[str, Any], ...] = ({"protocol": "irn"},)
    session_properties: dict[str, Any] | None = None
    scoped_properties: dict[str, Any] | None = None

    def to_params(self) -> dict[str, Any]:
        """The wire params, in SDK 2.25 key order."""
        params: dict[str, Any] = {
            "requiredNamespaces": self.required_namespaces,
            "optionalNamespaces": self.optional_namespaces,
            "relays": list(self.relays),
            "proposer": {"publicKey": self.proposer_public_key, "metadata": self.proposer_metadata},
            "expiryTimestamp": self.expiry_timestamp,
            "pairingTopic": self.pairing_topic,
            "id": self.id,
        }
        if self.session_properties is not None:
            params["sessionProperties"] = self.session_properties
        if self.scoped_properties is not None:
            params["scopedProperties"] = self.scoped_properties
        return params


@dataclass
class SentProposal:
    """A proposal we (the dapp) sent and still wait on; holds our X25519 private key."""

    proposal: Proposal
    private_key: bytes = field(repr=False)
    session_topic: str | None = None
    sym_key: bytes | None = field(default=None, repr=False)
    responder_public_key: str | None = None


@dataclass
class Session:
    topic: str
    sym_key: bytes = field(repr=False)
    pairing_topic: str
    self_public_key: str
    peer_public_key: str
    peer_metadata: dict[str, Any]
    controller_public_key: str
    namespaces: Namespaces
    expiry: int
    is_controller: bool
    """True on the wallet: only the controller may update namespaces."""
    acknowledged: bool
    required_namespaces: Namespaces = field(default_factory=dict)
    optional_namespaces: Namespaces = field(default_factory=dict)
    session_properties: dict[str, Any] | None = None

    @property
    def accounts(self) -> list[str]:
        return session_accounts(self.namespaces)

    @property
    def chains(self) -> set[str]:
        return session_chains(self.namespaces)


@dataclass
class PendingRequest:
    """A JSON-RPC request in flight on a session, in either direction.

    ``expired`` stays set once the expiry passed: a late answer to an outgoing
    request is still reported (as late), never lost.
    """

    topic: str
    id: int
    wire_method: str
    """``wc_sessionRequest``, ``wc_sessionPing``, ``wc_sessionSettle``, …"""
    direction: Direction
    expiry: int
    method: str | None = None
    """For ``wc_sessionRequest``: the wallet method inside (``personal_sign``, …)."""
    params: Any = None
    chain_id: str | None = None
    expired: bool = False


@dataclass(frozen=True)
class ReplayMemory:
    """What the engine remembers to refuse a replayed or stale message, as plain data a store can keep.

    ``seen``: per topic, sha256 hex digests of the envelopes received or sent there, oldest first.
    ``handled_ids``: per topic, ids of the peer's requests already handled, oldest first.
    ``last_update_ms``: per session topic, the send time (from its id) of the newest namespace update applied.
    ``last_event_ms``: per (topic, event name), the send time of the newest session event applied.
    Without it a restarted engine would take a replay of an old ``wc_sessionUpdate`` as new.
    """

    seen: dict[str, tuple[str, ...]] = field(default_factory=dict)
    handled_ids: dict[str, tuple[int, ...]] = field(default_factory=dict)
    last_update_ms: dict[str, int] = field(default_factory=dict)
    last_event_ms: dict[tuple[str, str], int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.seen or self.handled_ids or self.last_update_ms or self.last_event_ms)
