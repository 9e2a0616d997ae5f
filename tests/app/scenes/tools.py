"""Scenes of a session served to tools: the detail while its endpoint serves, after one bridged request."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from textual.pilot import Pilot

from tests.app.fakes import ADDRESS, FakeCompanion
from tests.app.scenes import Scene, until_shown
from tests.app.scenes.request import TOPIC, companion, open_detail, request
from walletsync.app import build_app
from walletsync.app.screens.detail import SessionDetailScreen
from walletsync.app.tools import Endpoint, OnRefused, Report
from walletsync.bridge.events import Client, PhoneAsked, RequestHandled
from walletsync.bridge.serving import Listening
from walletsync.errors import WalletsyncError

FRIEND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TX_HASH = "0x" + "3e" * 32
UPSTREAM = "https://ethereum-rpc.publicnode.com"
WEB3 = Client("127.0.0.1:53124", "web3.py/7.12.0/AsyncHTTPProvider")


class FakeEndpoint:
    """Listens nowhere: the picture of an endpoint on 127.0.0.1:8545."""

    listening: Listening | None = Listening("phone", "eip155:1", [ADDRESS], UPSTREAM, "127.0.0.1", 8545)

    async def ended(self) -> WalletsyncError:
        await asyncio.Event().wait()  # its session never ends in the picture
        raise AssertionError("unreachable")

    async def close(self) -> None:
        return None


def served(fake: FakeCompanion):
    """Starts a :class:`FakeEndpoint` that has just had one eth_sendTransaction from web3.py, answered."""

    async def start(ref: str, report: Report, on_refused: OnRefused) -> Endpoint:
        tx = {"from": ADDRESS, "to": FRIEND, "value": hex(10**16)}
        preview = fake.preview(ref, tx=json.dumps(tx))
        report(PhoneAsked("eth_sendTransaction", WEB3, replace(preview, method="eth_sendTransaction"), [tx]))
        report(RequestHandled("eth_sendTransaction", WEB3, "ok"))
        return FakeEndpoint()

    return start


def serving_companion() -> FakeCompanion:
    fake = companion()
    sent = replace(
        request(5, "answered", 0, result=TX_HASH, verdict={"verified": True, "reason": "well-formed transaction hash"}),
        method="eth_sendTransaction",
        params=[{"from": ADDRESS, "to": FRIEND, "value": hex(10**16)}],
    )
    fake.sent_requests = (*fake.sent_requests, sent)
    return fake


def build():
    fake = serving_companion()
    return build_app(fake, served(fake))


async def serving(pilot: Pilot) -> None:
    await open_detail(pilot)
    await pilot.press("t")
    await until_shown(
        pilot, SessionDetailScreen, lambda screen: TOPIC in pilot.app.tools and screen.has_class("-serving")
    )


SCENES = [
    Scene(
        "bridge",
        't on the detail of "phone": under its summary, "Serving to tools" — "Serving http://127.0.0.1:8545 (and '
        'ws://127.0.0.1:8545) · t stops it", the chain Ethereum (eip155:1) with the account, the upstream '
        "https://ethereum-rpc.publicnode.com, and the hints for cast, forge, web3.py, ethers and Hardhat with their "
        "timeouts — then one bridged request: web3.py · 127.0.0.1:53124, eth_sendTransaction, ok; the requests "
        "table has that eth_sendTransaction on top, verified (a well-formed transaction hash). Footer: ? Keys, "
        "s New request, t Stop serving, a Audit log, p Set policy, esc Back.",
        build,
        size=(120, 60),
        steps=serving,
    ),
]
