"""Fan one stream of values out to any number of async listeners, each with its own queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Listener(Generic[T]):
    """The values published since it was made, in order, as an async iterator; :meth:`close` when done with it."""

    def __init__(self, queues: list[asyncio.Queue[T]], current: Callable[[], T] | None) -> None:
        self._queues = queues
        self._queue: asyncio.Queue[T] = asyncio.Queue()
        if current is not None:
            self._queue.put_nowait(current())
        queues.append(self._queue)

    def __aiter__(self) -> Listener[T]:
        return self

    async def __anext__(self) -> T:
        return await self._queue.get()

    def close(self) -> None:
        """Stop queueing values for this listener (closing twice is harmless)."""
        if self._queue in self._queues:
            self._queues.remove(self._queue)


class Broadcast(Generic[T]):
    """``publish`` never blocks; each listener sees every value published after it started."""

    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[T]] = []

    def publish(self, values: Iterable[T]) -> None:
        values = list(values)
        for queue in self._queues:
            for value in values:
                queue.put_nowait(value)

    def listener(self, current: Callable[[], T] | None = None) -> Listener[T]:
        """Values from this moment on, before any await: for a caller that must not miss what its next step causes.
        With ``current``, first its value now."""
        return Listener(self._queues, current)

    async def listen(self, current: Callable[[], T] | None = None) -> AsyncGenerator[T, None]:
        """Values from the moment listening starts (the first ``anext``); with ``current``, first its value then."""
        listener = self.listener(current)
        try:
            async for value in listener:
                yield value
        finally:
            listener.close()
