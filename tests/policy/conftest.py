"""Fixtures for policies: a companion in this process, paired with the reference phone (`walletsync phone`)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from tests.test_phone import PhoneProcess
from walletsync.chains.model import Chain, Token
from walletsync.service import Companion, Config, SessionRecord

PHONE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
"""The reference phone's test key: anvil's first account."""
FRIEND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STRANGER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
ETH = 10**18


class SmallRegistry:
    """A registry that knows Ethereum and USDC alone (the pure tests' own; the companion reads the bundled one)."""

    def chain(self, chain_id: str) -> Chain | None:
        return Chain("eip155:1", "Ethereum", "ETH") if chain_id == "eip155:1" else None

    def token(self, chain_id: str, address: str) -> Token | None:
        if chain_id == "eip155:1" and address.lower() == USDC.lower():
            return Token("eip155:1", USDC, "USDC", 6, "USD Coin")
        return None

    def token_by_symbol(self, chain_id: str, symbol: str) -> Token | None:
        return self.token(chain_id, USDC) if symbol.upper() == "USDC" else None


class Clock:
    """Real time plus an offset a test moves forward (the budget window slides on it)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@contextlib.asynccontextmanager
async def with_phone(
    relay_url: str, home: Path, logs: Path, *phone_flags: str, clock: Clock | None = None
) -> AsyncIterator[tuple[Companion, SessionRecord, PhoneProcess]]:
    """A started companion on ``home``, a reference phone paired with it, and their session; all closed after."""
    companion = await Companion.open(Config(data_dir=str(home), relay=relay_url), clock=clock or Clock())
    phone: PhoneProcess | None = None
    try:
        await companion.start()
        offer = await companion.pair(name="phone")
        phone = await PhoneProcess.start(offer.uri, relay_url, logs, "--approve", *phone_flags)
        session = await companion.wait_for_session(offer.proposal_id, 30)
        await phone.expect("session")
        yield companion, session, phone
    finally:
        if phone is not None:
            await phone.close()
        await companion.close()


async def requests_seen(phone: PhoneProcess, answered: int) -> list[dict]:
    """The requests the phone was asked, once it has reported ``answered`` answers in all (read in order, so a
    request pushed before the last of them would be among these)."""
    while sum(1 for e in phone.events if e.get("event") == "response") < answered:
        await phone.expect("response")
    return [e for e in phone.events if e.get("event") == "request"]
