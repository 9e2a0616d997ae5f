"""Key files unlocked once per login session: the starter and client of the agent (:mod:`walletsync.store.agent`).

Opening a passphrase file costs Argon2id (~0.4 s) and a prompt. After the user typed the
passphrase once, :meth:`LoginSession.keep` hands the 64 secret bytes to a small agent process
(through a pipe: never argv, the environment or disk) that answers later commands on a unix
socket, ``$XDG_RUNTIME_DIR/walletsync/<hash of the key file's path>.sock``.

The trade-off, as with ssh-agent: while unlocked, any process running as this user can ask for
the keys (it could also read the memory of a walletsync process, or log the passphrase as it is
typed); other users cannot reach the 0700 directory, and the agent checks its peer's uid. The
agent forgets the keys after ``keep`` seconds unused, when the login session ends (systemd
removes ``$XDG_RUNTIME_DIR``), and on ``walletsync lock`` (:meth:`LoginSession.lock_all`).
Without ``$XDG_RUNTIME_DIR`` the directory is ``/tmp/walletsync-<uid>`` (checked: ours, 0700,
no link), as tmux does; where neither is usable, nothing is kept and the passphrase is asked
every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from walletsync.store import agent
from walletsync.store.secrets import SECRETS_SIZE, DeviceSecrets

KEEP_UNLOCKED = 3600
"""Default seconds an unlocked key file stays unlocked after its last use."""
ANSWER_TIMEOUT = 3.0
"""How long a command waits for an agent (one that is starting answers in milliseconds)."""
_SUFFIX = ".sock"


def runtime_dir() -> Path | None:
    """This user's private directory for agent sockets, created if needed; None if there is no safe one."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    directory = Path(base) / "walletsync" if base else Path(tempfile.gettempdir()) / f"walletsync-{os.getuid()}"
    with contextlib.suppress(FileExistsError, OSError):
        directory.mkdir(mode=0o700)
    try:
        st = os.lstat(directory)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) & 0o077:
        return None  # a link, or a directory someone else made or can enter: keep nothing there
    return directory


def _ask(sock_path: Path, request: bytes, limit: int) -> bytes:
    """The agent's whole answer to ``request`` (b"" when there is no agent or it answers nothing)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(ANSWER_TIMEOUT)
            conn.connect(str(sock_path))
            uid = agent.peer_uid(conn)
            if uid is not None and uid != os.getuid():
                return b""
            conn.sendall(request)
            answer = b""
            while len(answer) <= limit:
                chunk = conn.recv(limit + 1 - len(answer))
                if not chunk:
                    break
                answer += chunk
            return answer
    except OSError:
        return b""


class LoginSession:
    """The key files unlocked in this login session, each held by its agent.

    ``keep`` is how many seconds an unlocked key file stays unlocked after its last use;
    ``directory`` is where the agents' sockets live (:func:`runtime_dir` unless a test gives one).
    """

    def __init__(self, keep: float = KEEP_UNLOCKED, directory: Path | None = None) -> None:
        self.keep_for = keep
        self._directory = directory

    def __repr__(self) -> str:
        return f"LoginSession(keep={self.keep_for!r})"

    def directory(self) -> Path | None:
        return self._directory if self._directory is not None else runtime_dir()

    def socket_for(self, key_file: Path) -> Path | None:
        directory = self.directory()
        if directory is None:
            return None
        name = hashlib.sha256(os.fsencode(Path(key_file).expanduser().resolve())).hexdigest()[:16]
        return directory / (name + _SUFFIX)

    def get(self, key_file: Path) -> DeviceSecrets | None:
        """The secrets of ``key_file`` if it was unlocked in this session (and not changed since), else None."""
        sock_path = self.socket_for(key_file)
        if sock_path is None:
            return None
        answer = _ask(sock_path, agent.GET, SECRETS_SIZE)
        return DeviceSecrets.from_bytes(answer) if len(answer) == SECRETS_SIZE else None

    def keep(self, key_file: Path, secrets: DeviceSecrets) -> bool:
        """Start an agent that keeps ``secrets`` (just opened from ``key_file``); False if none could be started.

        Its socket is bound here and in place before this returns, so the next command finds it.
        """
        sock_path = self.socket_for(key_file)
        unlocked = agent.fingerprint(Path(key_file).expanduser())
        if sock_path is None or self.keep_for <= 0 or not unlocked:
            return False
        temp = sock_path.with_name(f".{os.urandom(6).hex()}{_SUFFIX}")
        inode = -1
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(temp))
            os.chmod(temp, 0o600)
            listener.listen(16)
            os.replace(temp, sock_path)  # an agent that was there is replaced: it sees that and exits
            inode = os.stat(sock_path).st_ino
            started = self._start(listener, sock_path, inode, Path(key_file).expanduser().resolve(), unlocked, secrets)
        except OSError:
            started = False
        finally:
            listener.close()
            with contextlib.suppress(OSError):
                temp.unlink()
        if not started:
            with contextlib.suppress(OSError):
                if os.stat(sock_path).st_ino == inode:
                    sock_path.unlink()
        return started

    def _start(
        self,
        listener: socket.socket,
        sock_path: Path,
        inode: int,
        key_file: Path,
        unlocked: str,
        secrets: DeviceSecrets,
    ) -> bool:
        fd = listener.fileno()
        read_end, write_end = os.pipe()
        args = [str(fd), str(read_end), str(sock_path), str(inode), str(key_file), unlocked, str(self.keep_for)]
        env = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL") if name in os.environ}
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-m", agent.__name__, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(fd, read_end),
                cwd="/",
                env=env,
                start_new_session=True,  # the terminal closing does not end it; the login session does
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        try:
            with open(write_end, "wb", buffering=0) as pipe:  # 64 bytes: fits the pipe, never blocks
                pipe.write(secrets.to_bytes())
        except OSError:
            proc.kill()
        return proc.wait() == 0

    def lock_all(self) -> list[Path]:
        """Make every agent of this user forget its keys; the key files that were unlocked."""
        directory = self.directory()
        if directory is None:
            return []
        locked = []
        for sock_path in sorted(directory.glob("[!.]*" + _SUFFIX)):  # not one being bound by a starter
            answer = _ask(sock_path, agent.LOCK, 4096)
            if answer:
                locked.append(Path(os.fsdecode(answer)))
            else:  # no agent behind it any more (killed): the socket is stale
                with contextlib.suppress(OSError):
                    sock_path.unlink()
        return locked
