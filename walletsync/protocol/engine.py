"""The WalletConnect v2 Sign engine: a pure state machine for both roles.

How it works
------------
One :class:`SignEngine` holds every pairing, proposal, session and request in
flight for one client. It does no I/O: each method takes ``now`` (unix seconds)
and returns a list of *actions* — relay calls to make, in order
(:class:`~walletsync.protocol.relay_rpc.Publish`, ``Subscribe``,
``Unsubscribe``, ``ProposeSession``, ``ApproveSession``) and
:class:`~walletsync.protocol.events.Event` objects to report. Randomness (keys,
nonces, ids) comes from the ``random`` callable given at construction.

Two kinds of input drive it:

* **Intents** from our caller: :meth:`connect` / :meth:`request` (dapp role),
  :meth:`pair` / :meth:`approve` / :meth:`reject` / :meth:`respond` /
  :meth:`update` / :meth:`emit` (wallet role), :meth:`ping` / :meth:`extend` /
  :meth:`disconnect` (either role), and :meth:`expire` for the clock. An intent
  the protocol does not allow raises a :class:`ProtocolError` with
  ``by="caller"`` and changes nothing.
* **Messages** from the relay: :meth:`receive` with the topic and the base64
  envelope. Peer input never raises: anything malformed, undecryptable,
  duplicated, out of scope or out of order becomes a
  :class:`~walletsync.protocol.events.MessageRejected` event (and, where the
  SDK does so, a JSON-RPC error published back) and changes nothing else.

The code follows that split, as h11 keeps its readers apart from its connection:
this module holds the state and the intents, :mod:`~walletsync.protocol.inbound`
the handling of messages, and :mod:`~walletsync.protocol.core` what both build on
(ids, sealing, publishing, dropping a session) with the clock and the store's side.

The handshake (reference §5): the dapp creates a pairing (a random symKey; its
topic is the key's sha256) and publishes ``wc_sessionPropose`` on it — through
the relay's ``wc_proposeSession`` (SDK ≥ 2.21.6, the default) or with
``irn_subscribe`` + ``irn_publish`` (``handshake="legacy"``). The wallet pairs
from the URI, receives the proposal, and approves: it derives the session key
from a fresh X25519 key and the proposer's, answers the proposal on the pairing
topic (tag 1101) and sends ``wc_sessionSettle`` on the session topic (1102),
through ``wc_approveSession`` or two publishes. The dapp derives the same key
from the answer, subscribes to the session topic, receives the settle, stores
the session and acknowledges it (1103). After that both sides exchange session
messages; the table :data:`~walletsync.protocol.inbound.INBOUND` says which
method is handled on which kind of topic, and
:data:`~walletsync.protocol.methods.OUTBOUND` gives every method's tag, TTL and
prompt. What the peer sent is read by :mod:`walletsync.protocol.readers`.

Persistence: a store keeps the engine's state and hands it back through
:meth:`SignEngine.restore` (after a restart, or when another client sharing the
store changed it). That includes the replay memory (:class:`ReplayMemory`: the
envelopes seen, the request ids handled, the send time of the newest update and
event applied, kept by a :class:`~walletsync.protocol.replay.ReplayGuard`);
:meth:`SignEngine.take_replay_changes` says what a step added, for the store to
record with that step's events.

Device groups: when :attr:`SignEngine.siblings` is set, the engine seals with a nonce derived
from the plaintext and a group key, and ignores a message on a shared session that carries such
a nonce: one of the user's other devices spoke, not the peer (docs/SYNC.md).

Invariants the tests check: no session exists on the dapp without a valid
settle; each request is answered at most once; a message seen before (same
bytes on the same topic, or same request id) is ignored; a deleted or expired
session never comes back (its key is gone, so nothing on its topic decrypts).
"""

from __future__ import annotations

from typing import Any, Literal

