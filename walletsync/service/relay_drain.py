"""Getting what the relay kept for this device handled before a command goes on, without a fixed wait.

The relay pushes what a topic holds right after the subscribe, but never says when those pushes
are over. So the companion asks for it too (``irn_batchFetchMessages`` until ``hasMore`` is false:
:meth:`~walletsync.transport.client.RelayClient.fetch_stored`; a message both pushed and fetched is
handled once) and waits until all of it is handled: the engine's steps, the device group's batches,
and the same again for topics that handling added. Only a relay that will not be asked leaves the
old way: wait until nothing is left to handle after a quiet period.
"""

from __future__ import annotations

import asyncio

from walletsync.service.group_sync import GroupSync
from walletsync.transport.runner import EngineRunner

FALLBACK_QUIET = 0.3
"""Seconds of quiet after which a relay that cannot be asked is taken to have pushed what it kept."""


async def drain_relay(runner: EngineRunner, group: GroupSync, *, quiet: float = 0.0) -> None:
    """Return once everything the relay holds on the link's topics (online: the caller waited) is handled.

    ``quiet``: then also wait until nothing is left to handle after ``quiet`` seconds (what members
    online now answer to a hello), as with a relay that cannot be asked.
    """
    client = runner.client
    fetched: set[str] = set()
    while True:
        if fresh := client.topics - fetched:
            if not await client.fetch_stored(fresh):
                quiet = max(quiet, FALLBACK_QUIET)
            fetched |= fresh
        await runner.settled()
        await group.settled()
        await asyncio.sleep(0)  # a follow-up that handling scheduled (adopting what members shared) starts first
        if client.topics <= fetched and client.inbox.empty() and not runner.busy and group.idle:
            break
    while quiet:
        await asyncio.sleep(quiet)
        if client.inbox.empty() and not runner.busy and group.idle:
            return
