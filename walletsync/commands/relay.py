"""``walletsync relay``: run a self-hosted relay until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from walletsync.commands.output import emit
from walletsync.errors import WalletsyncError


class RelayStartError(WalletsyncError):
    code = "os_error"


def add_parser(commands, common: argparse.ArgumentParser) -> None:
    relay = commands.add_parser("relay", parents=[common], help="run a self-hosted WalletConnect relay")
    relay.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    relay.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    relay.add_argument("--store", default=None, metavar="SPEC", help="memory | sqlite:PATH | redis://HOST:PORT (default: sqlite in the data dir)")
    relay.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"], help="what the relay logs to stderr (debug: every method call, never message contents)")
    relay.add_argument("--stop", action="store_true", help="stop the local relay that walletsync started in the background, then exit")
    relay.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from walletsync.paths import data_dir
    from walletsync.relay.runner import STOP_SIGNALS, serve_until_signalled

    if args.stop:
        return stop(args, data_dir(args.data_dir))
    store = args.store or f"sqlite:{data_dir(args.data_dir) / 'relay.db'}"
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    kind = store.split(":")[0] if "://" not in store else store.split("://")[0]

    def ready(server) -> None:
        emit(args, f"walletsync relay listening on {server.url} (store: {kind})", event="listening", url=server.url, store=store)

    # Held back until the relay handles them (serve_until_signalled): one landing while asyncio.run sets
    # up would cancel the start half-way and end as "interrupted" instead of a clean stop.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        asyncio.run(serve_until_signalled(store, host=args.host, port=args.port, on_ready=ready))
    except OSError as exc:
        raise RelayStartError(f"cannot start the relay: {exc}") from None
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    emit(args, "walletsync relay stopped", event="stopped")
    return 0


def stop(args: argparse.Namespace, home) -> int:
    from walletsync.localrelay import stop_local_relay

    pid = stop_local_relay(home)
    if pid is None:
        emit(args, "no local relay started by walletsync is running", event="not_running")
    else:
        emit(args, f"stopped the local relay (pid {pid})", event="stopped", pid=pid)
    return 0