from walletsync.protocol import events as ev
from walletsync.protocol.core import Action
from walletsync.protocol.crypto import Random, X25519KeyPair, derive_sym_key, key_from_hex, sha256_hex, topic_for
from walletsync.protocol.errors import Expired, InvalidNamespaces, InvalidState, ProtocolError, UnknownTarget
from walletsync.protocol.inbound import INBOUND, Inbound
from walletsync.protocol.jsonrpc import ErrorResponse, Request, Result, RpcError, id_timestamp_ms, sdk_error
from walletsync.protocol.methods import (
    MAX_REQUEST_EXPIRY,
    MIN_REQUEST_EXPIRY,
    OUTBOUND,
    PROPOSAL_REJECT,
    PROPOSAL_TTL,
    RELAY,
    REQUEST_TTL,
    SESSION_TTL,
)
from walletsync.protocol.namespaces import (
    Namespaces,
    require_conforming,
    require_event_in_scope,
    require_in_scope,
    validate_proposal_namespaces,
    validate_session_namespaces,
)
from walletsync.protocol.relay_rpc import ApproveSession, ProposeSession, Publish, Subscribe
from walletsync.protocol.replay import ReplayGuard
from walletsync.protocol.state import Pairing, PendingRequest, Proposal, SentProposal, Session
from walletsync.protocol.uri import PAIRING_TTL, PairingUri, parse_uri

Handshake = Literal["relay", "legacy"]
__all__ = ["INBOUND", "Action", "Handshake", "SignEngine"]


