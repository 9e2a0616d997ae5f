"""Handling what the peer sends: one relay delivery in, actions out, never an exception.

Split from the engine as h11 keeps ``_readers.py`` apart from its connection: the intents in
:mod:`~walletsync.protocol.engine` are what our caller asks, these are what the other side
asks or answers. :meth:`Inbound.receive` opens the envelope and drops a duplicate; a request
goes to its handler through :data:`INBOUND`, a response to the request or proposal it
answers. What the peer's parameters must look like is :mod:`~walletsync.protocol.readers`'
job; a handler decides what changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from walletsync.protocol import events as ev
from walletsync.protocol.core import Action, EngineCore
from walletsync.protocol.crypto import IV_BYTES, b64decode, derive_sym_key, open_b64, sha256_hex, topic_for
from walletsync.protocol.errors import Expired, InvalidMessage, InvalidState, ProtocolError, UnknownTarget
from walletsync.protocol.jsonrpc import (
    ErrorResponse,
    Request,
    Result,
    RpcError,
    id_timestamp_ms,
    parse_message,
    sdk_error,
)
from walletsync.protocol.methods import OUTBOUND, PROPOSAL_AUTO_REJECT, SESSION_TTL, UNSUPPORTED_ON_PAIRING, Opts
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
from walletsync.protocol.relay_rpc import Subscribe, Unsubscribe
from walletsync.protocol.state import PendingRequest, SentProposal
from walletsync.protocol.uri import PAIRING_TTL

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


class Inbound(EngineCore):
    """The receive side of :class:`~walletsync.protocol.engine.SignEngine`: :meth:`receive` and its handlers."""

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
            plaintext = open_b64(key, message)
            if self.siblings is not None and self.siblings.is_sibling(b64decode(message)[1 : 1 + IV_BYTES], plaintext):
                return []  # one of our own devices spoke on a shared session: an echo, not the peer
            parsed = parse_message(plaintext)
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
