"""Run a :class:`SignEngine` over a :class:`RelayClient`: the thin asyncio layer around the sans-IO core.

Relay pushes go into ``engine.receive``; the actions that come out are carried
out in order (subscribe, publish, …); events land in :attr:`EngineRunner.events`;
a timer calls ``engine.expire`` when :meth:`SignEngine.next_deadline` comes.
Intents go through :meth:`EngineRunner.run`: ``await runner.run(engine.ping(topic, runner.now()))``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from walletsync.protocol.engine import SignEngine
from walletsync.protocol.events import Action, Event
from walletsync.protocol.relay_rpc import MessageData, Subscribe, Unsubscribe
from walletsync.transport.client import RelayClient

log = logging.getLogger("walletsync.transport")
TICK = 1.0


class EngineRunner:
    def __init__(
        self,
        engine: SignEngine,
        client: RelayClient,
        *,
        clock: Callable[[], float] = time.time,
        on_step: Callable[[list[Action]], list[Action]] | None = None,
    ) -> None:
        """Each engine step goes to ``on_step`` first, or, without it, its events to :attr:`events`.

        ``on_step`` (the service) persists the step and returns the actions still to carry
        out: it may drop a step another process sharing the store already handled.
        """
        self.engine = engine
        self.client = client
        self.clock = clock
        self.on_step = on_step
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.taps: dict[str, Callable[[MessageData], Awaitable[None]]] = {}
        """Topics that are not the engine's (the device group's, a link's): their messages go to these."""
        self._tasks: list[asyncio.Task] = []
        self._lock = asyncio.Lock()

    def now(self) -> float:
        return self.clock()

    @property
    def busy(self) -> bool:
        """Carrying out a step's relay calls right now."""
        return self._lock.locked()

    async def start(self) -> None:
        """Connect, (re)subscribing to every topic the engine already knows (a restored engine has some)."""
        self.client.topics |= self.engine.topics()
        await self.client.start()
        self._tasks = [
            asyncio.create_task(self._pump(), name="engine-inbox"),
            asyncio.create_task(self._tick(), name="engine-clock"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()

    async def run(self, actions: Iterable[Action]) -> list[Event]:
        """Carry out ``actions`` in order; returns (and queues) the events among them."""
        actions = list(actions)
        events = [a for a in actions if isinstance(a, Event)]
        if self.on_step is not None:
            actions = self.on_step(actions)
        else:
            for event in events:
                self.events.put_nowait(event)
        async with self._lock:  # one engine step's relay calls finish before the next step's start
            for action in actions:
                if isinstance(action, Event):
                    continue
                if isinstance(action, Subscribe):
                    await self.client.subscribe(action.topic)
                elif isinstance(action, Unsubscribe):
                    await self.client.unsubscribe(action.topic)
                else:
                    await self.client.publish(action)
        return events

    async def next_event(self, kind: type[Event] | tuple[type[Event], ...] = Event, timeout: float = 30.0) -> Event:
        """Wait for the next event of ``kind``, dropping others: handy in scripts and tests."""

        async def wait() -> Event:
            while True:
                event = await self.events.get()
                if isinstance(event, kind):
                    return event

        async with asyncio.timeout(timeout):
            return await wait()

    async def settled(self) -> None:
        """Return once every message received so far is handled and no step's relay calls are under way."""
        inbox = self.client.inbox
        while True:
            await inbox.join()
            async with self._lock:  # a step under way (an expiry, a catch-up) finishes its relay calls first
                pass
            if inbox.empty() and not self._lock.locked():
                return

    async def _pump(self) -> None:
        while True:
            data = await self.client.inbox.get()
            tap = self.taps.get(data.topic)
            try:
                if tap is not None:
                    await tap(data)
                    continue
                await self.run(
                    self.engine.receive(
                        data.topic, data.message, self.now(), published_at=data.published_at, tag=data.tag
                    )
                )
            except Exception:
                log.exception("handling a message on %s… failed", data.topic[:12])
            finally:
                self.client.inbox.task_done()

    async def _tick(self) -> None:
        while True:
            deadline = self.engine.next_deadline()
            now = self.now()
            if deadline is not None and deadline <= now:
                try:
                    await self.run(self.engine.expire(now))
                except Exception:
                    log.exception("expiry step failed")
            await asyncio.sleep(TICK if deadline is None else min(TICK, max(0.05, deadline - now)))
