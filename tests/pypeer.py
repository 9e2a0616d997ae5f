"""walletsync's own engine + transport as a test peer (the minimal driver until the CLI exists)."""

from __future__ import annotations

import os

from eth_account import Account
from eth_account.messages import encode_defunct

from walletsync.protocol.engine import SignEngine
from walletsync.protocol.relay_auth import RelayIdentity
from walletsync.transport.client import RelayClient
from walletsync.transport.runner import EngineRunner

TEST_KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
TEST_ADDRESS = Account.from_key(TEST_KEY).address


def metadata(name: str) -> dict:
    return {"name": name, "description": f"{name} (walletsync)", "url": f"https://{name}.example", "icons": []}


async def py_peer(
    url: str,
    name: str,
    *,
    handshake: str = "relay",
    identity: RelayIdentity | None = None,
    engine: SignEngine | None = None,
) -> EngineRunner:
    runner = EngineRunner(
        engine or SignEngine(metadata(name), os.urandom, handshake=handshake),
        RelayClient(url, identity or RelayIdentity(os.urandom(32)), backoff_cap=1.0),
    )
    await runner.start()
    return runner


def sign_personal(message_hex: str, key: str = TEST_KEY) -> str:
    return "0x" + Account.sign_message(encode_defunct(hexstr=message_hex), key).signature.hex().removeprefix("0x")


def recover_personal(message_hex: str, signature: str) -> str:
    return Account.recover_message(encode_defunct(hexstr=message_hex), signature=signature)
