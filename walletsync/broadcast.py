"""Fan one stream of values out to any number of async listeners, each with its own queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Broadcast(Generic[T]):
    """``publish`` never blocks; each ``listen()`` iterator sees every value published after it started."""

    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[T]] = []

    def publish(self, values: Iterable[T]) -> None:
        values = list(values)
        for queue in self._queues:
            for value in values:
                queue.put_nowait(value)

    async def listen(self, current: Callable[[], T] | None = None) -> AsyncGenerator[T, None]:
        """Values from now on; with ``current``, first its value at the moment listening starts."""
        queue: asyncio.Queue[T] = asyncio.Queue()
        if current is not None:
            queue.put_nowait(current())
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)
