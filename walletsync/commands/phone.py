"""``walletsync phone URI``: the reference phone wallet in a terminal (see :mod:`walletsync.wallet` and :mod:`walletsync.signer`)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from walletsync.commands.output import emit, fail
from walletsync.commands.prompt import ask_on_terminal, secret_line
from walletsync.errors import WalletsyncError
from walletsync.signer import DEFAULT_PATH, Signer
from walletsync.text import shown

if TYPE_CHECKING:  # the wallet (and web3) is imported when the phone runs, not when the parser is built
    from walletsync.wallet import PhoneWallet

DEFAULT_RELAY = "ws://127.0.0.1:8787"
"""The local relay (``walletsync relay``); the one place the phone's default relay is chosen."""
TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
"""Account #0 of the well-known test mnemonic ("test test … junk"): public, for trying things only."""
KEY_ENV, MNEMONIC_ENV, URI_ENV = "WALLETSYNC_PHONE_KEY", "WALLETSYNC_PHONE_MNEMONIC", "WALLETSYNC_URI"
MAX_URI_BYTES = 4096
"""A pairing URI is ~200 bytes; a longer line on stdin is not one."""
CONNECT_TIMEOUT = 15.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
GOODBYE_TIMEOUT = 5.0


class PhoneError(WalletsyncError):
    code = "phone"


def add_parser(commands, common: argparse.ArgumentParser) -> None:
    phone = commands.add_parser(
        "phone", parents=[common], help="the reference phone wallet, for trying walletsync without a phone"
    )
    phone.add_argument(
        "uri",
        metavar="URI",
        nargs="?",
        default=None,
        help=f"the wc: pairing URI shown by the dapp; better on stdin or in ${URI_ENV}: it holds the pairing key, "
        "and arguments are visible to every local user in ps (default: ${URI_ENV}, else read from stdin)",
    )
    decision = phone.add_mutually_exclusive_group()
    decision.add_argument("--approve", action="store_true", help="approve the session proposal without asking")
    decision.add_argument("--reject", action="store_true", help="reject the session proposal")
    phone.add_argument("--auto-approve", action="store_true", help="answer every signing request without asking")
    key = phone.add_mutually_exclusive_group()
    key.add_argument(
        "--key", metavar="HEX", help=f"the private key to sign with (default: ${KEY_ENV}, else the built-in test key)"
    )
    key.add_argument(
        "--mnemonic",
        metavar="WORDS",
        help=f"a BIP-39 mnemonic (quote the words; default: ${MNEMONIC_ENV}, which, unlike an argument, other users cannot see in ps)",
    )
    phone.add_argument(
        "--path", default=None, metavar="PATH", help=f"derivation path for --mnemonic (default {DEFAULT_PATH})"
    )
    phone.add_argument(
        "--rpc", metavar="URL", help="an Ethereum JSON-RPC node: eth_sendTransaction is then broadcast, not only signed"
    )
    try:  # SUPPRESS: a --relay given before the command name survives
        phone.add_argument(
            "--relay",
            default=argparse.SUPPRESS,
            metavar="URL",
            help=f"relay to use (default {DEFAULT_RELAY}, a local `walletsync relay`)",
        )
    except argparse.ArgumentError:
        pass  # the shared options already have --relay
    phone.set_defaults(run=run)


def _secrets_from_environment(args: argparse.Namespace) -> None:
    """Fill --key/--mnemonic from the environment when neither is given: arguments show in ``ps``."""
    if not (args.key or args.mnemonic):
        args.key, args.mnemonic = os.environ.get(KEY_ENV) or None, os.environ.get(MNEMONIC_ENV) or None
        if args.key and args.mnemonic:
            raise PhoneError(f"set only one of ${KEY_ENV} and ${MNEMONIC_ENV}")


def run(args: argparse.Namespace) -> int:
    from walletsync.protocol.errors import Expired
    from walletsync.protocol.uri import parse_uri

    _secrets_from_environment(args)
    if args.path is not None and not args.mnemonic:
        raise PhoneError("--path needs --mnemonic")
    text, piped = _pairing_uri(args)
    uri = parse_uri(text)
    if uri.is_expired(time.time()):
        assert uri.expiry_timestamp is not None  # only a URI with an expiry can have expired
        raise Expired(
            f"the pairing URI expired at {uri.expiry_timestamp} ({int(time.time() - uri.expiry_timestamp)} s ago); ask the dapp for a new one"
        )
    signer = _signer(args)
    report = _reporter(args)
    if not (args.key or args.mnemonic):
        print(
            f"walletsync phone: using the built-in test key {TEST_KEY} — never use it for real funds",
            file=sys.stderr,
            flush=True,
        )
    source = "mnemonic" if args.mnemonic else "key" if args.key else "test-key"
    report({"event": "account", "address": signer.address, "path": signer.path, "source": source})
    # Held back until _serve handles them: one landing while asyncio.run sets up would escape as a traceback.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return asyncio.run(_serve(args, uri, signer, report, piped))
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _pairing_uri(args: argparse.Namespace) -> tuple[str, bool]:
    """The URI from the argument, else ``$WALLETSYNC_URI``, else one line of stdin (prompted for on a terminal),
    and whether it came through a pipe. The URI carries the pairing's symmetric key: see :func:`secret_line`."""
    return secret_line(args.uri, URI_ENV, "pairing URI", "Pairing URI (wc:…): ", MAX_URI_BYTES, PhoneError)


