"""One phone prompt for a request a tool sends twice: a retry while it is pending, or soon after, gets its answer.

Tools retry: a client timing out before the phone answered sends the same request again, and the person at the
phone should not be asked twice. A request is "the same" when its method, chain and params are (the key is
their canonical JSON, as the tool sent them, before any filling). While one is pending, a retry awaits it. After
it succeeded, its answer is kept for one retry within :data:`RETRY_WINDOW` seconds only if the client that asked
had gone before it came (it timed out: what it sends next is a retry); an answer its client got is not kept, so
a script paying the same address twice pays twice. A failure is never kept: a person who rejected a request
and is asked again is asked again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

RETRY_WINDOW = 60.0
"""Seconds an answer is kept for a retry (cast and web3.py give up after 45 s and 30 s, Hardhat after 20 s)."""
MAX_KEPT = 1000
"""Answers kept at most (the oldest dropped first): a tool sending thousands of distinct requests cannot grow it."""


def request_key(method: str, chain_id: str, params: Any) -> str:
    """What makes two requests the same: the method, the chain and the params' canonical JSON (hex in lower case)."""
    return json.dumps([method, chain_id, _lower(params)], sort_keys=True, separators=(",", ":"))


def _lower(value: Any) -> Any:
    if isinstance(value, str) and value[:2].lower() == "0x":
        return value.lower()
    if isinstance(value, list):
        return [_lower(v) for v in value]
    if isinstance(value, dict):
        return {k: _lower(v) for k, v in value.items()}
    return value


class Retries:
    """The pending requests and the recent answers, by :func:`request_key`; ``clock`` gives monotonic seconds."""

    def __init__(self, clock: Callable[[], float], window: float = RETRY_WINDOW) -> None:
        self.clock, self.window = clock, window
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._answered: dict[str, tuple[float, Any]] = {}

    def earlier(self, key: str) -> asyncio.Future[Any] | None:
        """The pending request's answer to await, or a recent answer (as a done future); None: ask the phone."""
        now = self.clock()
        for old in [k for k, (at, _) in self._answered.items() if now - at > self.window]:
            del self._answered[old]
        if key in self._pending:
            return self._pending[key]
        if key in self._answered:  # the one retry of a client that gave up gets it
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            done.set_result(self._answered.pop(key)[1])
            return done
        return None

    def delivered(self, key: str) -> None:
        """A retry that awaited the pending request handed its answer to a client still there: the answer is not
        kept for another (a request after it is a new one)."""
        self._answered.pop(key, None)

    def begin(self, key: str) -> asyncio.Future[Any]:
        """Mark the request pending; :meth:`end` it with its answer."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        return future

    def end(self, key: str, answer: Any, *, keep: bool) -> None:
        """The request's ``answer`` for every retry waiting; ``keep`` it for a retry within the window (a success
        whose client had gone before it came)."""
        future = self._pending.pop(key, None)
        if future is not None and not future.done():
            future.set_result(answer)
        if keep:
            self._answered[key] = (self.clock(), answer)
            while len(self._answered) > MAX_KEPT:
                del self._answered[next(iter(self._answered))]
