"""Your devices in the app: the Devices screen, linking a device (QR, code, confirm) and joining from the first screen.

The linking tests run two real companions (two data dirs) on one real relay: one driven through the
app with Pilot, the other through :meth:`Companion.join_group` / :meth:`Companion.link_device`.
"""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable, Digits, Input

from tests.app.conftest import record_notifications, until
from tests.app.fakes import LINK_URI, NOW, FakeCompanion, device, this_device
from tests.app.screen import decode_qr, widget_text
from walletsync.app import build_app
from walletsync.app.screens.devices import DevicesScreen
from walletsync.app.screens.linking import NAME_CELLS, JoinScreen, LinkScreen, PasteLinkScreen, link_problem
from walletsync.app.screens.pairing import PairingScreen
from walletsync.errors import WalletsyncError
from walletsync.service import LinkOffer, StoreChanged
from walletsync.sync.link import LinkInUse, LinkRefused
from walletsync.sync.link_uri import LinkExpired, LinkUri
from walletsync.text import shown

HOSTILE = "evil\x1b]0;owned\x07 [red]x[/red]\u202e"
"""A name with a terminal escape, markup and a bidi override: the app must show it as data."""


def names(app) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_cell(key, "name")) for key in app.screen.records]


def status(app) -> str:
    return widget_text(app, "#link-status").strip()


def code_on_screen(app) -> str:
    return app.screen.query_one("#code", Digits).value


async def yes() -> bool:
    return True


async def no() -> bool:
    return False


async def devices_screen(pilot) -> None:
    """From the first screen (the pairing), v shows the group."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, PairingScreen), what="the first screen")
    await pilot.press("v")
    await until(pilot, lambda: isinstance(app.screen, DevicesScreen) and app.screen.records, what="the devices")


async def link_offered(pilot) -> str:
    """l on the Devices screen; the link's URI once its QR is on screen (read back off the screen)."""
    app = pilot.app
    await pilot.press("l")
    await until(pilot, lambda: isinstance(app.screen, LinkScreen) and app.screen.offer is not None, what="a link")
    await pilot.pause()
    uri = app.screen.offer.uri
    assert decode_qr(app) == [uri]
    assert uri in "".join(widget_text(app, "#link-uri").split())
    return uri


async def test_link_a_device_from_the_devices_screen(companion, other):
    """v on the first screen lists this device alone; l shows a link QR that scans to its URI; the other device
    joins with it; both show the same 6-digit code; y links it: "Linked 'laptop'", and the table lists both."""
    me = companion.devices()[0]
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 50)) as pilot:
        await devices_screen(pilot)
        assert names(app) == [me.name] and app.screen.query_one("#devices-alone").display
        uri = await link_offered(pilot)
        assert "Expires in" in widget_text(app, "#link-expiry")

        codes: list[tuple[str, str]] = []
        joining = asyncio.create_task(
            other.join_group(uri, show_code=lambda code, name: codes.append((code, name)), confirm=yes, name="laptop")
        )
        # each side shows its code when it has derived it: the joiner may do so just after the member
        await until(pilot, lambda: app.screen.stage == "comparing" and bool(codes), what="the code on both")
        assert codes == [(code_on_screen(app), me.name)]
        assert len(code_on_screen(app).replace(" ", "")) == 6
        assert "'laptop' must show this same code" in widget_text(app, "#code-intro")
        assert "Do the codes match on both devices?" in widget_text(app, "#code-question")
        assert decode_qr(app) == []  # the used link is off the screen
        await pilot.press("y")
        await until(pilot, joining.done, what="the other device joined")
        assert {d.name for d in joining.result()} == {me.name, "laptop"}
        await until(pilot, lambda: app.screen.stage == "linked", what="linked")
        assert status(app) == "Linked 'laptop'."

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen) and len(app.screen.records) == 2)
        assert names(app) == [me.name, "laptop"]
        laptop = next(d for d in app.screen.records.values() if not d.this_device)
        assert app.screen.current_device() == laptop.id
        assert not app.screen.query_one("#devices-alone").display
    assert not any("secret=" in message for message in seen)