def _answer_fd(stdin_spent: bool) -> int | None:
    """Where a yes/no answer can be read: stdin if it is a terminal; the terminal if a pipe took stdin; else nowhere."""
    if sys.stdin is not None and sys.stdin.isatty():
        return 0
    if not stdin_spent:
        return None
    try:
        return os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return None


def _signer(args: argparse.Namespace) -> Signer:
    if args.mnemonic:
        return Signer.from_mnemonic(args.mnemonic, args.path or DEFAULT_PATH, rpc_url=args.rpc)
    return Signer.from_key(args.key or TEST_KEY, rpc_url=args.rpc)


async def _serve(args: argparse.Namespace, uri: Any, signer: Signer, report, stdin_spent: bool) -> int:
    from walletsync.transport.client import TransportError

    relay_url = getattr(args, "relay", None) or DEFAULT_RELAY
    answers = None if args.approve and args.auto_approve else _answer_fd(stdin_spent)
    from walletsync.wallet import PhoneWallet

    wallet = PhoneWallet.on_relay(
        relay_url,
        signer,
        report=report,
        ask=None if answers is None else functools.partial(ask_on_terminal, answers),
        on_proposal="approve" if args.approve else "reject" if args.reject else "ask",
        auto_approve=args.auto_approve,
    )
    runner = wallet.runner
    caught: list[int] = []
    work = asyncio.current_task()
    stage = "connecting"

    def on_signal(signum: int) -> None:
        caught.append(signum)
        if stage == "running":
            wallet.stop("interrupted")
        elif stage == "connecting" and work is not None:
            work.cancel()  # nothing to tell a dapp yet

    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # one that came meanwhile is handled now
    try:
        await runner.start()
        try:
            await runner.client.wait_online(CONNECT_TIMEOUT, fail_fast=True)
        except TransportError as exc:
            raise PhoneError(f"{exc}; start one with `walletsync relay` or pass --relay URL") from None
        await wallet.pair(uri)
        stage = "running"
        finished = await wallet.run_until_done()
        if caught:
            await _say_goodbye(wallet)
    except asyncio.CancelledError:
        if not caught:
            raise
    finally:
        stage = "closing"
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
        await runner.close()
    if caught:
        return fail(args, "interrupted", "interrupted", exit_code=128 + caught[0])
    return 0 if finished.ok else 1


async def _say_goodbye(wallet: PhoneWallet) -> None:
    """Tell the dapp its session ended, unless the relay cannot take it within a few seconds."""
    try:
        async with asyncio.timeout(GOODBYE_TIMEOUT):
            await wallet.disconnect()
    except TimeoutError:
        wallet.report(
            {
                "event": "error",
                "code": "timeout",
                "message": "could not tell the dapp the session ended (relay unreachable)",
            }
        )


def _reporter(args: argparse.Namespace):
    def report(event: dict[str, Any]) -> None:
        emit(args, "phone: " + shown(describe(event)), **event)  # one line, whatever the dapp sent

    return report


def _short(topic: str | None) -> str:
    return f"{(topic or '')[:8]}…"


def describe(event: dict[str, Any]) -> str:
    """The text-mode line for one ``phone`` event."""
    kind, peer = event["event"], (event.get("peer") or {})
    if kind == "account":
        origin = (
            f"path {event['path']}"
            if event.get("path")
            else "built-in test key"
            if event.get("source") == "test-key"
            else "from --key"
        )
        return f"address {event['address']} ({origin})"
    if kind == "paired":
        return f"paired on {_short(event['topic'])} via {event['relay']}; waiting for the dapp's proposal"
    if kind == "proposal":
        return f"proposal {event['id']} from {peer.get('name')} ({peer.get('url')}): chains {', '.join(event['chains']) or '-'}; methods {', '.join(event['methods']) or '-'}"
    if kind == "session":
        return f"session {_short(event['topic'])} with {peer.get('name')} ({peer.get('url')}); accounts {', '.join(event['accounts'])}"
    if kind == "request":
        return f"request {event['id']} on {event['chain']}: {event['method']} — {event['summary']}"
    if kind == "response":
        if "error" in event:
            return f"refused {event['method']} {event['id']} ({event['error']['code']} {event['error']['message']}): {event['reason']}"
        note = "" if event["reason"] == "signed" else f" ({event['reason']})"
        return f"answered {event['method']} {event['id']}: {event['result']}{note}"
    if kind == "ping":
        return f"ping on {_short(event['topic'])} (answered)"
    if kind == "deleted":
        who = "the dapp" if event["by"] == "peer" else "this phone"
        return f"session {_short(event['topic'])} ended by {who} ({event['code']} {event['message']})"
    if kind == "expired":
        return f"session {_short(event['topic'])} expired"
    if kind == "error":
        return f"error: {event['message']}"
    return str(event)
