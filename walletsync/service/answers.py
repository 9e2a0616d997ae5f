"""Waiting on the event stream for the phone's answer to one request (or its acknowledgement of a ping)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from walletsync.protocol import events as ev
from walletsync.service.events import RequestVerified
from walletsync.service.outcomes import RequestOutcome, RequestTimeout
from walletsync.store.db import SessionRecord


async def request_outcome(
    events: AsyncIterator[ev.Event], topic: str, request_id: int, record: Callable[[str], SessionRecord]
) -> RequestOutcome:
    """The outcome of request ``request_id`` on ``topic``: its verified answer, or its error.

    :class:`RequestTimeout` when it expires unanswered. ``record`` reads the session as it is now.
    """
    answer: ev.Event | None = None
    async for event in events:
        if isinstance(event, (ev.RequestAnswered, ev.RequestFailed)) and (event.topic, event.id) == (
            topic,
            request_id,
        ):
            answer = event
            if isinstance(event, ev.RequestFailed):
                break
        elif (
            isinstance(event, ev.RequestExpired)
            and (event.topic, event.id) == (topic, request_id)
            and event.direction == "outgoing"
        ):
            raise RequestTimeout(
                f"request {request_id} expired before the phone answered (a late answer is still recorded)"
            )
        elif isinstance(event, RequestVerified) and (event.topic, event.id) == (topic, request_id):
            assert isinstance(answer, ev.RequestAnswered)
            return RequestOutcome(
                record(topic), request_id, answer.method, answer.result, None, event.verdict, answer.late
            )
    assert isinstance(answer, ev.RequestFailed)
    return RequestOutcome(
        record(topic),
        request_id,
        answer.method,
        None,
        {"code": answer.error.code, "message": answer.error.message},
        None,
        answer.late,
    )


async def acknowledged(events: AsyncIterator[ev.Event], topic: str, method: str) -> None:
    """Return once the phone acknowledges a ``method`` call on ``topic``."""
    async for event in events:
        if isinstance(event, ev.Acknowledged) and event.topic == topic and event.method == method:
            return
