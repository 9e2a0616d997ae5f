"""t on the session detail serves the session to tools, with real parts: a companion paired with the reference phone
(which signs with anvil's first account and broadcasts) over a real relay, anvil as the upstream node, and a raw HTTP
client as the tool."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from textual.widgets import DataTable, Static

from tests.app.conftest import record_notifications, until
from tests.app.test_detail import open_detail
from tests.bridge.conftest import PHONE, mined, post
from tests.policy.conftest import FRIEND, with_phone
from walletsync.app import build_app

SEND = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "eth_sendTransaction",
    "params": [{"from": PHONE, "to": FRIEND, "value": "0x5"}],
}


def refuses(port: int) -> bool:
    """True once nothing listens on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def bridged(app) -> list[list[str]]:
    table = app.screen.query_one("#detail-bridged", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@dataclass
class OnDetail:
    app: Any
    pilot: Any
    companion: Any
    session: Any
    notes: list[str]


@contextlib.asynccontextmanager
async def on_detail(start_relay, rpc_url: str, tmp_path) -> AsyncIterator[OnDetail]:
    """A companion paired with the reference phone (approving all), ``config.json`` naming ``rpc_url`` as Ethereum's
    node, and the app open on the session's detail."""
    relay = start_relay("memory")
    home = tmp_path / "home"
    async with with_phone(relay.url, home, tmp_path, "--auto-approve") as (companion, session, _):
        (home / "config.json").write_text(json.dumps({"rpc": {"eip155:1": rpc_url}}))
        app = build_app(companion)
        notes = record_notifications(app)
        async with app.run_test(size=(140, 60)) as pilot:
            await open_detail(pilot, session.topic)
            yield OnDetail(app, pilot, companion, session, notes)


async def test_t_serves_the_session_to_tools_until_pressed_again(start_relay, anvil, tmp_path):
    """t on the detail starts the endpoint: the URL, chain and upstream and the hints show; a tool's
    eth_sendTransaction is named in a notification ("Python-urllib asks the phone: eth_sendTransaction: Send …"),
    mines, shows in the session's requests as any request does and among the bridged requests as ok; the endpoint
    serves on after the detail is left; t again stops it (the port refuses connections), and so does quitting."""
    relay = start_relay("memory")
    home = tmp_path / "home"
    async with with_phone(relay.url, home, tmp_path, "--auto-approve", "--rpc", anvil.url) as (companion, session, _):
        (home / "config.json").write_text(json.dumps({"rpc": {"eip155:1": anvil.url}}))
        app = build_app(companion)
        notes = record_notifications(app)
        async with app.run_test(size=(140, 60)) as pilot:
            await open_detail(pilot, session.topic)
            assert not app.screen.query_one("#detail-tools", Static).display
            await pilot.press("t")
            await until(pilot, lambda: session.topic in app.tools, what="the endpoint")
            listening = app.tools[session.topic].listening
            await pilot.pause()
            shown = str(app.screen.query_one("#detail-tools", Static).render())
            assert f"Serving    {listening.url}" in shown and "Ethereum (eip155:1)" in shown and anvil.url in shown
            assert f"cast send --unlocked --from {PHONE}" in shown and "--rpc-timeout 300" in shown

            status, answer = await asyncio.to_thread(post, listening.url, SEND)
            assert status == 200 and (await mined(anvil, answer["result"]))["status"] == "0x1"
            await until(
                pilot,
                lambda: any(r[2] == "eth_sendTransaction" and r[3] == "ok" for r in bridged(app)),
                what="the bridged request",
            )
            assert any(n.startswith("Python-urllib asks the phone: eth_sendTransaction: Send") for n in notes), notes
            requests = app.screen.query_one("#detail-requests", DataTable)
            await until(pilot, lambda: requests.row_count == 1, what="the request row")
            assert str(requests.get_row_at(0)[0]) == "eth_sendTransaction"

            await pilot.press("escape")  # the App's endpoint: it serves on
            status, answer = await asyncio.to_thread(
                post, listening.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}
            )
            assert answer["result"] == "0x1"
            await open_detail(pilot, session.topic)
            await pilot.pause()
            assert app.screen.query_one("#detail-tools", Static).display
            await pilot.press("t")
            await until(pilot, lambda: session.topic not in app.tools, what="stopped")
            async with asyncio.timeout(10):
                while not refuses(listening.port):
                    await asyncio.sleep(0.05)

            await pilot.press("t")  # again, then quit
            await until(pilot, lambda: session.topic in app.tools, what="the endpoint again")
            port = app.tools[session.topic].listening.port
        assert refuses(port)


async def test_t_on_a_chain_without_an_rpc_node_says_so(start_relay, tmp_path):
    """A chain no RPC node is known for (config.json names one that is not there): the error notification says the
    node does not answer, and nothing serves."""
    async with on_detail(start_relay, "http://127.0.0.1:9", tmp_path) as d:
        await d.pilot.press("t")
        await until(d.pilot, lambda: any("does not answer" in n for n in d.notes), what="the error")
        assert d.session.topic not in d.app.tools and not d.app.tools_starting


