"""The local relay walletsync starts in the background: started once, reused, and stopped with `relay --stop`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.procs import REPO, free_port
from walletsync.localrelay import PID_FILE, ensure_local_relay, is_relay, local_url, stop_local_relay


def relay_stop(home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "walletsync", "relay", "--stop", "--json", "--data-dir", str(home)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


async def test_started_once_reused_then_stopped_from_the_command_line(tmp_path):
    """The first command starts a relay that outlives it, the next reuses it, and `walletsync relay --stop`
    ends it cleanly (its SQLite mailbox stays); a second --stop says nothing is running."""
    port = free_port()
    url, started = await ensure_local_relay(tmp_path, port)
    try:
        assert (url, started) == (local_url(port), True)
        assert await ensure_local_relay(tmp_path, port) == (url, False)
        pid = int((tmp_path / PID_FILE).read_text())

        stopped = relay_stop(tmp_path)
        assert stopped.returncode == 0, stopped.stderr
        assert json.loads(stopped.stdout) == {"event": "stopped", "pid": pid}
        assert not await is_relay(url, timeout=1.0)
        assert not (tmp_path / PID_FILE).exists() and (tmp_path / "relay.db").exists()

        again = relay_stop(tmp_path)
        assert again.returncode == 0 and json.loads(again.stdout) == {"event": "not_running"}
    finally:
        stop_local_relay(tmp_path)


def test_a_stale_pid_file_is_not_trusted(tmp_path):
    """A pid file left by a relay that died (its pid maybe reused by another program) stops nothing."""
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / PID_FILE).write_text(f"{sleeper.pid}\n")
        assert stop_local_relay(tmp_path) is None
        assert sleeper.poll() is None, "an unrelated process was signalled"
        assert not (tmp_path / PID_FILE).exists()
    finally:
        sleeper.kill()
        sleeper.wait()