async def test_join_your_other_device_from_the_first_screen(companion, other):
    """j on the first screen takes the other device's link (masked) and this device's name; both show the same code;
    y joins; the dialog lists the group and closing it shows the Devices screen. The name, full of markup, is
    shown as typed, never as markup."""
    offers: list[LinkOffer] = []
    codes: list[tuple[str, str]] = []
    other_name = other.devices()[0].name
    linking = asyncio.create_task(
        other.link_device(on_offer=offers.append, show_code=lambda code, name: codes.append((code, name)), confirm=yes)
    )
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 50)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen) and offers, what="the other device's link")
        await pilot.press("j")
        await until(pilot, lambda: isinstance(app.screen, PasteLinkScreen))
        uri_input = app.screen.query_one("#paste-uri", Input)
        assert uri_input.password  # a secret: masked on screen
        uri_input.value = offers[0].uri
        app.screen.query_one("#paste-name", Input).value = "[b]lap[/b]top"
        await pilot.press("enter")

        await until(
            pilot,
            lambda: isinstance(app.screen, JoinScreen) and app.screen.stage == "comparing" and bool(codes),
            what="the code on both",
        )
        assert codes == [(code_on_screen(app), "[b]lap[/b]top")]
        assert f"'{other_name}' must show this same code" in widget_text(app, "#code-intro")
        await pilot.press("y")
        await until(pilot, lambda: app.screen.stage == "linked", what="joined")
        assert status(app).startswith("Joined the group:") and "'[b]lap[/b]top' (this device)" in status(app)
        await until(pilot, linking.done)
        assert linking.result().name == "[b]lap[/b]top"

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen) and len(app.screen.records) == 2)
        assert names(app) == ["[b]lap[/b]top", other_name]
    assert not any("secret=" in message for message in seen)


async def test_saying_no_here_refuses_the_link(companion, other):
    """n on the code: the dialog says the device was not linked, the other device hears the refusal, the group
    stays this device alone."""
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await devices_screen(pilot)
        uri = await link_offered(pilot)
        joining = asyncio.create_task(other.join_group(uri, show_code=lambda *_: None, confirm=yes, name="laptop"))
        await until(pilot, lambda: app.screen.stage == "comparing", what="the code")
        await pilot.press("n")
        await until(pilot, lambda: app.screen.stage == "ended", what="the refusal")
        assert status(app).startswith("Not linked: the codes did not match")
        await until(pilot, joining.done)
        with pytest.raises(LinkRefused, match="the other device refused"):
            joining.result()
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen))
        assert len(app.screen.records) == 1 and len(companion.devices()) == 1


async def test_the_other_device_saying_no_is_shown(companion, other):
    """The joining device's user says the codes differ: once this side answers too, the dialog says the other
    device refused, and nothing was linked."""
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 50)) as pilot:
        await devices_screen(pilot)
        uri = await link_offered(pilot)
        joining = asyncio.create_task(other.join_group(uri, show_code=lambda *_: None, confirm=no, name="laptop"))
        await until(pilot, lambda: app.screen.stage == "comparing", what="the code")
        await until(pilot, joining.done)
        with pytest.raises(LinkRefused):
            joining.result()
        await pilot.press("y")
        await until(pilot, lambda: app.screen.stage == "ended", what="the refusal")
        assert status(app) == "Not linked: the joining device refused the link (its user said the codes differ)"
        assert len(companion.devices()) == 1
    assert not any("Failed" in message for message in seen)  # an ending, not an error


async def test_escape_cancels_a_link_nobody_used(companion):
    """Escape on the link dialog closes it and stops the link (no worker left listening on its topic)."""
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await devices_screen(pilot)
        await link_offered(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen))
        await until(
            pilot, lambda: not any(w.group == "device-link" and w.is_running for w in app.workers), what="no link"
        )


# --- with the fake companion: names as data, endings, the link's relay --------------------------


async def test_device_names_are_data_in_the_table_and_the_dialog():
    """A device name holding an escape sequence, markup and a bidi override shows escaped (and clipped to 32
    cells), character for character, in the table and in the code dialog; nothing of it is run or styled."""
    fake = FakeCompanion([], [this_device(), device(2, HOSTILE)])
    fake.link_code = ("123 456", HOSTILE)
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await devices_screen(pilot)
        table = app.screen.query_one(DataTable)
        cell = table.get_cell(device(2, HOSTILE).id, "name")
        assert cell.plain == shown(HOSTILE, NAME_CELLS) and not cell.spans
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LinkScreen) and app.screen.stage == "comparing")
        await pilot.pause()
        assert f"'{shown(HOSTILE, NAME_CELLS)}' must show this same code" in widget_text(app, "#code-intro")
        assert "\x1b" not in widget_text(app, "#code-intro")


async def test_an_expired_link_says_so_in_the_dialog():
    """A link nobody used in time ends in the dialog ("Not linked: … expired …"), not as an error notification."""
    fake = FakeCompanion([])
    fake.link_error = LinkExpired("the link expired before the other device answered: show a new one")
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await devices_screen(pilot)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LinkScreen) and app.screen.stage == "ended")
        assert "Not linked: the link expired" in status(app)
        assert "Close" in str(app.screen.query_one("#link-close").label)
    assert seen == []


