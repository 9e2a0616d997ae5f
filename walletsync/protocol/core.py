"""The base of the Sign engine: what its intents and its inbound handling share.

:class:`~walletsync.protocol.engine.SignEngine` is :class:`EngineCore` plus two layers, as
h11 keeps its readers apart from its connection: :mod:`~walletsync.protocol.engine` holds the
state and the caller's intents, :mod:`~walletsync.protocol.inbound` the handling of what the
peer sends. Both build on this: ids, sealing and publishing (a message we send is remembered,
so its relay echo is a duplicate) and dropping a session. The calls about the engine's time
and memory rather than one protocol step live here too: the clock (:meth:`EngineCore.expire`,
:meth:`EngineCore.next_deadline`) and the store's side (:meth:`EngineCore.restore`,
:meth:`EngineCore.topics`, the replay memory).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, cast

from walletsync.protocol import events as ev
from walletsync.protocol.crypto import Random, seal_b64, sha256_hex
from walletsync.protocol.jsonrpc import ErrorResponse, Message, Request, Result, RpcError, encode, payload_id, sdk_error
from walletsync.protocol.methods import OUTBOUND, Opts
from walletsync.protocol.relay_rpc import Publish, Subscribe, Unsubscribe
from walletsync.protocol.replay import ReplayGuard
from walletsync.protocol.state import Pairing, PendingRequest, Proposal, ReplayMemory, SentProposal, Session

Action = ev.Action


class Siblings(Protocol):
    """How this client's own other devices mark what they seal on a shared session (docs/SYNC.md).

    The nonce of a message is derived from its plaintext and a group key, so a member can tell a
    sibling's message from the phone's after decrypting it; to the phone it is a random nonce.
    """

    def nonce(self, plaintext: bytes) -> bytes:
        """The 12-byte nonce to seal ``plaintext`` with."""
        ...

    def is_sibling(self, nonce: bytes, plaintext: bytes) -> bool:
        """True when ``plaintext`` was sealed by a device of the group (with :meth:`nonce`)."""
        ...


class EngineCore:
    """The records one client keeps in flight and the moves on them every step shares.

    :class:`~walletsync.protocol.engine.SignEngine` sets these in its constructor; they
    are declared here for the parts that read and change them.
    """

    pairings: dict[str, Pairing]
    sent_proposals: dict[int, SentProposal]
    received_proposals: dict[int, Proposal]
    sessions: dict[str, Session]
    requests: dict[tuple[str, int], PendingRequest]
    _random: Random
    siblings: Siblings | None
    """Set when this client belongs to a device group: its messages are marked, its siblings' ignored."""
    _replay: ReplayGuard
    _last_id: int

    # --- ids, sealing, publishing -------------------------------------------------------

    def _new_id(self, now: float) -> int:
        candidate = payload_id(now, int.from_bytes(self._random(2), "big"))
        self._last_id = max(candidate, self._last_id + 1)
        return self._last_id

    def _seal(self, key: bytes, message: Message) -> str:
        plaintext = encode(message)
        iv = self.siblings.nonce(plaintext) if self.siblings is not None else self._random(12)
        return seal_b64(key, plaintext, iv)

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

    # --- ending a session -------------------------------------------------------------

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

    # --- the clock --------------------------------------------------------------------

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
