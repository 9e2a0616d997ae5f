"""The local relay: reuse one already listening on 127.0.0.1, or start one that outlives this command.

Used when no ``--relay`` and no WalletConnect project id is given: ``walletsync
pair`` in one terminal and ``walletsync phone`` or ``walletsync sign`` in
another then meet on the same relay, whose SQLite mailbox lives in the data dir.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

from walletsync.errors import WalletsyncError
from walletsync.paths import open_private
from walletsync.protocol.relay_auth import RelayIdentity, create_jwt
from walletsync.protocol.relay_rpc import BatchFetchMessages, encode_request

LOCAL_HOST = "127.0.0.1"
LOCAL_PORT = 8787
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
PID_FILE = "relay.pid"
"""In the data dir: the pid of the local relay walletsync started, for ``walletsync relay --stop``."""


class LocalRelayError(WalletsyncError):
    code = "local_relay"


def local_url(port: int = LOCAL_PORT) -> str:
    return f"ws://{LOCAL_HOST}:{port}"


async def is_relay(url: str, timeout: float = 2.0) -> bool:
    """Does ``url`` answer like a relay (auth accepted, a JSON-RPC answer to a harmless call)?"""
    token = create_jwt(RelayIdentity(os.urandom(32)), sub=os.urandom(32).hex(), aud=url, iat=int(time.time()))
    try:
        async with asyncio.timeout(timeout):
            async with connect(f"{url}/?auth={token}", open_timeout=timeout, compression=None) as ws:
                await ws.send(encode_request("1000000000000000001", BatchFetchMessages(())))
                answer = json.loads(await ws.recv())
                return answer.get("id") == "1000000000000000001"
    except Exception:  # refused, timed out, not websocket, not JSON: not our relay
        return False


def _port_busy(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((LOCAL_HOST, port)) == 0


async def ensure_local_relay(data_dir: Path, port: int = LOCAL_PORT) -> tuple[str, bool]:
    """The local relay's URL, and whether this call started it."""
    url = local_url(port)
    if await is_relay(url):
        return url, False
    if _port_busy(port):
        raise LocalRelayError(
            f"{LOCAL_HOST}:{port} is in use by something that is not a walletsync relay; pass --relay URL"
        )
    log_path = data_dir / "relay.log"
    with open(open_private(log_path), "ab") as log:
        relay = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "walletsync",
                "relay",
                "--host",
                LOCAL_HOST,
                "--port",
                str(port),
                "--store",
                f"sqlite:{data_dir / 'relay.db'}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    with open(open_private(data_dir / PID_FILE, os.O_WRONLY | os.O_TRUNC), "w") as pid_file:
        pid_file.write(f"{relay.pid}\n")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if await is_relay(url, timeout=1.0):
            return url, True
        await asyncio.sleep(0.1)
    tail = log_path.read_text(errors="replace")[-500:].strip()
    raise LocalRelayError(
        f"the local relay did not start within {START_TIMEOUT:g} s; see {log_path}: {tail.splitlines()[-1] if tail else 'no output'}"
    )


def _is_walletsync_relay(pid: int) -> bool:
    """Is ``pid`` still a ``walletsync relay`` process (and not a recycled pid)?"""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"walletsync" in argv and b"relay" in argv


def stop_local_relay(data_dir: Path) -> int | None:
    """Stop the local relay this data dir's walletsync started (SIGTERM: it finishes and closes cleanly).

    Returns its pid, or None when none is running. Raises when it does not stop in time.
    """
    pid_path = data_dir / PID_FILE
    try:
        pid = int(pid_path.read_text().strip())
    except (OSError, ValueError):
        return None
    if not _is_walletsync_relay(pid):
        pid_path.unlink(missing_ok=True)
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _is_walletsync_relay(pid):
        if time.monotonic() > deadline:
            raise LocalRelayError(f"the local relay (pid {pid}) did not stop within {STOP_TIMEOUT:g} s")
        time.sleep(0.05)
    pid_path.unlink(missing_ok=True)
    return pid
