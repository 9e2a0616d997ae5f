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
messages; the table :data:`INBOUND` says which method is handled on which kind
of topic, and :data:`~walletsync.protocol.methods.OUTBOUND` gives every method's
tag, TTL and prompt. What the peer sent is read by :mod:`walletsync.protocol.readers`.

Persistence: a store keeps the engine's state and hands it back through
:meth:`SignEngine.restore` (after a restart, or when another client sharing the
store changed it). That includes the replay memory (:class:`ReplayMemory`: the
envelopes seen, the request ids handled, the send time of the newest update and
event applied, kept by a :class:`~walletsync.protocol.replay.ReplayGuard`);
:meth:`SignEngine.take_replay_changes` says what a step added, for the store to
record with that step's events.

Invariants the tests check: no session exists on the dapp without a valid
settle; each request is answered at most once; a message seen before (same
bytes on the same topic, or same request id) is ignored; a deleted or expired
session never comes back (its key is gone, so nothing on its topic decrypts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal, cast

from walletsync.protocol import events as ev
from walletsync.protocol.crypto import (
    Random,
    X25519KeyPair,
    derive_sym_key,
    key_from_hex,
    open_b64,
    seal_b64,
    sha256_hex,
    topic_for,
)
from walletsync.protocol.errors import (
    Expired,
    InvalidMessage,
    InvalidNamespaces,
    InvalidState,
    ProtocolError,
    UnknownTarget,
)
from walletsync.protocol.jsonrpc import (
    ErrorResponse,
    Message,
    Request,
    Result,
    RpcError,
    encode,
    id_timestamp_ms,
    parse_message,
    payload_id,
    sdk_error,
)
from walletsync.protocol.methods import (
    MAX_REQUEST_EXPIRY,
    MIN_REQUEST_EXPIRY,
    OUTBOUND,
    PROPOSAL_AUTO_REJECT,
    PROPOSAL_REJECT,
    PROPOSAL_TTL,
    RELAY,
    REQUEST_TTL,
    SESSION_TTL,
    UNSUPPORTED_ON_PAIRING,
    Opts,
)
from walletsync.protocol.namespaces import (
    Namespaces,
    require_conforming,
    require_event_in_scope,
    require_in_scope,
    validate_proposal_namespaces,
    validate_session_namespaces,
)
from walletsync.protocol.readers import (
    read_delete,
    read_event,
    read_extend,
    read_proposal,
    read_proposal_response,
    read_session_request,
    read_settle,
    read_update,
)
from walletsync.protocol.relay_rpc import ApproveSession, ProposeSession, Publish, Subscribe, Unsubscribe
from walletsync.protocol.replay import ReplayGuard
from walletsync.protocol.state import Pairing, PendingRequest, Proposal, ReplayMemory, SentProposal, Session
from walletsync.protocol.uri import PAIRING_TTL, PairingUri, parse_uri

Handshake = Literal["relay", "legacy"]
Action = ev.Action

# Which inbound request is handled on which kind of topic. A method not listed for the
# topic's kind is refused: 10001 on a pairing topic (as the SDK does), ignored elsewhere.
INBOUND: dict[tuple[str, str], str] = {
    ("pairing", "wc_sessionPropose"): "_on_propose",
    ("pairing", "wc_pairingDelete"): "_on_pairing_delete",
    ("pairing", "wc_pairingPing"): "_on_pairing_ping",
    ("settling", "wc_sessionSettle"): "_on_settle",
    ("session", "wc_sessionRequest"): "_on_request",
    ("session", "wc_sessionPing"): "_on_ping",
    ("session", "wc_sessionExtend"): "_on_extend",
    ("session", "wc_sessionUpdate"): "_on_update",
    ("session", "wc_sessionEvent"): "_on_event",
    ("session", "wc_sessionDelete"): "_on_delete",
}


class SignEngine:
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
        self.pairings: dict[str, Pairing] = {}
        self.sent_proposals: dict[int, SentProposal] = {}
        self.received_proposals: dict[int, Proposal] = {}
        self.sessions: dict[str, Session] = {}
        self.requests: dict[tuple[str, int], PendingRequest] = {}
        self._replay = ReplayGuard()
        self._last_id = 0

    # --- ids, sealing, publishing -------------------------------------------------------

    def _new_id(self, now: float) -> int:
        candidate = payload_id(now, int.from_bytes(self._random(2), "big"))
        self._last_id = max(candidate, self._last_id + 1)
        return self._last_id

    def _seal(self, key: bytes, message: Message) -> str:
        return seal_b64(key, encode(message), self._random(12))

    def _publish(
        self, topic: str, key: bytes, message: Message, opts: Opts, extra: dict[str, Any] | None = None
    ) -> Publish:
        b64 = self._seal(key, message)
        self._replay.first_envelope(topic, sha256_hex(b64.encode("ascii")))  # a relay echo is then a duplicate
        return Publish(topic, b64, opts.ttl, opts.tag, opts.prompt, extra=extra or {})

    def _send_request(
        self,
        session: Session,
        method: str,
        params: Any,
        now: float,
        tvf: dict[str, Any] | None = None,
        ttl: int | None = None,
    ) -> tuple[int, Publish]:
        request_id = self._new_id(now)
        opts = OUTBOUND[method][0]
        if ttl is not None:
            opts = Opts(opts.tag, ttl, opts.prompt)
        fields = {"correlationId": request_id, **(tvf or {})}
        return request_id, self._publish(
            session.topic, session.sym_key, Request(request_id, method, params), opts, fields
        )

    def _reply(
        self,
        topic: str,
        key: bytes,
        request: Request,
        opts: Opts,
        *,
        result: Any = None,
        error: RpcError | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Publish:
        message: Message = ErrorResponse(request.id, error) if error is not None else Result(request.id, result)
        return self._publish(topic, key, message, opts, {"correlationId": request.id, **(extra or {})})

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

    def expire(self, now: float) -> list[Action]:
        """Expire everything whose time has come; call it at :meth:`next_deadline`."""
        actions: list[Action] = []
        for proposal_id, sent in list(self.sent_proposals.items()):
            if sent.proposal.expiry_timestamp <= now:
                del self.sent_proposals[proposal_id]
                if sent.session_topic:
                    actions.append(Unsubscribe(sent.session_topic))
                actions.append(ev.ProposalExpired(proposal_id))
        for proposal_id, proposal in list(self.received_proposals.items()):
            if proposal.expiry_timestamp <= now:
                del self.received_proposals[proposal_id]
                actions.append(ev.ProposalExpired(proposal_id))
        for topic, session in list(self.sessions.items()):
            if session.expiry <= now:
                actions += self._drop_session(topic, ev.SessionExpired(topic))
        for pending in list(self.requests.values()):
            if not pending.expired and pending.expiry <= now:
                if pending.wire_method == "wc_sessionRequest":
                    pending.expired = True
                    method = cast(str, pending.method)  # set on every wc_sessionRequest
                    actions.append(ev.RequestExpired(pending.topic, pending.id, method, pending.direction))
                else:
                    del self.requests[(pending.topic, pending.id)]
        for topic, pairing in list(self.pairings.items()):
            if pairing.expiry <= now:
                del self.pairings[topic]
                self._replay.forget(topic)
                actions += [Unsubscribe(topic), ev.PairingExpired(topic)]
        return actions

    def topics(self) -> set[str]:
        """Every topic this engine expects messages on: subscribe to these after a restart."""
        settling = {s.session_topic for s in self.sent_proposals.values() if s.session_topic}
        return set(self.sessions) | set(self.pairings) | settling

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`expire` has something to do, or None."""
        times = [p.expiry for p in self.pairings.values()]
        times += [s.proposal.expiry_timestamp for s in self.sent_proposals.values()]
        times += [p.expiry_timestamp for p in self.received_proposals.values()]
        times += [s.expiry for s in self.sessions.values()]
        times += [r.expiry for r in self.requests.values() if not r.expired]
        return min(times) if times else None

    def _drop_session(self, topic: str, event: ev.Event) -> list[Action]:
        """Forget a session's keys and requests; outgoing requests fail with 6000 locally."""
        del self.sessions[topic]
        actions: list[Action] = [Unsubscribe(topic)]
        for key, pending in list(self.requests.items()):
            if pending.topic != topic:
                continue
            del self.requests[key]
            if pending.direction == "outgoing" and pending.wire_method == "wc_sessionRequest":
                actions.append(
                    ev.RequestFailed(
                        topic,
                        pending.id,
                        cast(str, pending.method),  # set on every wc_sessionRequest
                        sdk_error("USER_DISCONNECTED"),
                        late=pending.expired,
                    )
                )
        self._replay.forget(topic)
        actions.append(event)
        return actions

    # --- persistence ------------------------------------------------------------------

    def restore(
        self,
        *,
        sessions: Iterable[Session] | None = None,
        pairings: Iterable[Pairing] | None = None,
        sent_proposals: Iterable[SentProposal] | None = None,
        requests: Iterable[PendingRequest] | None = None,
        replay: ReplayMemory | None = None,
    ) -> list[Action]:
        """Adopt state kept in a store: after a restart, or written there by another client sharing it.

        Each collection given replaces what the engine holds of that kind (requests on
        sessions it no longer has are dropped); ``replay`` is merged into what it already
        remembers, so a message handled before stays a duplicate. Returns the
        ``Subscribe`` / ``Unsubscribe`` calls for the topics gained and lost; no events,
        since whoever changed the store reported those.
        """
        before = self.topics()
        if sessions is not None:
            self.sessions = {s.topic: s for s in sessions}
        if pairings is not None:
            self.pairings = {p.topic: p for p in pairings}
        if sent_proposals is not None:
            self.sent_proposals = {s.proposal.id: s for s in sent_proposals}
        if requests is not None:
            self.requests = {(r.topic, r.id): r for r in requests}
        self.requests = {key: r for key, r in self.requests.items() if r.topic in self.sessions}
        if replay is not None:
            self._replay.merge(replay)
        after = self.topics()
        for topic in before - after:
            self._replay.forget(topic)
        return [*(Subscribe(t) for t in sorted(after - before)), *(Unsubscribe(t) for t in sorted(before - after))]

    def replay_memory(self) -> ReplayMemory:
        """Everything the engine remembers against replays (see :meth:`take_replay_changes` for what is new)."""
        return self._replay.memory()

    def take_replay_changes(self) -> ReplayMemory:
        """What the replay memory gained since the last call: persist it with the step that produced it.

        Kept even when the topic is forgotten meanwhile (the message that ended a session
        is the one a store most needs). A caller that never asks pays at most
        :data:`~walletsync.protocol.replay.SEEN_PER_TOPIC` entries per topic.
        """
        return self._replay.take_changes()

    # --- inbound ----------------------------------------------------------------------

    def _topic_kind(self, topic: str) -> tuple[str, bytes] | None:
        if topic in self.sessions:
            return "session", self.sessions[topic].sym_key
        if topic in self.pairings:
            return "pairing", self.pairings[topic].sym_key
        for sent in self.sent_proposals.values():
            if sent.session_topic == topic and sent.sym_key is not None:
                return "settling", sent.sym_key
        return None

    def receive(
        self, topic: str, message: str, now: float, *, published_at: int | None = None, tag: int | None = None
    ) -> list[Action]:
        """Handle one relay delivery. Never raises for bad peer input: see :class:`MessageRejected`."""
        try:
            if not isinstance(message, str) or not isinstance(topic, str):
                raise InvalidMessage("topic and message must be strings")
            kind_key = self._topic_kind(topic)
            if kind_key is None:
                raise UnknownTarget(f"message on unknown topic {topic[:12]}…")
            if not self._replay.first_envelope(topic, sha256_hex(message.encode("utf-8", "surrogatepass"))):
                return []
            kind, key = kind_key
            parsed = parse_message(open_b64(key, message))
            if isinstance(parsed, Request):
                return self._on_inbound_request(kind, topic, key, parsed, now)
            return self._on_response(topic, parsed, now)
        except ProtocolError as exc:
            exc.by = "peer"
            return [ev.MessageRejected(topic if isinstance(topic, str) else "", exc)]

    def _on_inbound_request(self, kind: str, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        if not self._replay.first_request(topic, request.id):
            return []
        handler = INBOUND.get((kind, request.method))
        if handler is None:
            if kind == "pairing":
                reply = self._reply(
                    topic,
                    key,
                    request,
                    UNSUPPORTED_ON_PAIRING,
                    error=sdk_error("WC_METHOD_UNSUPPORTED", request.method),
                )
                return [
                    reply,
                    ev.MessageRejected(
                        topic,
                        InvalidMessage(f"unsupported method {request.method[:40]!r} on a pairing topic", by="peer"),
                    ),
                ]
            raise InvalidMessage(f"method {request.method[:40]!r} is not valid on a {kind} topic")
        on_request: Callable[[str, bytes, Request, float], list[Action]] = getattr(self, handler)
        return on_request(topic, key, request, now)

    def _refuse(
        self,
        topic: str,
        key: bytes,
        request: Request,
        opts: Opts,
        exc: ProtocolError,
        fallback: str = "MISSING_OR_INVALID",
    ) -> list[Action]:
        """Answer an invalid request with the error code the check chose, and report it."""
        exc.by = "peer"
        code = exc.sdk_code if exc.sdk_code is not None else sdk_error(fallback).code
        return [self._reply(topic, key, request, opts, error=RpcError(code, str(exc))), ev.MessageRejected(topic, exc)]

    # pairing topic

    def _on_propose(self, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        pairing = self.pairings[topic]
        if pairing.proposer:
            raise InvalidMessage("a proposal arrived on a pairing we proposed on")
        try:
            proposal = read_proposal(request, topic)
        except ProtocolError as exc:
            return self._refuse(topic, key, request, PROPOSAL_AUTO_REJECT, exc)
        if proposal.expiry_timestamp <= now:
            return [
                ev.MessageRejected(
                    topic, Expired(f"proposal {proposal.id} expired at {proposal.expiry_timestamp}", by="peer")
                )
            ]
        self.received_proposals[proposal.id] = proposal
        return [ev.ProposalReceived(proposal)]

    def _on_pairing_delete(self, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        del self.pairings[topic]
        self._replay.forget(topic)
        return [Unsubscribe(topic), ev.PairingDeleted(topic)]

    def _on_pairing_ping(self, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        return [self._reply(topic, key, request, OUTBOUND["wc_pairingPing"][1], result=True)]

    # session topic, before the session exists (dapp)

    def _on_settle(self, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        sent = next(s for s in self.sent_proposals.values() if s.session_topic == topic)
        opts = OUTBOUND["wc_sessionSettle"][1]
        try:
            session = read_settle(request, sent, topic, now)
        except ProtocolError as exc:
            return self._refuse(topic, key, request, opts, exc, "INVALID_SESSION_SETTLE_REQUEST")
        del self.sent_proposals[sent.proposal.id]
        self.sessions[topic] = session
        if sent.proposal.pairing_topic in self.pairings:
            self.pairings[sent.proposal.pairing_topic].active = True
        return [self._reply(topic, key, request, opts, result=True), ev.SessionSettled(session)]

    # session topic

    def _on_request(self, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        session = self.sessions[topic]
        opts = OUTBOUND["wc_sessionRequest"][1]
        try:
            asked = read_session_request(request, session.namespaces, now)
        except ProtocolError as exc:
            return self._refuse(topic, key, request, opts, exc)
        if asked.expiry <= now:
            return [ev.RequestExpired(topic, request.id, asked.method, "incoming")]
        self.requests[(topic, request.id)] = PendingRequest(
            topic, request.id, "wc_sessionRequest", "incoming", asked.expiry, asked.method, asked.params, asked.chain_id
        )
        return [ev.SessionRequestReceived(topic, request.id, asked.chain_id, asked.method, asked.params, asked.expiry)]

    def _on_ping(self, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        return [self._reply(topic, key, request, OUTBOUND["wc_sessionPing"][1], result=True), ev.SessionPinged(topic)]

    def _on_extend(self, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        session = self.sessions[topic]
        limit = int(now) + SESSION_TTL
        asked = read_extend(request)
        if asked is not None and session.expiry < asked <= limit:
            session.expiry = asked  # the written spec's {expiry} variant
        else:
            session.expiry = limit
        return [
            self._reply(topic, key, request, OUTBOUND["wc_sessionExtend"][1], result=True),
            ev.SessionExtended(topic, session.expiry),
        ]

    def _on_update(self, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        session = self.sessions[topic]
        opts = OUTBOUND["wc_sessionUpdate"][1]
        try:
            if session.is_controller:
                raise InvalidState("only the controller may update a session", sdk_code=3003)
            namespaces = read_update(request, session.required_namespaces)
            sent_ms = id_timestamp_ms(request.id)
            if self._replay.update_is_stale(topic, sent_ms):
                raise InvalidMessage("update is older than one already applied", sdk_code=1003)
        except ProtocolError as exc:
            return self._refuse(topic, key, request, opts, exc, "INVALID_UPDATE_REQUEST")
        self._replay.applied_update(topic, sent_ms)
        session.namespaces = namespaces
        return [self._reply(topic, key, request, opts, result=True), ev.SessionUpdated(topic, namespaces)]

    def _on_event(self, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        session = self.sessions[topic]
        try:
            event = read_event(request, session.namespaces)
        except ProtocolError as exc:
            return self._refuse(topic, key, request, OUTBOUND["wc_sessionEvent"][1], exc, "INVALID_EVENT")
        sent_ms = id_timestamp_ms(request.id)
        if self._replay.event_is_stale(topic, event.name, sent_ms):
            return []  # stale: a newer event of this name was already applied
        self._replay.applied_event(topic, event.name, sent_ms)
        return [ev.SessionEventReceived(topic, event.chain_id, event.name, event.data)]

    def _on_delete(self, topic: str, key: bytes, request: Request, now: float) -> list[Action]:
        code, message = read_delete(request)
        return self._drop_session(topic, ev.SessionDeleted(topic, code, message, "peer"))

    # responses

    def _on_response(self, topic: str, response: Result | ErrorResponse, now: float) -> list[Action]:
        error = response.error if isinstance(response, ErrorResponse) else None
        if topic in self.pairings:
            sent = self.sent_proposals.get(response.id)
            if sent is not None and sent.proposal.pairing_topic == topic and sent.session_topic is None:
                return self._on_proposal_response(topic, sent, response, now)
        pending = self.requests.get((topic, response.id))
        if pending is None or pending.direction != "outgoing":
            if self._replay.is_fire_and_forget(topic, response.id):
                return []
            raise UnknownTarget(f"response to unknown request {response.id}")
        del self.requests[(topic, response.id)]
        if pending.wire_method == "wc_sessionRequest":
            method = cast(str, pending.method)  # set on every wc_sessionRequest
            if isinstance(response, ErrorResponse):
                return [ev.RequestFailed(topic, pending.id, method, response.error, late=pending.expired)]
            return [ev.RequestAnswered(topic, pending.id, method, response.result, late=pending.expired)]
        if pending.wire_method == "wc_sessionSettle":
            if error is not None:
                return self._drop_session(topic, ev.SessionDeleted(topic, error.code, error.message, "peer"))
            self.sessions[topic].acknowledged = True
        return [ev.Acknowledged(topic, pending.id, pending.wire_method, error)]

    def _on_proposal_response(
        self, topic: str, sent: SentProposal, response: Result | ErrorResponse, now: float
    ) -> list[Action]:
        proposal_id = sent.proposal.id
        if isinstance(response, ErrorResponse):
            del self.sent_proposals[proposal_id]
            return [ev.ProposalRejected(proposal_id, response.error)]
        responder_hex, responder_key = read_proposal_response(response.result)
        sym_key = derive_sym_key(sent.private_key, responder_key)
        sent.sym_key, sent.session_topic, sent.responder_public_key = sym_key, topic_for(sym_key), responder_hex
        self.pairings[topic].active = True
        self.pairings[topic].expiry = int(now) + PAIRING_TTL
        return [Subscribe(sent.session_topic), ev.ProposalApproved(proposal_id, sent.session_topic)]


def _flat(namespaces: Namespaces, field: str) -> tuple[str, ...]:
    """One namespace field (chains, methods, events) over all namespaces, first-seen order, no repeats."""
    return tuple(dict.fromkeys(x for ns in namespaces.values() for x in ns.get(field, [])))
