"""Protocol fixtures: deterministic engines wired through the in-memory relay."""

from __future__ import annotations

import random

import pytest

from walletsync.protocol import events as ev
from walletsync.protocol.engine import SignEngine
from walletsync.protocol.loopback import LoopbackRelay

NOW = 1_800_000_000
ACCOUNT = "eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"
ACCOUNT_137 = "eip155:137:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"
METHODS = ["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"]
EVENTS = ["chainChanged", "accountsChanged"]
REQUESTED = {"eip155": {"chains": ["eip155:1", "eip155:137"], "methods": METHODS, "events": EVENTS}}
GRANTED = {
    "eip155": {
        "chains": ["eip155:1", "eip155:137"],
        "accounts": [ACCOUNT, ACCOUNT_137],
        "methods": METHODS,
        "events": EVENTS,
    }
}


def metadata(name: str) -> dict:
    return {"name": name, "description": f"{name} under test", "url": f"https://{name}.example", "icons": []}


def seeded(seed: int):
    """Reproducible randomness for engines (never use this outside tests)."""
    return random.Random(seed).randbytes


def make_pair(handshake: str = "relay", seed: int = 1) -> LoopbackRelay:
    return LoopbackRelay(
        dapp=SignEngine(metadata("dapp"), seeded(seed), handshake=handshake),
        wallet=SignEngine(metadata("wallet"), seeded(seed + 1000), handshake=handshake),
    )


def settle(relay: LoopbackRelay, now: float = NOW, *, required: dict | None = None, granted: dict | None = None) -> str:
    """Pair, propose, approve and deliver until both sides hold the session; returns its topic."""
    relay.do("dapp", "connect", now, required_namespaces=required, optional_namespaces=None if required else REQUESTED)
    uri = relay.last("dapp", ev.PairingCreated).uri
    relay.do("wallet", "pair", str(uri), now)
    relay.run(now)
    proposal = relay.last("wallet", ev.ProposalReceived).proposal
    relay.do("wallet", "approve", proposal.id, granted or GRANTED, now)
    relay.run(now)
    return relay.last("dapp", ev.SessionSettled).session.topic


@pytest.fixture(params=["relay", "legacy"])
def handshake(request) -> str:
    return request.param


@pytest.fixture
def relay(handshake) -> LoopbackRelay:
    return make_pair(handshake)


@pytest.fixture
def session_topic(relay) -> str:
    return settle(relay)
