"""Shared fixtures: real relay and redis processes on loopback (the engine fixtures live in tests/protocol)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.procs import AnvilNode, RedisServer, RelayProcess


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server for the run (the test command installs it)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def start_relay(tmp_path, request):
    """``start_relay(store)`` → a running ``walletsync relay`` process; all are stopped after the test.

    ``store`` is ``memory``, ``sqlite`` (a fresh file) or ``redis`` (the session's redis-server, emptied).
    """
    started: list[RelayProcess] = []

    def start(store: str = "memory", *, port: int | None = None) -> RelayProcess:
        if store == "sqlite":
            store = f"sqlite:{tmp_path / 'relay.db'}"
        elif store == "redis":
            server = request.getfixturevalue("redis_server")
            if not any(r.store.startswith("redis") for r in started):
                server.flush()
            store = server.url
        relay = RelayProcess(store, tmp_path, port).start()
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.stop()


@pytest.fixture
def log_dir(tmp_path) -> Path:
    return tmp_path


@pytest.fixture
def anvil(tmp_path):
    """A real chain node (anvil, chain id 1) on a free loopback port, stopped after the test."""
    node = AnvilNode(tmp_path).start()
    yield node
    node.stop()
