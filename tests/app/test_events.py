"""What the phone and the clock do to a running app: updates, deletes, expiry, and actions that cannot succeed."""

from __future__ import annotations

import functools

import pytest
from textual.widgets import DataTable

from tests.app.conftest import GRANTED, approve, record_notifications, until
from tests.app.test_audit import kinds, open_audit
from tests.app.test_flow import cell
from walletsync.app import build_app
from walletsync.app.screens.audit import AuditScreen
from walletsync.app.screens.sessions import SessionsScreen


async def on_table(pilot) -> str:
    """Wait for the session table; the highlighted session's topic."""
    await until(
        pilot,
        lambda: isinstance(pilot.app.screen, SessionsScreen) and pilot.app.screen.records,
        what="the sessions table",
    )
    return pilot.app.screen.current_topic()


async def test_a_phone_update_is_announced_over_the_audit_screen(companion, paired):
    """With the audit log on top, the phone adds Polygon: a "changed its accounts or chains" notification shows
    anyway, "session updated" and (Polygon was never asked for) "session scope widened" rows appear, and back on the
    table the session's chains say one more ("Ethereum +1")."""
    wallet, session = paired
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_audit(pilot)
        namespaces = {
            "eip155": {
                **GRANTED["eip155"],
                "chains": ["eip155:1", "eip155:137"],
                "accounts": [*GRANTED["eip155"]["accounts"], GRANTED["eip155"]["accounts"][0].replace(":1:", ":137:")],
            }
        }
        await wallet.run(wallet.engine.update(session.topic, namespaces, wallet.now()))
        await until(pilot, lambda: any("changed its accounts or chains" in m for m in seen), what="the notification")
        await until(
            pilot, lambda: kinds(app)[:2] == ["session scope widened", "session updated"], what="the audit rows"
        )
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        assert cell(app, session.topic, "chains") == "Ethereum +1"


async def test_a_phone_disconnecting_is_announced_over_the_audit_screen(companion, paired):
    """With the audit log on top, the phone ends the session: "disconnected by the phone" pops up, the row
    "session deleted by peer" appears, and the session table underneath says "deleted"."""
    wallet, session = paired
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_audit(pilot)
        await wallet.run(wallet.engine.disconnect(session.topic, wallet.now()))
        await until(pilot, lambda: any("disconnected by the phone" in m for m in seen), what="the notification")
        await until(pilot, lambda: kinds(app)[0] == "session deleted by peer", what="the audit row")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        assert cell(app, session.topic, "status") == "deleted"


async def test_accounts_changed_on_the_phone_is_announced_and_audited(companion):
    """The phone switches account (an accountsChanged event): a "Phone event" notification names the session,
    the event and the new account, and the audit log gains an "event received" row."""
    offer = await companion.pair()
    granted = {"eip155": {**GRANTED["eip155"], "events": ["accountsChanged", "chainChanged"]}}
    wallet = await approve(companion.relay.url, offer.uri, granted=granted)
    session = await companion.wait_for_session(offer.proposal_id, timeout=20)
    app = build_app(companion)
    seen = record_notifications(app)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await on_table(pilot)
            other = "eip155:1:0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
            await wallet.run(wallet.engine.emit(session.topic, "eip155:1", "accountsChanged", [other], wallet.now()))
            await until(pilot, lambda: any("accountsChanged" in m for m in seen), what="the notification")
            shown = next(m for m in seen if "accountsChanged" in m)
            assert session.name in shown and "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" in shown
            await open_audit(pilot)
            await until(pilot, lambda: kinds(app)[0] == "event received", what="the audit row")
    finally:
        await wallet.close()


@pytest.fixture
async def clocked(clocked_companion):
    """A companion on a clock the test can move, with a linked Python wallet: ``(companion, clock, wallet, session)``."""
    relay, companion, clock = clocked_companion
    offer = await companion.pair()
    wallet = await approve(relay.url, offer.uri)
    session = await companion.wait_for_session(offer.proposal_id, timeout=20)
    yield companion, clock, wallet, session
    await wallet.close()


async def test_the_expiry_counts_down_then_the_session_expires(clocked):
    """Ten seconds before the session's expiry the Expires column counts down (0:10, 0:09, …); once it passes,
    the status reads "expired" and a notification says the session expired."""
    companion, clock, wallet, session = clocked
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        topic = await on_table(pilot)
        clock.offset = session.expiry - clock() - 10.5
        await until(pilot, lambda: cell(app, topic, "expires").startswith("0:"), timeout=5, what="a seconds countdown")
        first = cell(app, topic, "expires")
        await until(pilot, lambda: cell(app, topic, "expires") < first, timeout=5, what="the countdown to go down")
        clock.offset += 15
        await until(pilot, lambda: cell(app, topic, "status") == "expired", timeout=5, what="status expired")
        await until(pilot, lambda: any(m.endswith("expired") for m in seen), timeout=5, what="the expiry notification")
        assert companion.resolve(topic).status == "expired"


async def test_a_ping_to_a_phone_that_is_gone_says_so(companion, paired):
    """The phone went offline: p shows an error notification "did not answer the ping … (is the phone online?)",
    and the app stays on the session table."""
    wallet, session = paired
    await wallet.close()
    companion.ping = functools.partial(companion.ping, timeout=1.0)  # the default waits 30 s for a slow phone
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_table(pilot)
        await pilot.press("p")
        await until(
            pilot,
            lambda: any("did not answer the ping within 1 s (is the phone online?)" in m for m in seen),
            what="the error",
        )
        assert app.is_running and isinstance(app.screen, SessionsScreen)


async def test_extend_and_ping_on_an_ended_session_say_why(companion, paired):
    """After the phone ended the session, e and p each show "session 'py-wallet' is deleted" instead of trying;
    the app keeps running."""
    wallet, session = paired
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        topic = await on_table(pilot)
        await wallet.run(wallet.engine.disconnect(topic, wallet.now()))
        await until(pilot, lambda: cell(app, topic, "status") == "deleted", what="status deleted")
        for key in "ep":
            seen.clear()
            await pilot.press(key)
            await until(pilot, lambda: "session 'py-wallet' is deleted" in seen, what=f"the error after {key}")
        assert app.is_running and isinstance(app.screen, SessionsScreen)
        assert app.screen.query_one(DataTable).row_count == 1


async def test_pairing_on_first_start_with_the_log_open_lands_on_the_session_list(companion):
    """First start, the audit log opened over the QR: when a phone pairs, "Paired py-wallet" shows and the app
    switches to the session list with the new session highlighted; later phone events are announced there."""
    from walletsync.app.screens.pairing import PairingScreen

    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(
            pilot,
            lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None,
            what="a pairing offer",
        )
        uri = app.screen.offer.uri
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AuditScreen))
        wallet = await approve(companion.relay.url, uri)
        try:
            topic = await on_table(pilot)
            assert "Paired py-wallet (peer: py-wallet)" in seen and len(app.screen_stack) == 2
            assert topic == companion.sessions()[0].topic
            await wallet.run(wallet.engine.disconnect(topic, wallet.now()))
            await until(pilot, lambda: any("disconnected by the phone" in m for m in seen), what="the notification")
        finally:
            await wallet.close()