async def test_a_busy_8545_is_said_and_a_free_port_served(start_relay, anvil, tmp_path):
    """With 127.0.0.1:8545 taken (here by the test, or by whatever node already has it), t serves on a free port
    and the warning says both."""
    taken = socket.socket()
    try:
        try:
            taken.bind(("127.0.0.1", 8545))
            taken.listen()
        except OSError:
            pass  # something else has it: busy all the same
        async with on_detail(start_relay, anvil.url, tmp_path) as d:
            await d.pilot.press("t")
            await until(d.pilot, lambda: d.session.topic in d.app.tools, what="the endpoint")
            url = d.app.tools[d.session.topic].listening.url
            assert url != "http://127.0.0.1:8545"
            await until(d.pilot, lambda: d.notes, what="the warning")
            assert d.notes[-1] == f"127.0.0.1:8545 is in use (another node?): serving on {url} instead"
            assert (await asyncio.to_thread(post, url, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}))[1][
                "result"
            ] == "0x1"
    finally:
        taken.close()


async def test_t_on_an_ended_session_says_so(start_relay, anvil, tmp_path):
    """A session revoked here cannot serve: the error notification says it is not active, and nothing serves."""
    relay = start_relay("memory")
    home = tmp_path / "home"
    async with with_phone(relay.url, home, tmp_path, "--auto-approve") as (companion, session, _):
        (home / "config.json").write_text(json.dumps({"rpc": {"eip155:1": anvil.url}}))
        await companion.revoke(session.topic)
        app = build_app(companion)
        notes = record_notifications(app)
        async with app.run_test(size=(140, 60)) as pilot:
            await open_detail(pilot, session.topic)
            await pilot.press("t")
            await until(pilot, lambda: notes, what="the error")
            assert session.topic not in app.tools and not app.tools_starting
    assert "revoked" in notes[-1] or "not active" in notes[-1], notes


async def test_serving_stops_when_the_session_ends(start_relay, anvil, tmp_path):
    """A served session revoked (here: from the sessions list's d would do the same) stops its endpoint: the port
    refuses tools, and a warning says why."""
    async with on_detail(start_relay, anvil.url, tmp_path) as d:
        await d.pilot.press("t")
        await until(d.pilot, lambda: d.session.topic in d.app.tools, what="the endpoint")
        port = d.app.tools[d.session.topic].listening.port
        await d.companion.revoke(d.session.topic)
        await until(d.pilot, lambda: d.session.topic not in d.app.tools, what="stopped")
        async with asyncio.timeout(10):
            while not refuses(port):
                await asyncio.sleep(0.05)
        await until(d.pilot, lambda: any(n.startswith("Stopped serving it to tools") for n in d.notes), what="why")
        assert f"session {d.session.name!r} is revoked" in d.notes[-1], d.notes


async def test_a_send_the_phone_altered_is_a_warning(start_relay, anvil, tmp_path):
    """A phone that sends a transaction with more gas than asked (the official JS SDK as the wallet, altering it):
    once mined, a warning notification says which transaction and what changed."""
    from tests.bridge.test_altered import ANVIL_KEY
    from tests.procs import JsPeer
    from walletsync.service import Companion, Config

    relay = start_relay("memory")
    flags = ("--auto-approve", "--auto-sign", "--rpc", anvil.url, "--alter-gas", "1000")
    peer = await JsPeer.start(relay.url, tmp_path, name="altering-wallet", flags=flags, key=ANVIL_KEY)
    home = tmp_path / "home"
    companion = await Companion.open(Config(data_dir=str(home), relay=relay.url))
    try:
        await companion.start()
        offer = await companion.pair(name="js")
        await peer.send("pair", uri=offer.uri)
        session = await companion.wait_for_session(offer.proposal_id, 30)
        (home / "config.json").write_text(json.dumps({"rpc": {"eip155:1": anvil.url}}))
        app = build_app(companion)
        notes = record_notifications(app)
        async with app.run_test(size=(140, 60)) as pilot:
            await open_detail(pilot, session.topic)
            await pilot.press("t")
            await until(pilot, lambda: session.topic in app.tools, what="the endpoint")
            url = app.tools[session.topic].listening.url
            status, answer = await asyncio.to_thread(post, url, SEND)
            tx_hash = answer["result"]
            await until(pilot, lambda: any("other than asked" in n for n in notes), timeout=30, what="the warning")
            warned = next(n for n in notes if "other than asked" in n)
            assert warned.startswith(f"The phone sent {tx_hash} other than asked: gas asked ")
    finally:
        await companion.close()
        await peer.close()


async def test_what_a_client_sent_is_shown_as_data():
    """A User-Agent and an error message with markup and a bidi control: the notification and the bridged row show
    them as written (escaped), never as markup."""
    from tests.app.scenes.tools import FakeEndpoint, serving_companion
    from walletsync.bridge.events import Client, PhoneAsked, RequestHandled

    hostile = Client("127.0.0.1:1", "[b]evil\u202e[i] 1.0")

    async def start(ref, report, on_refused):
        report(PhoneAsked("personal_sign", hostile, None, []))
        report(RequestHandled("personal_sign", hostile, "error", {"code": 4001, "message": "[red]no[/red]\u202e"}))
        return FakeEndpoint()

    app = build_app(serving_companion(), start)
    notes = record_notifications(app)
    async with app.run_test(size=(140, 60)) as pilot:
        from tests.app.scenes.tools import serving

        await serving(pilot)
        rows = bridged(app)
        assert rows[0][1] == "[b]evil\\u202e[i] · 127.0.0.1:1"
        assert rows[0][3] == "error 4001 [red]no[/red]\\u202e"
    assert "[b]evil\\u202e[i] asks the phone: personal_sign" in notes
