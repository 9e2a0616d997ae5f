"""App fixtures: a companion against a real relay process, a Python wallet, and polling helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from tests.pypeer import TEST_ADDRESS, TEST_KEY, py_peer, sign_personal
from walletsync.app import WalletsyncApp
from walletsync.protocol import events as ev
from walletsync.protocol.jsonrpc import RpcError
from walletsync.service import Companion, Config

GRANTED = {
    "eip155": {
        "chains": ["eip155:1"],
        "accounts": [f"eip155:1:{TEST_ADDRESS}"],
        "methods": ["personal_sign"],
        "events": [],
    }
}


async def until(pilot: Pilot, check: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    """Let the app run until ``check()`` is truthy."""
    try:
        async with asyncio.timeout(timeout):
            while not check():
                await pilot.pause(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what or check}") from None


def record_notifications(app: WalletsyncApp) -> list[str]:
    """Every notification message the app shows, in order (toasts vanish; this list does not)."""
    seen: list[str] = []
    show = app.notify

    def notify(message: str, **kwargs):
        seen.append(message)
        return show(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return seen


async def approve(relay_url: str, uri: str, name: str = "py-wallet", granted: dict = GRANTED):
    """A Python wallet pairs from ``uri`` and approves (granting ``granted``); returns the running wallet."""
    wallet = await py_peer(relay_url, name)
    await wallet.run(wallet.engine.pair(uri, wallet.now()))
    proposal = (await wallet.next_event(ev.ProposalReceived)).proposal
    await wallet.run(wallet.engine.approve(proposal.id, granted, wallet.now()))
    return wallet


@pytest.fixture
async def companion(start_relay, tmp_path):
    relay = start_relay("memory")
    companion = await Companion.open(Config(data_dir=str(tmp_path / "home"), relay=relay.url))
    await companion.start()
    yield companion
    await companion.close()


@pytest.fixture
async def other(companion, tmp_path):
    """A second device: its own data dir (so its own identity), on the same relay as ``companion``."""
    other = await Companion.open(Config(data_dir=str(tmp_path / "other"), relay=companion.relay.url))
    await other.start()
    yield other
    await other.close()


@pytest.fixture
async def paired(companion):
    """A Python wallet linked to ``companion`` through the service (not the pairing screen): ``(wallet, session)``."""
    offer = await companion.pair()
    wallet = await approve(companion.relay.url, offer.uri)
    session = await companion.wait_for_session(offer.proposal_id, timeout=20)
    yield wallet, session
    await wallet.close()


async def answer_next_request(
    wallet, *, key: str = TEST_KEY, error: RpcError | None = None
) -> ev.SessionRequestReceived:
    """The wallet waits for the next personal_sign request and signs it with ``key`` (or refuses with ``error``)."""
    request = await wallet.next_event(ev.SessionRequestReceived)
    answer = {"error": error} if error is not None else {"result": sign_personal(request.params[0], key)}
    await wallet.run(wallet.engine.respond(request.topic, request.id, wallet.now(), **answer))
    return request


class Clock:
    """Wall time plus an offset a test can move forward."""

    def __init__(self) -> None:
        import time

        self.offset, self._time = 0.0, time.time

    def __call__(self) -> float:
        return self._time() + self.offset


@pytest.fixture
async def clocked_companion(start_relay, tmp_path):
    """A started companion on a clock the test can move, and its relay process: ``(relay, companion, clock)``."""
    relay, clock = start_relay("memory"), Clock()
    companion = await Companion.open(Config(data_dir=str(tmp_path / "home"), relay=relay.url), clock=clock)
    await companion.start()
    yield relay, companion, clock
    await companion.close()
