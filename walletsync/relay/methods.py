"""What the relay does with each frame a client sends: the irn_* methods (:data:`HANDLERS`) and acks.

A bad frame gets a JSON-RPC error on that connection only. Publishes and acks, nearly all traffic,
are read by :func:`~walletsync.relay.frames.quick_frame` without building request objects; a quick
publish then takes the same path as an ``irn_publish`` request (:meth:`Methods.publish`), answered
once it is durable.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from walletsync.protocol.methods import SESSION_PROPOSE_RESPONSE_TAG, SESSION_PROPOSE_TAG, SESSION_SETTLE_TAG
from walletsync.protocol.relay_rpc import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    ApproveSession,
    BatchFetchMessages,
    BatchPublish,
    BatchReceive,
    BatchSubscribe,
    BatchUnsubscribe,
    FetchMessages,
    FrameError,
    Params,
    ProposeSession,
    Publish,
    RelayError,
    RelayRequest,
    RelayResult,
    Subscribe,
    Unsubscribe,
    encode_error,
    encode_result,
    normalize_id,
    parse_frame,
)
from walletsync.relay.connection import Client
from walletsync.relay.delivery import Delivery
from walletsync.relay.frames import ACK, quick_frame, result_true
from walletsync.relay.mailbox import PAGE_OVERHEAD, RelayRefusal, stored_size

log = logging.getLogger("walletsync.relay")

MAX_PAGING_IDS = 100_000


def topics_of(params: Params) -> tuple[str, ...]:
    """The topics a request subscribes its client to (their mailboxes are pushed after the answer)."""
    if isinstance(params, Subscribe):
        return (params.topic,)
    if isinstance(params, BatchSubscribe):
        return params.topics
    if isinstance(params, ProposeSession):
        return (params.pairing_topic,)
    if isinstance(params, ApproveSession):
        return (params.session_topic,)
    return ()


class Methods:
    """Answers the frames of every connection of one relay process: :meth:`on_frame`, one frame at a time."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.mailbox = delivery.mailbox
        self.store = delivery.store
        self.limits = delivery.limits
        self.clock = delivery.clock

    async def on_frame(self, client: Client, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            client.send(encode_error(None, INVALID_REQUEST, "binary frames are not supported", "InvalidPayload"))
            return
        quick = quick_frame(raw)
        if quick is not None:
            if quick[0] == ACK:
                pushed = client.pushes.pop(quick[1], None)
                if pushed is not None:
                    await self.store.ack(pushed[0], pushed[1], client.client_id)
            else:
                _, rid, topic, message, ttl, tag, prompt, attestation = quick
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("client %s: %s %s tag=%s", client.client_id[-8:], Publish.METHOD, topic[:8], tag)
                try:
                    await self.publish(client, topic, message, ttl, tag, prompt, attestation)
                except Exception as exc:
                    self._refuse(client, rid, Publish.METHOD, exc)
                else:
                    # answered once durable, without holding up this connection's next frames meanwhile
                    self.store.after_commit(lambda error: self._answer_publish(client, rid, error))
            return
        try:
            frame = parse_frame(raw)
        except FrameError as exc:
            client.send(encode_error(exc.request_id, exc.rpc_code, str(exc), "InvalidPayload"))
            return
        if isinstance(frame, RelayRequest):
            await self._on_request(client, frame)
        elif isinstance(frame, (RelayResult, RelayError)):
            await self._on_ack(client, frame)

    def _refuse(self, client: Client, request_id: int | str | None, method: str, error: Exception) -> None:
        """Answer a request that failed: a :class:`RelayRefusal` says why, anything else is logged and internal.

        Call it from the ``except`` block that caught ``error`` (the log takes the traceback from there).
        """
        if isinstance(error, RelayRefusal):
            client.send(encode_error(request_id, error.rpc_code, str(error), error.tag))
        else:
            log.exception("%s failed for client %s", method, client.client_id[-8:])
            client.send(encode_error(request_id, INTERNAL_ERROR, "internal relay error", "Internal"))

    def _answer_publish(self, client: Client, request_id: int | str, error: BaseException | None) -> None:
        if error is None:
            client.send(result_true(request_id))
        else:
            log.error("%s failed for client %s: %s", Publish.METHOD, client.client_id[-8:], error)
            client.send(encode_error(request_id, INTERNAL_ERROR, "internal relay error", "Internal"))

    async def _on_ack(self, client: Client, frame: RelayResult | RelayError) -> None:
        try:
            pushed = client.pushes.pop(normalize_id(frame.id), None)
        except FrameError:
            return
        if pushed is not None and isinstance(frame, RelayResult):
            await self.store.ack(pushed[0], pushed[1], client.client_id)

    async def _on_request(self, client: Client, request: RelayRequest) -> None:
        params = request.params
        if log.isEnabledFor(logging.DEBUG):
            topics = topics_of(params) or ((params.topic,) if hasattr(params, "topic") else ())
            tag = f" tag={params.tag}" if isinstance(params, Publish) else ""
            log.debug("client %s: %s %s%s", client.client_id[-8:], request.method, ",".join(t[:8] for t in topics), tag)
        handler = HANDLERS.get(type(params))
        try:
            if handler is None:  # e.g. a client sending irn_subscription to the relay
                raise RelayRefusal(f"{request.method} is not a client method", INVALID_REQUEST, "InvalidMethod")
            result = await handler(self, client, params)
            if isinstance(params, STORING):
                await self.store.committed()  # a publish is answered once it would survive a crash
        except Exception as exc:
            self._refuse(client, request.id, request.method, exc)
            return
        client.send(encode_result(request.id, result))
        if isinstance(params, (Subscribe, BatchSubscribe, ProposeSession, ApproveSession)):
            await self.delivery.flush_mailboxes(client, topics_of(params))

    # --- the irn_* methods ----------------------------------------------------------------

    def _check_rate(self, client: Client, cost: int = 1, size: int = 0) -> None:
        self.mailbox.check_rate(client.client_id, self.clock(), cost, address=client.address, size=size)

    async def publish(
        self, client: Client, topic: str, message: str, ttl: int, tag: int, prompt: bool, attestation: str | None
    ) -> None:
        """One publish, from an ``irn_publish`` request or a quick frame: within the rate limits, stored, delivered."""
        self._check_rate(client, 1, stored_size(message, attestation))
        await self.delivery.publish(client, topic, message, ttl, tag, prompt, attestation)

    async def _irn_publish(self, client: Client, p: Publish) -> bool:
        await self.publish(client, p.topic, p.message, p.ttl, p.tag, p.prompt, p.attestation)
        return True

    async def _irn_batch_publish(self, client: Client, p: BatchPublish) -> bool:
        self._check_rate(client, len(p.messages), sum(stored_size(m.message, m.attestation) for m in p.messages))
        for m in p.messages:
            await self.delivery.publish(client, m.topic, m.message, m.ttl, m.tag, m.prompt, m.attestation)
        return True

    async def _irn_subscribe(self, client: Client, p: Subscribe) -> str:
        return self.delivery.subscribe(client, (p.topic,))[0]

    async def _irn_batch_subscribe(self, client: Client, p: BatchSubscribe) -> list[str]:
        return self.delivery.subscribe(client, p.topics)

    async def _irn_unsubscribe(self, client: Client, p: Unsubscribe) -> bool:
        self.delivery.unsubscribe(client, p.topic)
        return True

    async def _irn_batch_unsubscribe(self, client: Client, p: BatchUnsubscribe) -> bool:
        for sub in p.subscriptions:
            self.delivery.unsubscribe(client, sub.topic)
        return True

    async def _fetch(self, client: Client, topics: tuple[str, ...]) -> dict[str, Any]:
        """Up to ``max_reply_bytes`` of messages (each topic once), ``hasMore`` when some did not fit.

        The messages a ``hasMore`` reply carried are left out of this connection's next fetch, so a
        client that fetches until ``hasMore`` is false gets each message once.
        """
        now_ms = int(self.clock() * 1000)
        budget = self.limits.max_reply_bytes
        skip = client.paging if client.paging is not None else set()
        messages: list[dict[str, Any]] = []
        more = False
        for topic in dict.fromkeys(topics):
            if budget <= 0:
                more = True
                break
            page, more = await self.store.undelivered_page(topic, client.client_id, now_ms, budget, skip)
            size = sum(stored_size(m.message, m.attestation) for m in page) + PAGE_OVERHEAD * len(page)
            if messages and size > budget:  # this topic's first message alone is over what is left
                more = True
                break
            budget -= size
            messages += [m.to_data().to_json() for m in page]
            skip.update(m.id for m in page)
            if more:
                break
        client.paging = skip if more and len(skip) <= MAX_PAGING_IDS else None
        if self.limits.max_reply_bytes and messages:
            await client.room(self.limits.max_reply_bytes - max(budget, 0))
        return {"messages": messages, "hasMore": more}

    async def _irn_fetch_messages(self, client: Client, p: FetchMessages) -> dict[str, Any]:
        return await self._fetch(client, (p.topic,))

    async def _irn_batch_fetch_messages(self, client: Client, p: BatchFetchMessages) -> dict[str, Any]:
        return await self._fetch(client, p.topics)

    async def _irn_batch_receive(self, client: Client, p: BatchReceive) -> bool:
        for receipt in p.receipts:
            await self.store.ack(receipt.topic, receipt.message_id, client.client_id)
        return True

    async def _irn_propose_session(self, client: Client, p: ProposeSession) -> bool:
        self._check_rate(client, 1, stored_size(p.session_proposal, p.attestation))
        self.delivery.subscribe(client, (p.pairing_topic,))
        await self.delivery.publish(
            client, p.pairing_topic, p.session_proposal, p.ttl, SESSION_PROPOSE_TAG, True, p.attestation
        )
        return True

    async def _irn_approve_session(self, client: Client, p: ApproveSession) -> bool:
        self._check_rate(
            client, 2, stored_size(p.session_proposal_response) + stored_size(p.session_settlement_request)
        )
        self.delivery.subscribe(client, (p.session_topic,))
        await self.delivery.publish(
            client, p.pairing_topic, p.session_proposal_response, p.ttl, SESSION_PROPOSE_RESPONSE_TAG, False
        )
        await self.delivery.publish(
            client, p.session_topic, p.session_settlement_request, p.ttl, SESSION_SETTLE_TAG, False
        )
        return True


STORING = (Publish, BatchPublish, ProposeSession, ApproveSession)
"""requests answered only once what they stored is committed"""

HANDLERS: dict[type[Params], Callable[[Methods, Client, Any], Awaitable[Any]]] = {
    Subscribe: Methods._irn_subscribe,
    BatchSubscribe: Methods._irn_batch_subscribe,
    Unsubscribe: Methods._irn_unsubscribe,
    BatchUnsubscribe: Methods._irn_batch_unsubscribe,
    Publish: Methods._irn_publish,
    BatchPublish: Methods._irn_batch_publish,
    FetchMessages: Methods._irn_fetch_messages,
    BatchFetchMessages: Methods._irn_batch_fetch_messages,
    BatchReceive: Methods._irn_batch_receive,
    ProposeSession: Methods._irn_propose_session,
    ApproveSession: Methods._irn_approve_session,
}
"""request params type → its method, called as ``handler(methods, client, params)``; what it returns is the result"""
