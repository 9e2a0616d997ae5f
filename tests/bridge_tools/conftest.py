"""Fixtures for the real tools (cast, forge, ethers) against a node with an unlocked account.

``node_url`` is the one switch between what the tools talk to (``THROUGH``): anvil itself, whose first account is
unlocked, and the ``walletsync rpc`` endpoint in front of that anvil, whose session's phone is the reference phone
(``--auto-approve``, signing with the same key and broadcasting to the same anvil). The tools cannot tell them
apart; the chain is the witness.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.bridge_tools.endpoint import RpcEndpoint, paired_phone
from tests.procs import AnvilNode
from tests.test_phone import PhoneProcess
from tests.tools import FORGE_PROJECT, Foundry, foundry_binary

ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
"""anvil's first account, unlocked there; the reference phone's key, so the endpoint's session account too."""
FRIEND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

THROUGH = ("anvil", "endpoint")
"""What ``node_url`` yields, one test run per entry: anvil directly (the tools' own baseline), and the endpoint."""


@pytest.fixture(scope="session")
def foundry(tmp_path_factory) -> Foundry:
    """cast and forge with a HOME and build folders of their own; the forge project compiled once (solcjs)."""
    tools = Foundry(tmp_path_factory.mktemp("foundry"))
    built = subprocess.run(
        [str(foundry_binary("forge")), "build"],
        cwd=FORGE_PROJECT,
        env=tools.env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return tools


@pytest.fixture
def start_endpoint(anvil: AnvilNode, start_relay, tmp_path) -> Callable[..., Any]:
    """``async with start_endpoint(*phone_flags) as (endpoint, phone)``: ``walletsync rpc`` in front of ``anvil``,
    its session's reference phone started with ``phone_flags`` (none: it asks nobody, so it rejects)."""

    @contextlib.asynccontextmanager
    async def start(*phone_flags: str) -> AsyncIterator[tuple[RpcEndpoint, PhoneProcess]]:
        relay = start_relay("memory")
        home = tmp_path / f"home-{len(list(tmp_path.glob('home-*')))}"
        async with paired_phone(relay.url, home, tmp_path, *phone_flags) as (session, phone):
            endpoint = RpcEndpoint(home, relay.url, session, anvil.url, tmp_path).start()
            try:
                assert [a.lower() for a in endpoint.listening["accounts"]] == [ACCOUNT.lower()], endpoint.listening
                yield endpoint, phone
            finally:
                assert endpoint.stop() == 0, endpoint.events()[-5:]

    return start


@pytest.fixture(params=THROUGH)
async def node_url(request, anvil: AnvilNode) -> AsyncIterator[str]:
    """The URL a tool is pointed at: anvil's, or the endpoint's (its phone approving everything)."""
    if request.param == "anvil":
        yield anvil.url
        return
    start_endpoint = request.getfixturevalue("start_endpoint")
    async with start_endpoint("--auto-approve", "--rpc", anvil.url) as (endpoint, _phone):
        yield endpoint.url
