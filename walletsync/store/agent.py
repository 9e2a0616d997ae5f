"""The agent process that keeps one unlocked key file's secrets for the login session (``python -m`` this module).

Started by :meth:`walletsync.store.unlocked.LoginSession.keep` after the user typed the passphrase,
so later commands skip Argon2id and the prompt. It reads the 64 secret bytes from a pipe the starter
handed over (never argv or the environment), detaches, and answers on the unix socket the starter bound and handed over
(0600, in a 0700 directory of the user's runtime dir):

- ``keys\\n``: the 64 bytes, if the peer is this user and the key file is the one that was unlocked
  (same inode, size and mtime: a replaced or re-sealed file is asked for again);
- ``lock\\n``: the key file's path; then the agent removes its socket and exits.

It also exits, forgetting the secrets, after ``keep`` seconds without a ``keys`` request (time
asleep counts), or when its socket is gone or replaced (the login session ended and took
``$XDG_RUNTIME_DIR`` with it, or a newer agent took over). It imports only the standard library:
it starts in a few milliseconds and holds nothing else. No core dump can carry the secrets out.
"""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import socket
import struct
import sys
import time
from pathlib import Path

SECRETS_SIZE = 64
GET, LOCK = b"keys\n", b"lock\n"
CHECK_EVERY = 30.0
"""Seconds between checks that the socket is still this agent's (the login session may have ended)."""
PEER_TIMEOUT = 2.0


def clock() -> float:
    """Seconds on a clock that keeps counting while the machine sleeps, so a night suspended counts as idle."""
    return time.clock_gettime(time.CLOCK_BOOTTIME) if hasattr(time, "CLOCK_BOOTTIME") else time.monotonic()


def fingerprint(path: Path) -> str:
    """What identifies one version of the key file: device, inode, size, mtime ("" if it is gone)."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def peer_uid(conn: socket.socket) -> int | None:
    """The uid of the process at the other end of a unix socket (None where the OS does not tell)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return int(uid)


def _still_mine(sock_path: Path, inode: int) -> bool:
    try:
        return os.stat(sock_path).st_ino == inode
    except OSError:
        return False


def serve(
    listener: socket.socket, sock_path: Path, inode: int, key_file: Path, unlocked: str, secrets: bytes, keep: float
) -> None:
    """Answer requests until locked, idle for ``keep`` seconds, replaced or the key file changed."""
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    idle_until = clock() + keep
    try:
        while _still_mine(sock_path, inode):
            left = idle_until - clock()
            if left <= 0:
                return
            if not selector.select(min(left, CHECK_EVERY)) or clock() >= idle_until:
                continue  # the loop checks the socket and the time again
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                continue
            with conn:
                conn.setblocking(True)
                conn.settimeout(PEER_TIMEOUT)
                uid = peer_uid(conn)
                if uid is not None and uid != os.getuid():
                    continue
                try:
                    request = conn.recv(len(GET))
                    if request == GET:
                        if fingerprint(key_file) != unlocked:
                            _forget(sock_path, inode)  # before the hang-up: the asker's next try is asked again
                            return  # the file was replaced or re-sealed: its passphrase is asked again
                        conn.sendall(secrets)
                        idle_until = clock() + keep
                    elif request == LOCK:
                        _forget(sock_path, inode)  # before the answer: whoever asks next is asked again
                        conn.sendall(os.fsencode(key_file))
                        return
                except OSError:
                    continue
    finally:
        selector.close()
        listener.close()
        _forget(sock_path, inode)


def _forget(sock_path: Path, inode: int) -> None:
    """Remove the socket if it is still this agent's (not a newer agent's)."""
    if _still_mine(sock_path, inode):
        with contextlib.suppress(OSError):
            sock_path.unlink()


def _read_all(fd: int, limit: int) -> bytes:
    data = b""
    with open(fd, "rb", buffering=0, closefd=True) as pipe:
        while len(data) <= limit:
            chunk = pipe.read(limit + 1 - len(data))
            if not chunk:
                break
            data += chunk
    return data


def main(argv: list[str]) -> None:
    """``LISTENER_FD SECRETS_FD SOCKET INODE KEY_FILE FINGERPRINT KEEP``; returns (in the starter's child) once
    the agent is detached."""
    fd, secrets_fd, sock_path, inode, key_file, unlocked, keep = argv
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    secrets = _read_all(int(secrets_fd), SECRETS_SIZE)
    listener = socket.socket(fileno=int(fd))
    if len(secrets) != SECRETS_SIZE:
        return
    if os.fork() > 0:  # the starter waits for this process only: the agent itself is nobody's child
        os._exit(0)
    serve(listener, Path(sock_path), int(inode), Path(key_file), unlocked, secrets, float(keep))


if __name__ == "__main__":
    main(sys.argv[1:])