async def test_an_unexpected_failure_reaches_the_error_handler():
    """Anything else that stops a link is said in the dialog and notified by the screen's worker-error handler."""
    fake = FakeCompanion([])
    fake.link_error = WalletsyncError("the relay refused the subscription")
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await devices_screen(pilot)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LinkScreen) and app.screen.stage == "ended")
        assert status(app) == "Not linked: the relay refused the subscription"
        await until(pilot, lambda: "the relay refused the subscription" in seen, what="the error notification")


async def test_a_link_another_device_used_first_warns():
    """Joining with a link another device used first says so, and that someone else may have seen it."""
    fake = FakeCompanion([])
    fake.link_code = ("123 456", "desk")
    fake.link_error = LinkInUse("another device used this link first: ask for a new one")
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen))
        await pilot.press("j")
        await until(pilot, lambda: isinstance(app.screen, PasteLinkScreen))
        app.screen.query_one("#paste-uri", Input).value = LINK_URI
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JoinScreen) and app.screen.stage == "comparing")
        await pilot.press("y")
        await until(pilot, lambda: app.screen.stage == "ended")
        assert status(app).startswith("Not joined: another device used this link first")
        assert "someone else saw the link" in status(app)
        assert fake.joined_with == (LINK_URI, "desk")


async def test_a_link_for_another_relay_is_refused_before_trying():
    """A link naming another relay is not tried: the dialog says which relay it is for and how to start walletsync
    there; a malformed one says what is wrong. Neither message, nor any notification, repeats the link."""
    other_relay = LinkUri(bytes(range(32)), "ws://192.0.2.7:9000", NOW + 300).format()
    fake = FakeCompanion([])
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen))
        await pilot.press("j")
        await until(pilot, lambda: isinstance(app.screen, PasteLinkScreen))
        app.screen.query_one("#paste-uri", Input).value = other_relay
        await pilot.press("enter")
        await pilot.pause()
        error = " ".join(widget_text(app, "#paste-error").split())
        assert "This link is for relay ws://192.0.2.7:9000" in error
        assert "Start walletsync with --relay ws://192.0.2.7:9000" in error
        assert isinstance(app.screen, PasteLinkScreen) and fake.joined_with is None

        app.screen.query_one("#paste-uri", Input).value = "wc:not-a-link"
        await pilot.press("enter")
        await pilot.pause()
        assert "not a walletsync link" in widget_text(app, "#paste-error")
        assert "secret=" not in widget_text(app, "#paste-error")
    assert not any("secret=" in message for message in seen)


def test_link_problem():
    """The paste dialog's check, alone: a usable link, none, an expired one, the wrong relay, no relay at all."""
    relay = "ws://127.0.0.1:8765"
    assert link_problem(LINK_URI, relay, NOW) is None
    assert link_problem(LINK_URI, relay + "/", NOW) is None
    assert link_problem("", relay, NOW) == "Paste the link the other device shows."
    assert "expired" in (link_problem(LINK_URI, relay, NOW + 301) or "")
    assert "This link is for relay ws://127.0.0.1:8765; this device is offline" in (
        link_problem(LINK_URI, None, NOW) or ""
    )
    project = LinkUri(bytes(32), "wss://relay.walletconnect.org", NOW + 300, "ab" * 16).format()
    assert f"--relay wss://relay.walletconnect.org --project-id {'ab' * 16}" in (
        link_problem(project, relay, NOW) or ""
    )


async def test_the_table_follows_the_store_and_the_clock():
    """A StoreChanged re-reads the group (a device linked elsewhere appears); "last seen" moves on with the clock."""
    fake = FakeCompanion([], [this_device(), device(2, "laptop", seen=NOW - 30)])
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await devices_screen(pilot)
        table = app.screen.query_one(DataTable)
        laptop = device(2, "laptop").id
        assert str(table.get_cell(laptop, "seen")) == "30s ago"
        fake.clock = lambda: NOW + 3600  # type: ignore[method-assign]
        await until(pilot, lambda: str(table.get_cell(laptop, "seen")) == "1h ago", what="the clock to move on")
        fake.group.append(device(3, "tablet", seen=None, status="not heard from"))
        app.session_events.publish(StoreChanged())
        await until(pilot, lambda: len(app.screen.records) == 3, what="the new device")
        assert str(table.get_cell(device(3, "tablet").id, "seen")) == "never"
