"""``walletsync rpc SESSION``: the session's phone as a local JSON-RPC node for cast, forge, web3.py, ethers, Hardhat.

It serves :mod:`walletsync.bridge` on loopback until SIGINT/SIGTERM. For people it says where it listens and how
to point each tool at it, then one line per request; each request for the phone is shown decoded first (on
stderr, as ``sign`` shows it). With ``--json`` stdout carries JSON lines: ``listening`` first, then one
``request`` per request handled, ``asking`` before the phone is asked, ``mined`` and ``altered`` (a transaction
the phone sent other than asked).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Awaitable
from typing import Any

from walletsync.bridge.hints import hints
from walletsync.commands.common import open_companion
from walletsync.commands.output import emit
from walletsync.errors import WalletsyncError
from walletsync.redact import url_shown
from walletsync.text import shown

TOKEN_ENV = "WALLETSYNC_RPC_TOKEN"
METHOD_CELLS = 80
"""How much of a method name a request line shows (a tool may send any string as one)."""
MAX_TOKEN_BYTES = 4096


class RpcError(WalletsyncError):
    code = "rpc"


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    rpc = commands.add_parser(
        "rpc",
        parents=[common, companion],
        help="serve a session's phone as a local JSON-RPC node for cast, forge, web3.py and ethers",
    )
    rpc.add_argument("session", help="name or topic prefix")
    rpc.add_argument("--port", type=int, default=8545, help="port to listen on (default 8545; 0 picks a free one)")
    rpc.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    rpc.add_argument(
        "--upstream",
        metavar="URL",
        help="the chain's JSON-RPC node for reads and filling transactions (default: config.json's rpc for the "
        "chain, else the chain registry's first public RPC)",
    )
    rpc.add_argument(
        "--chain", metavar="CAIP2", help="the chain to start on (default: the session's first chain you asked for)"
    )
    rpc.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="serve browser requests from this origin too (e.g. http://localhost:3000; repeatable)",
    )
    rpc.add_argument(
        "--token-file",
        metavar="FILE",
        help=f"require 'Authorization: Bearer TOKEN' with the token in FILE (or ${TOKEN_ENV})",
    )
    rpc.set_defaults(run=run)


def read_token(path: str | None) -> str | None:
    """The bearer token: ``--token-file``'s first line, else ``$WALLETSYNC_RPC_TOKEN``; never an argument (``ps``
    shows arguments to every local user)."""
    if path is None:
        return os.environ.get(TOKEN_ENV) or None
    try:
        with open(path, "rb") as source:
            raw = source.read(MAX_TOKEN_BYTES + 1)
    except OSError as exc:
        raise RpcError(f"--token-file: cannot read {path}: {exc.strerror}") from None
    lines = raw.decode("utf-8", "replace").splitlines()
    token = lines[0].strip() if lines else ""
    if not token or len(raw) > MAX_TOKEN_BYTES:
        raise RpcError(f"--token-file: {path} must hold the token on its first line")
    return token


def run(args: argparse.Namespace) -> int:
    from walletsync.bridge.guard import loopback_address

    if not loopback_address(args.host):
        raise RpcError(f"--host {args.host!r} is not a loopback address: the endpoint listens on this machine only")
    if not 0 <= args.port <= 65535:
        raise RpcError("--port must be between 0 and 65535")
    token = read_token(args.token_file)
    signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))  # handled once serving
    try:
        return asyncio.run(_serve(args, token))
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM))


async def _serve(args: argparse.Namespace, token: str | None) -> int:
    from walletsync.bridge.serving import CannotListen, NoChain, NoUpstream, Serving

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM))
    async with open_companion(args) as companion:
        serving = Serving(
            companion,
            args.session,
            report=_reporter(args),
            on_refused=lambda refusal, client: _refused(args, refusal, client),
            chain=args.chain,
            upstream=args.upstream,
            host=args.host,
            ports=(args.port,),
            allow_origins=args.allow_origin,
            token=token,
        )
        try:
            listening = await serving.start()
        except NoChain as exc:
            if exc.wanted is None:
                raise RpcError(
                    "the phone granted only chains you did not ask for: pass --chain with one of them"
                ) from None
            granted = ", ".join(exc.granted) or "none"
            raise RpcError(f"--chain {exc.wanted}: the session has no such chain (it has {granted})") from None
        except NoUpstream as exc:
            raise RpcError(
                f"no upstream node for {exc.chain}: pass --upstream URL, or set config.json's rpc for it "
                f'({{"rpc": {{"{exc.chain}": "https://…"}}}})'
            ) from None
        except CannotListen as exc:
            raise RpcError(f"cannot listen on {exc.host}:{exc.port}: {exc.reason}") from None
        try:
            _listening(args, listening)
            ended = await _first(stop.wait(), serving.ended())
        finally:
            await serving.close()
    if ended is not None:
        raise RpcError(f"stopped serving: {ended}")
    return 0


async def _first(stopped: Awaitable[Any], ended: Awaitable[WalletsyncError]) -> WalletsyncError | None:
    """Serve until a signal (None) or the session's end (why it ended), whichever comes first."""
    waits = [asyncio.ensure_future(stopped), asyncio.ensure_future(ended)]
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return None if waits[0] in done else waits[1].result()


