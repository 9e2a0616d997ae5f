"""The app driven with Pilot against a real relay process and a Python wallet."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from tests.app.conftest import approve, record_notifications, until
from tests.app.screen import decode_qr, widget_text
from tests.procs import RelayProcess
from walletsync.app import build_app
from walletsync.app.screens.modals import ConfirmScreen, RenameScreen
from walletsync.app.screens.pairing import PairingScreen
from walletsync.app.screens.sessions import SessionsScreen
from walletsync.protocol import events as ev
from walletsync.service import Companion, Config


def cell(app, topic: str, column: str) -> str:
    return str(app.screen.query_one(DataTable).get_cell(topic, column))


async def pair_from_screen(pilot, companion):
    """Wait for the pairing screen's QR, pair a wallet from the URI it shows, wait for the session row."""
    app = pilot.app
    await until(
        pilot, lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None, what="a pairing offer"
    )
    uri = app.screen.offer.uri
    await pilot.pause()
    assert decode_qr(app) == [uri]
    assert uri in "".join(widget_text(app, "#pairing-uri").split())
    wallet = await approve(companion.relay.url, uri)
    await until(pilot, lambda: isinstance(app.screen, SessionsScreen) and app.screen.records, what="the sessions table")
    return wallet, app.screen.current_topic()


async def test_pair_rename_revoke(companion):
    """First start shows the pairing QR and the local relay; a wallet scans it; the app says "Paired py-wallet",
    shows the session highlighted in the table; r renames it through a dialog; d + y revokes it and the phone hears."""
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 60)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None)
        assert companion.relay.url in str(app.screen.query_one("#status-bar", Static).render())
        assert "Expires in" in str(app.screen.query_one("#pairing-expiry", Static).render())
        wallet, topic = await pair_from_screen(pilot, companion)
        try:
            assert "Paired py-wallet (peer: py-wallet)" in seen
            assert topic == companion.sessions()[0].topic
            assert cell(app, topic, "peer") == "py-wallet" and cell(app, topic, "status") == "active"
            assert "Ethereum" in cell(app, topic, "chains")
            await until(
                pilot, lambda: "link up" in str(app.screen.query_one("#status-bar", Static).render()), what="link up"
            )

            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, RenameScreen))
            app.screen.query_one(Input).value = ""
            await pilot.press(*"phone", "enter")
            await until(
                pilot,
                lambda: isinstance(app.screen, SessionsScreen) and cell(app, topic, "name") == "phone",
                what="the new name",
            )
            assert companion.resolve("phone").topic == topic

            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            deleted = await wallet.next_event(ev.SessionDeleted)
            assert deleted.topic == topic
            await until(pilot, lambda: cell(app, topic, "status") == "revoked", what="status revoked")
            await until(pilot, lambda: "Revoked phone" in seen)
        finally:
            await wallet.close()


async def test_the_phone_disconnecting_shows_up(companion):
    """When the phone ends the session, its row turns "deleted" and a notification says the phone disconnected."""
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 60)) as pilot:
        wallet, topic = await pair_from_screen(pilot, companion)
        try:
            await wallet.run(wallet.engine.disconnect(topic, wallet.now()))
            await until(pilot, lambda: cell(app, topic, "status") == "deleted", what="status deleted")
            await until(pilot, lambda: any("disconnected by the phone" in m for m in seen), what="a notification")
        finally:
            await wallet.close()


async def test_n_opens_a_new_pairing_over_the_sessions(companion):
    """With a session already there the app opens on the table; n shows a fresh QR; escape goes back."""
    app = build_app(companion)
    async with app.run_test(size=(120, 60)) as pilot:
        wallet, topic = await pair_from_screen(pilot, companion)
        try:
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None)
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        finally:
            await wallet.close()
    again = build_app(companion)
    async with again.run_test(size=(120, 60)) as pilot:
        await until(
            pilot, lambda: isinstance(again.screen, SessionsScreen) and again.screen.records, what="the sessions table"
        )
        assert again.screen.current_topic() == topic


async def test_a_lapsed_qr_is_replaced(clocked_companion):
    """When the pairing's expiry passes unused, the countdown ends and a new QR with a new URI replaces it."""
    _, companion, clock = clocked_companion
    app = build_app(companion)
    async with app.run_test(size=(120, 60)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None)
        first = app.screen.offer
        clock.offset = first.expires_at - clock() + 1
        await until(
            pilot,
            lambda: app.screen.offer is not None and app.screen.offer.uri != first.uri,
            timeout=5,
            what="a fresh URI",
        )
        assert app.screen.offer.expires_at > clock()
        await pilot.pause()
        assert decode_qr(app) == [app.screen.offer.uri]


async def test_a_lapsed_qr_is_withdrawn_while_the_relay_is_away(clocked_companion):
    """The relay goes away and the QR on screen lapses: the QR disappears (nothing left for a camera to read)
    and the screen says it is waiting for the relay instead of showing a pairing that can no longer work."""
    relay, companion, clock = clocked_companion
    app = build_app(companion)
    async with app.run_test(size=(120, 60)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None)
        relay.kill()
        await until(pilot, lambda: companion.link_status.state != "online", what="the link down")
        clock.offset = app.screen.offer.expires_at - clock() + 1
        await until(
            pilot,
            lambda: "Waiting for the relay to answer" in widget_text(app, "#pairing-uri"),
            what="the waiting message",
        )
        assert app.screen.offer is None and decode_qr(app) == []


async def test_escape_on_the_first_pairing_shows_the_empty_session_list():
    """First start opens on the QR alone; escape shows the empty session list ("No sessions yet — press n"); n brings
    a QR back and escape returns to the list."""
    from tests.app.fakes import FakeCompanion

    app = build_app(FakeCompanion([]))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None)
        assert len(app.screen_stack) == 2
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        assert app.screen.query_one("#sessions-empty").display
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PairingScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen) and len(app.screen_stack) == 2)


async def test_pairing_waits_for_an_unreachable_relay_and_shows_the_qr_once_it_answers(tmp_path, log_dir):
    """The relay is down at start: the pairing screen says it is waiting for the relay (and why) instead of a
    QR; once the relay starts the QR appears and scans to a URI a wallet can pair with."""
    relay = RelayProcess("memory", log_dir)
    companion = await Companion.open(Config(data_dir=str(tmp_path / "home"), relay=relay.url))
    await companion.start()
    app = build_app(companion)
    try:
        async with app.run_test(size=(120, 60)) as pilot:
            await until(
                pilot,
                lambda: "Waiting for the relay to answer" in widget_text(app, "#pairing-uri"),
                what="the waiting message",
            )
            assert "connection refused" in widget_text(app, "#pairing-uri")
            relay.start()
            await until(
                pilot,
                lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None,
                timeout=90,
                what="a pairing offer",
            )
            await pilot.pause()
            assert decode_qr(app) == [app.screen.offer.uri]
    finally:
        await companion.close()
        if relay.proc is not None:
            relay.kill()
