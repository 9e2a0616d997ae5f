"""``walletsync relay``: run a self-hosted relay until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from walletsync.commands.output import emit
from walletsync.errors import WalletsyncError
from walletsync.relay.mailbox import Limits


class RelayStartError(WalletsyncError):
    code = "os_error"


class RelayConfigError(WalletsyncError):
    code = "bad_relay_config"


_UNITS = {
    "": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}


def byte_size(text: str) -> int:
    """``4M``, ``512k``, ``1GiB`` or plain bytes (units are powers of 1024)."""
    spec = text.strip().lower()
    i = len(spec)
    while i and not spec[i - 1].isdigit():
        i -= 1
    unit = _UNITS.get(spec[i:].strip())
    number = spec[:i]
    if (
        unit is None or not (number.isascii() and number.isdigit()) or int(number) <= 0
    ):  # isdigit() alone takes "²", which int() refuses
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 4M, 512k or 1G")
    return int(number) * unit


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def add_parser(commands, common: argparse.ArgumentParser) -> None:
    relay = commands.add_parser("relay", parents=[common], help="run a self-hosted WalletConnect relay")
    relay.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    relay.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    relay.add_argument(
        "--store",
        default=None,
        metavar="SPEC",
        help="memory | sqlite:PATH | redis://HOST:PORT (default: sqlite in the data dir)",
    )
    relay.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="what the relay logs to stderr (debug: every method call, never message contents)",
    )
    d = Limits()
    relay.add_argument(
        "--public-url",
        action="append",
        default=[],
        metavar="URL",
        help="a URL clients reach this relay by (e.g. wss://relay.example.com behind a proxy); repeatable. Tokens are accepted "
        "only when minted for this relay: its listening URL (and loopback names) or a public URL",
    )
    limits = relay.add_argument_group("limits (sizes take k, M, G suffixes)")
    limits.add_argument(
        "--max-store-bytes",
        type=byte_size,
        default=d.max_store_bytes,
        metavar="SIZE",
        help="message bytes the whole store holds (default 256M); past it publishes are refused",
    )
    limits.add_argument(
        "--max-topic-bytes",
        type=byte_size,
        default=d.max_topic_bytes,
        metavar="SIZE",
        help="message bytes one topic holds (default 16M)",
    )
    limits.add_argument(
        "--max-queued-bytes",
        type=byte_size,
        default=d.max_queued_bytes,
        metavar="SIZE",
        help="unread bytes one connection may have waiting before it is disconnected (default 4M)",
    )
    limits.add_argument(
        "--max-reply-bytes",
        type=byte_size,
        default=d.max_reply_bytes,
        metavar="SIZE",
        help="about the most message bytes in one fetch reply; the rest comes with hasMore (default 1M)",
    )
    limits.add_argument(
        "--publish-rate",
        type=positive,
        default=d.publish_rate,
        metavar="N",
        help="publishes/s per client id (default 100, bursts of 5x)",
    )
    limits.add_argument(
        "--ip-publish-rate",
        type=positive,
        default=d.ip_publish_rate,
        metavar="N",
        help="publishes/s per source address (default 200, bursts of 5x)",
    )
    limits.add_argument(
        "--ip-byte-rate",
        type=byte_size,
        default=d.ip_byte_rate,
        metavar="SIZE",
        help="published message bytes/s per source address (default 1M, bursts of 16x)",
    )
    relay.add_argument(
        "--stop", action="store_true", help="stop the local relay that walletsync started in the background, then exit"
    )
    relay.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from walletsync.paths import data_dir
    from walletsync.relay.process import STOP_SIGNALS, serve_until_signalled

    if args.stop:
        return stop(args, data_dir(args.data_dir))
    store = args.store or f"sqlite:{data_dir(args.data_dir) / 'relay.db'}"
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr
    )
    from walletsync.relay import logs

    logs.install()  # no relay-auth token reaches the log, at any level
    limits = limits_from(args)
    public_urls = tuple(args.public_url)
    from walletsync.relay.audience import origin

    for url in public_urls:
        if origin(url) is None:
            raise RelayConfigError(f"--public-url {url!r} is not a ws://, wss://, http:// or https:// URL")
    kind = store.split(":")[0] if "://" not in store else store.split("://")[0]

    def ready(server) -> None:
        emit(
            args,
            f"walletsync relay listening on {server.url} (store: {kind})",
            event="listening",
            url=server.url,
            store=store,
        )

    # Held back until the relay handles them (serve_until_signalled): one landing while asyncio.run sets
    # up would cancel the start half-way and end as "interrupted" instead of a clean stop.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        asyncio.run(
            serve_until_signalled(
                store, host=args.host, port=args.port, on_ready=ready, limits=limits, public_urls=public_urls
            )
        )
    except OSError as exc:
        raise RelayStartError(f"cannot start the relay: {exc}") from None
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    emit(args, "walletsync relay stopped", event="stopped")
    return 0


def limits_from(args: argparse.Namespace) -> Limits:
    frame = Limits().max_frame_bytes
    if args.max_queued_bytes < 2 * frame:
        raise RelayConfigError(f"--max-queued-bytes must be at least {2 * frame} (two of the largest frames)")
    return Limits(
        max_store_bytes=args.max_store_bytes,
        max_topic_bytes=args.max_topic_bytes,
        max_queued_bytes=args.max_queued_bytes,
        max_reply_bytes=args.max_reply_bytes,
        publish_rate=args.publish_rate,
        publish_burst=max(1, int(args.publish_rate * 5)),
        ip_publish_rate=args.ip_publish_rate,
        ip_publish_burst=max(1, int(args.ip_publish_rate * 5)),
        ip_byte_rate=args.ip_byte_rate,
        ip_byte_burst=args.ip_byte_rate * 16,
    )


def stop(args: argparse.Namespace, home) -> int:
    from walletsync.localrelay import stop_local_relay

    pid = stop_local_relay(home)
    if pid is None:
        emit(args, "no local relay started by walletsync is running", event="not_running")
    else:
        emit(args, f"stopped the local relay (pid {pid})", event="stopped", pid=pid)
    return 0
