"""A command run on a pseudo-terminal of its own, as from a shell: the test reads its questions and types answers."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

from tests.procs import REPO


class Terminal:
    """One process whose controlling terminal, stdin and stderr are a pty; its stdout goes to ``stdout_path``
    (or to the pty too when None, as for the app).

    ``expect`` reads what the process wrote to the terminal until a text appears; ``type`` answers.
    Answers are typed only after the question is shown: getpass flushes what was typed ahead.
    """

    def __init__(self, argv: list[str], env: dict[str, str], stdout_path: Path | None, cwd: Path = REPO) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 40 rows of 120 columns
        name = os.ttyname(slave)

        def own_terminal() -> None:  # a new session whose controlling terminal is the pty, as a shell's job has
            os.setsid()
            os.close(os.open(name, os.O_RDWR))

        self.stdout_path = stdout_path
        with open(stdout_path or os.devnull, "w") as stdout:
            self.proc = subprocess.Popen(
                argv,
                stdin=slave,
                stdout=stdout if stdout_path else slave,
                stderr=slave,
                env=env,
                cwd=cwd,
                preexec_fn=own_terminal,
            )
        os.close(slave)
        self.screen = ""
        self._read_to = 0

    def _read(self, deadline: float) -> bool:
        """Read what is there (waiting until ``deadline``); False once the process closed the terminal."""
        ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every holder of the pty's other side has closed it
            return False
        if not chunk:
            return False
        self.screen += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return True

    def expect(self, text: str, timeout: float = 60) -> str:
        """Everything shown since the last ``expect`` up to and including ``text``; fails if it never comes."""
        deadline = time.monotonic() + timeout
        while text not in self.screen[self._read_to :]:
            if time.monotonic() > deadline or not self._read(deadline):
                raise AssertionError(f"the terminal never showed {text!r}; it shows:\n{self.since_expect}")
        end = self.screen.index(text, self._read_to) + len(text)
        shown, self._read_to = self.screen[self._read_to : end], end
        return shown

    def type(self, line: str) -> None:
        """Type ``line`` and Enter."""
        os.write(self.master, line.encode() + b"\r")

    def press(self, key: bytes) -> None:
        """Press a key (``b"\\x11"`` is ctrl+q)."""
        os.write(self.master, key)

    def finish(self, timeout: float = 120, unasked: str | None = None) -> tuple[int, str]:
        """The exit code and stdout once the process ends; fails (killing it) if it waits for an answer instead,
        or at once if the terminal shows the question ``unasked``."""
        deadline = time.monotonic() + timeout
        try:
            while self._read(deadline):  # until the process closes the terminal: it exited
                if unasked is not None and unasked in self.since_expect:
                    self.proc.kill()
                    raise AssertionError(f"asked {unasked!r}; the terminal shows:\n{self.since_expect}")
                if time.monotonic() > deadline:
                    self.proc.kill()
                    raise AssertionError(f"still running; the terminal shows:\n{self.since_expect}")
            code = self.proc.wait(timeout=60)
        finally:
            os.close(self.master)
        return code, self.stdout_path.read_text() if self.stdout_path else ""

    @property
    def since_expect(self) -> str:
        return self.screen[self._read_to :]