class SignEngine(Inbound):
    """The Sign state machine for one client (dapp, wallet, or both).

    ``metadata`` is this side's ``{name, description, url, icons}``;
    ``random(n)`` returns n random bytes (``os.urandom`` in production).
    """

    def __init__(
        self,
        metadata: dict[str, Any],
        random: Random,
        *,
        handshake: Handshake = "relay",
    ) -> None:
        if handshake not in ("relay", "legacy"):
            raise ValueError(f"handshake must be 'relay' or 'legacy', not {handshake!r}")
        self.metadata = metadata
        self.handshake: Handshake = handshake
        self._random = random
        self.siblings = None
        self.pairings: dict[str, Pairing] = {}
        self.sent_proposals: dict[int, SentProposal] = {}
        self.received_proposals: dict[int, Proposal] = {}
        self.sessions: dict[str, Session] = {}
        self.requests: dict[tuple[str, int], PendingRequest] = {}
        self._replay = ReplayGuard()
        self._last_id = 0

    # --- lookups for intents -----------------------------------------------------------

    def _session(self, topic: str, now: float) -> Session:
        session = self.sessions.get(topic)
        if session is None:
            raise UnknownTarget(f"no session with topic {topic[:12]}…", by="caller")
        if session.expiry <= now:
            raise Expired(f"session {topic[:12]}… expired at {session.expiry}", by="caller")
        return session

    # --- dapp intents ------------------------------------------------------------------

    def connect(
        self,
        now: float,
        *,
        required_namespaces: Namespaces | None = None,
        optional_namespaces: Namespaces | None = None,
        session_properties: dict[str, Any] | None = None,
    ) -> list[Action]:
        """Create a pairing and propose a session on it. The URI is in the :class:`PairingCreated` event."""
        required = validate_proposal_namespaces(required_namespaces or {}, "requiredNamespaces", by="caller")
        optional = validate_proposal_namespaces(optional_namespaces or {}, "optionalNamespaces", by="caller")
        if not required and not optional:
            raise InvalidNamespaces("a proposal needs at least one namespace", by="caller")
        expiry = int(now) + PAIRING_TTL
        uri = PairingUri.create(self._random(32), expiry_timestamp=expiry)
        self.pairings[uri.topic] = Pairing(uri.topic, uri.sym_key, expiry, proposer=True)
        keypair = X25519KeyPair.generate(self._random)
        proposal_id = self._new_id(now)
        proposal = Proposal(
            id=proposal_id,
            pairing_topic=uri.topic,
            proposer_public_key=keypair.public_hex,
            proposer_metadata=self.metadata,
            required_namespaces=required,
            optional_namespaces=optional,
            expiry_timestamp=int(now) + PROPOSAL_TTL,
            session_properties=session_properties,
        )
        self.sent_proposals[proposal_id] = SentProposal(proposal, keypair.private_key)
        message = self._seal(uri.sym_key, Request(proposal_id, "wc_sessionPropose", proposal.to_params()))
        self._replay.first_envelope(uri.topic, sha256_hex(message.encode("ascii")))
        actions: list[Action] = [ev.PairingCreated(uri)]
        if self.handshake == "relay":
            actions.append(ProposeSession(uri.topic, message, PROPOSAL_TTL, correlation_id=proposal_id))
        else:
            opts = OUTBOUND["wc_sessionPropose"][0]
            actions += [
                Subscribe(uri.topic),
                Publish(uri.topic, message, opts.ttl, opts.tag, opts.prompt, extra={"correlationId": proposal_id}),
            ]
        actions.append(ev.ProposalSent(proposal))
        return actions

    def request(
        self, topic: str, chain_id: str, method: str, params: Any, now: float, *, expiry: int = REQUEST_TTL
    ) -> list[Action]:
        """Send ``wc_sessionRequest``; the id is in :class:`RequestSent`. Out-of-scope raises :class:`OutOfScope`."""
        session = self._session(topic, now)
        require_in_scope(session.namespaces, chain_id, method, by="caller")
        if not MIN_REQUEST_EXPIRY <= expiry <= MAX_REQUEST_EXPIRY:
            raise ProtocolError(
                f"request expiry must be {MIN_REQUEST_EXPIRY}..{MAX_REQUEST_EXPIRY} s, got {expiry}", by="caller"
            )
        expiry_ts = int(now) + expiry
        wire = {"request": {"method": method, "params": params, "expiryTimestamp": expiry_ts}, "chainId": chain_id}
        tvf = {"rpcMethods": [method], "chainId": chain_id, "txHashes": [], "contractAddresses": []}
        request_id, publish = self._send_request(session, "wc_sessionRequest", wire, now, tvf, ttl=expiry)
        self.requests[(topic, request_id)] = PendingRequest(
            topic, request_id, "wc_sessionRequest", "outgoing", expiry_ts, method, params, chain_id
        )
        return [publish, ev.RequestSent(topic, request_id, chain_id, method, params, expiry_ts)]

    # --- wallet intents ----------------------------------------------------------------

    def pair(self, uri: PairingUri | str, now: float) -> list[Action]:
        """Store a pairing from a scanned URI and subscribe to it; the proposal arrives through :meth:`receive`."""
        if isinstance(uri, str):
            uri = parse_uri(uri)
        if uri.is_expired(now):
            raise Expired(f"pairing URI expired at {uri.expiry_timestamp}", by="peer")
        existing = self.pairings.get(uri.topic)
        if existing is not None and existing.active:
            raise InvalidState("pairing already exists and is active", by="caller")
        expiry = uri.expiry_timestamp or int(now) + PAIRING_TTL
        self.pairings[uri.topic] = Pairing(uri.topic, uri.sym_key, expiry, proposer=False, methods=uri.methods)
        return [Subscribe(uri.topic), ev.Paired(uri.topic, expiry)]

    def approve(
        self,
        proposal_id: int,
        namespaces: Namespaces,
        now: float,
        *,
        session_properties: dict[str, Any] | None = None,
    ) -> list[Action]:
        """Approve a received proposal with the granted ``namespaces``; settles the session."""
        proposal = self.received_proposals.get(proposal_id)
        if proposal is None:
            raise UnknownTarget(f"no pending proposal {proposal_id}", by="caller")
        if proposal.expiry_timestamp <= now:
            raise Expired(f"proposal {proposal_id} expired at {proposal.expiry_timestamp}", by="caller")
        pairing = self.pairings.get(proposal.pairing_topic)
        if pairing is None:
            raise UnknownTarget("the proposal's pairing is gone", by="caller")
        validate_session_namespaces(namespaces, by="caller")
        require_conforming(proposal.required_namespaces, namespaces, by="caller")
        keypair = X25519KeyPair.generate(self._random)
        sym_key = derive_sym_key(keypair.private_key, key_from_hex(proposal.proposer_public_key, "proposer publicKey"))
        session_topic = topic_for(sym_key)
        expiry = int(now) + SESSION_TTL
        settle_params: dict[str, Any] = {
            "relay": RELAY,
            "namespaces": namespaces,
            "controller": {"publicKey": keypair.public_hex, "metadata": self.metadata},
            "expiry": expiry,
        }
        if session_properties is not None:
            settle_params["sessionProperties"] = session_properties
        session = Session(
            topic=session_topic,
            sym_key=sym_key,
            pairing_topic=proposal.pairing_topic,
            self_public_key=keypair.public_hex,
            peer_public_key=proposal.proposer_public_key,
            peer_metadata=proposal.proposer_metadata,
            controller_public_key=keypair.public_hex,
            namespaces=namespaces,
            expiry=expiry,
            is_controller=True,
            acknowledged=False,
            required_namespaces=proposal.required_namespaces,
            optional_namespaces=proposal.optional_namespaces,
            session_properties=session_properties,
        )
        settle_id = self._new_id(now)
        response = Result(proposal.id, {"relay": RELAY, "responderPublicKey": keypair.public_hex})
        settle_opts, response_opts = OUTBOUND["wc_sessionSettle"][0], OUTBOUND["wc_sessionPropose"][1]
        actions: list[Action] = []
        if self.handshake == "relay":
            response_b64 = self._seal(pairing.sym_key, response)
            settle_b64 = self._seal(sym_key, Request(settle_id, "wc_sessionSettle", settle_params))
            self._replay.first_envelope(pairing.topic, sha256_hex(response_b64.encode("ascii")))
            self._replay.first_envelope(session_topic, sha256_hex(settle_b64.encode("ascii")))
            chains = tuple(dict.fromkeys(list(_flat(namespaces, "chains")) + sorted(session.chains)))
            actions.append(
                ApproveSession(
                    session_topic,
                    pairing.topic,
                    response_b64,
                    settle_b64,
                    PROPOSAL_TTL,
                    proposal.id,
                    chains,
                    _flat(namespaces, "methods"),
                    _flat(namespaces, "events"),
                )
            )
        else:
            actions.append(Subscribe(session_topic))
            actions.append(
                self._publish(
                    session_topic,
                    sym_key,
                    Request(settle_id, "wc_sessionSettle", settle_params),
                    settle_opts,
                    {"correlationId": settle_id},
                )
            )
            actions.append(
                self._publish(pairing.topic, pairing.sym_key, response, response_opts, {"correlationId": proposal.id})
            )
        del self.received_proposals[proposal_id]
        pairing.active, pairing.expiry = True, int(now) + PAIRING_TTL
        self.sessions[session_topic] = session
        self.requests[(session_topic, settle_id)] = PendingRequest(
            session_topic, settle_id, "wc_sessionSettle", "outgoing", int(now) + settle_opts.ttl
        )
        actions.append(ev.SessionSettled(session))
        return actions

    def reject(self, proposal_id: int, now: float, *, error: RpcError | None = None) -> list[Action]:
        """Refuse a received proposal (5000 User rejected unless ``error`` says otherwise)."""
        proposal = self.received_proposals.pop(proposal_id, None)
        if proposal is None:
            raise UnknownTarget(f"no pending proposal {proposal_id}", by="caller")
        pairing = self.pairings.get(proposal.pairing_topic)
        if pairing is None:
            return []
        message = ErrorResponse(proposal.id, error or sdk_error("USER_REJECTED"))
        return [self._publish(pairing.topic, pairing.sym_key, message, PROPOSAL_REJECT)]

    def respond(
        self,
        topic: str,
        request_id: int,
        now: float,
        *,
        result: Any = None,
        error: RpcError | None = None,
        allow_late: bool = False,
    ) -> list[Action]:
        """Answer a received ``wc_sessionRequest`` once, with ``result`` or ``error``."""
        pending = self.requests.get((topic, request_id))
        if pending is None or pending.direction != "incoming":
            raise UnknownTarget(f"no pending request {request_id} on {topic[:12]}…", by="caller")
        session = self.sessions.get(topic)
        if session is None:
            raise UnknownTarget(f"session {topic[:12]}… is gone", by="caller")
        if (pending.expired or pending.expiry <= now) and not allow_late:
            raise Expired(f"request {request_id} expired at {pending.expiry}", by="caller")
        del self.requests[(topic, request_id)]
        tvf = {"rpcMethods": [pending.method], "chainId": pending.chain_id, "txHashes": [], "contractAddresses": []}
        request = Request(request_id, "wc_sessionRequest", None)
        return [
            self._reply(
                topic, session.sym_key, request, OUTBOUND["wc_sessionRequest"][1], result=result, error=error, extra=tvf
            )
        ]

    def update(self, topic: str, namespaces: Namespaces, now: float) -> list[Action]:
        """Change a session's namespaces (controller only)."""
        session = self._session(topic, now)
        if not session.is_controller:
            raise InvalidState("only the wallet (controller) may update a session", by="caller")
        validate_session_namespaces(namespaces, by="caller")
        require_conforming(session.required_namespaces, namespaces, by="caller")
        request_id, publish = self._send_request(session, "wc_sessionUpdate", {"namespaces": namespaces}, now)
        session.namespaces = namespaces
        self._replay.applied_update(topic, id_timestamp_ms(request_id))
        self.requests[(topic, request_id)] = PendingRequest(
            topic, request_id, "wc_sessionUpdate", "outgoing", int(now) + OUTBOUND["wc_sessionUpdate"][0].ttl
        )
        return [publish]

    def emit(self, topic: str, chain_id: str, name: str, data: Any, now: float) -> list[Action]:
        """Send a session event (``chainChanged``, ``accountsChanged``, …); the peer does not answer."""
        session = self._session(topic, now)
        require_event_in_scope(session.namespaces, chain_id, name, by="caller")
        request_id, publish = self._send_request(
            session, "wc_sessionEvent", {"event": {"name": name, "data": data}, "chainId": chain_id}, now
        )
        self._replay.note_fire_and_forget(topic, request_id)
        return [publish]

    # --- either role ------------------------------------------------------------------

    def ping(self, topic: str, now: float) -> list[Action]:
        session = self._session(topic, now)
        request_id, publish = self._send_request(session, "wc_sessionPing", {}, now)
        self.requests[(topic, request_id)] = PendingRequest(
            topic, request_id, "wc_sessionPing", "outgoing", int(now) + PAIRING_TTL
        )
        return [publish]

    def extend(self, topic: str, now: float) -> list[Action]:
        """Push the session's expiry to now + 7 days, here and at the peer."""
        session = self._session(topic, now)
        request_id, publish = self._send_request(session, "wc_sessionExtend", {}, now)
        session.expiry = int(now) + SESSION_TTL
        self.requests[(topic, request_id)] = PendingRequest(
            topic, request_id, "wc_sessionExtend", "outgoing", int(now) + OUTBOUND["wc_sessionExtend"][0].ttl
        )
        return [publish, ev.SessionExtended(topic, session.expiry)]

    def disconnect(self, topic: str, now: float, *, error: RpcError | None = None) -> list[Action]:
        """Tell the peer the session is over, then forget its keys."""
        session = self.sessions.get(topic)
        if session is None:
            raise UnknownTarget(f"no session with topic {topic[:12]}…", by="caller")
        reason = error or sdk_error("USER_DISCONNECTED")
        request_id, publish = self._send_request(session, "wc_sessionDelete", reason.to_json(), now)
        self._replay.note_fire_and_forget(topic, request_id)
        return [publish, *self._drop_session(topic, ev.SessionDeleted(topic, reason.code, reason.message, "self"))]


def _flat(namespaces: Namespaces, field: str) -> tuple[str, ...]:
    """One namespace field (chains, methods, events) over all namespaces, first-seen order, no repeats."""
    return tuple(dict.fromkeys(x for ns in namespaces.values() for x in ns.get(field, [])))