def _listening(args: argparse.Namespace, listening: Any) -> None:
    event = listening.to_json()
    text = (
        f"walletsync rpc: serving {shown(listening.session)} on {listening.chain} at {listening.url} "
        f"(and {listening.ws}); upstream {shown(url_shown(listening.upstream))}"
    )
    emit(args, text, **event)
    if not args.json:
        print(hints(listening.url, listening.accounts), file=sys.stderr, flush=True)


def _refused(args: argparse.Namespace, refusal: Any, client: dict[str, Any]) -> None:
    text = f"refused a request from {shown(client.get('peer'))}: {refusal.message}"
    emit(args, text, event="refused", reason=refusal.reason, client=client)


def _reporter(args: argparse.Namespace):
    from walletsync.bridge.events import PhoneAsked, RequestHandled, TransactionAltered, TransactionMined

    def report(event: Any) -> None:
        if isinstance(event, PhoneAsked):
            _asking(args, event)
        elif isinstance(event, RequestHandled):
            emit(args, _handled_text(event), **event.to_json())
        elif isinstance(event, TransactionAltered):
            changed = "; ".join(
                f"{d['field']} asked {shown(d['asked'])}, mined {shown(d['mined'])}" for d in event.differences
            )
            emit(args, f"WARNING: the phone sent {event.hash} other than asked: {changed}", **event.to_json())
        elif isinstance(event, TransactionMined):
            emit(args, f"mined {event.hash} as asked (block {event.block})", **event.to_json())

    return report


def _asking(args: argparse.Namespace, event: Any) -> None:
    from walletsync.commands.decode import brief_text

    preview = event.preview
    decoded = preview.decoded if preview is not None else None
    if args.json:
        emit(
            args,
            "",
            event="asking",
            method=event.method,
            client=event.client.to_json(),
            decoded=decoded.to_json() if decoded is not None else None,
        )
        return
    lines = [f"{shown(event.method, METHOD_CELLS)} from {shown(event.client.label())}: asking the phone"]
    lines.append(brief_text(decoded) if decoded is not None else "cannot say what it would do")
    if preview is not None and preview.refusal is not None:
        lines.append(f"a policy will refuse it ({preview.refusal.rule})")
    print("\n".join(lines), file=sys.stderr, flush=True)


def _handled_text(event: Any) -> str:
    who, method = shown(event.client.label()), shown(event.method, METHOD_CELLS)  # a tool's own words: data
    if event.error is None:
        return f"{method} from {who}: ok"
    return f"{method} from {who}: error {shown(event.error.get('code'))} {shown(event.error.get('message'), 200)}"
