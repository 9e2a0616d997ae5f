"""The data dir is its owner's alone: 0700, every file in it 0600, while commands run and after."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.procs import free_port
from walletsync.localrelay import ensure_local_relay, stop_local_relay


def modes(home: Path) -> dict[str, int]:
    return {entry.name: stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) for entry in os.scandir(home)}


async def test_a_loose_data_dir_is_tightened_and_every_file_stays_0600_while_a_command_runs(cli):
    """A data dir left 0755 with a 0644 file is made 0700/0600 by the next command, and the database's -wal and
    -shm files are 0600 while `walletsync pair` holds them open."""
    cli.home.mkdir(mode=0o755)
    os.chmod(cli.home, 0o755)
    (cli.home / "config.json").write_text("{}")
    os.chmod(cli.home / "config.json", 0o644)
    pair = await cli.spawn("pair", "--json")
    try:
        await pair.expect("uri")
        files = modes(cli.home)
        assert {"walletsync.db", "walletsync.db-wal", "walletsync.db-shm", "config.json"} <= set(files)
        assert stat.S_IMODE(os.stat(cli.home).st_mode) == 0o700
        assert {name: mode for name, mode in files.items() if mode != 0o600} == {}
    finally:
        await pair.close()


async def test_the_local_relay_keeps_its_mailbox_log_and_pid_file_private(tmp_path):
    """The background relay's SQLite mailbox (with its -wal/-shm), its log and its pid file are 0600 while it runs,
    even when the process that starts it has a permissive umask."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    old = os.umask(0o022)
    try:
        await ensure_local_relay(home, free_port())
        files = modes(home)
        assert {"relay.db", "relay.db-wal", "relay.log", "relay.pid"} <= set(files)
        assert {name: mode for name, mode in files.items() if mode != 0o600} == {}
    finally:
        os.umask(old)
        stop_local_relay(home)
