"""Run a relay until SIGINT/SIGTERM: what ``walletsync relay`` does."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Callable
from typing import cast

from walletsync.relay.mailbox import Limits
from walletsync.relay.mailboxes import open_store
from walletsync.relay.server import RelayServer


async def build_relay(
    store_spec: str, *, host: str, port: int, limits: Limits | None = None, public_urls: tuple[str, ...] = ()
) -> RelayServer:
    """A started relay on ``store_spec``; with a Redis store it joins the other nodes on that Redis."""
    store = open_store(store_spec)
    fanout = None
    if store_spec.startswith(("redis://", "rediss://", "unix://")):
        from walletsync.relay.mailboxes.redisdb import RedisFanout, RedisStore

        redis_store = cast(RedisStore, store)  # what open_store makes of a Redis URL
        await redis_store.check()  # fail now, clearly, if Redis is not there
        fanout = RedisFanout(redis_store, node_id="")  # node id set below, once the server has one
    server = RelayServer(store, host=host, port=port, limits=limits, fanout=fanout, public_urls=public_urls)
    if fanout is not None:
        fanout.node_id = server.node_id
    await server.start()
    return server


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def serve_until_signalled(
    store_spec: str,
    *,
    host: str,
    port: int,
    on_ready: Callable[[RelayServer], None],
    limits: Limits | None = None,
    public_urls: tuple[str, ...] = (),
) -> None:
    server = await build_relay(store_spec, host=host, port=port, limits=limits, public_urls=public_urls)
    # Everything loaded so far lives as long as the process: keep it out of the garbage collector's
    # full passes, which otherwise walk it all and hold the loop for tens of milliseconds.
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # held back by the caller until now: handled here
    on_ready(server)
    try:
        await stop.wait()
    finally:
        await server.stop()
