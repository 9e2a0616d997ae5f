"""The app's keys as a person meets them: ``?``/``f1`` list them, ``ctrl+c`` quits, dialogs name theirs, and ``s``
refuses a session that has ended.

The fake companion is enough here: these are the app's own rules (what the keys do), not the service's.
"""

from __future__ import annotations

import pytest
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input

from tests.app.conftest import record_notifications, until
from tests.app.fakes import NOW, FakeCompanion, device, session, this_device
from tests.app.scenes import sessions_shown
from tests.app.scenes.sessions import three_sessions
from tests.app.screen import widget_text
from walletsync.app import WalletsyncApp, build_app
from walletsync.app.screens.detail import SessionDetailScreen
from walletsync.app.screens.device_dialogs import Revoke, RevokeDeviceScreen
from walletsync.app.screens.devices import DevicesScreen
from walletsync.app.screens.keys import KeysScreen, screen_title
from walletsync.app.screens.modals import ConfirmScreen
from walletsync.app.screens.pairing import PairingScreen
from walletsync.app.screens.request import RequestScreen
from walletsync.app.screens.sessions import SessionsScreen


def keys_shown(app: WalletsyncApp) -> str:
    """The help's text inside its border, one row per line, spaces collapsed ("⏎ Details", "? / f1 Keys")."""
    lines = (" ".join(line.strip("█▀▄").split()) for line in widget_text(app, "#keys-dialog").splitlines())
    return "\n".join(line for line in lines if line)


def described(screen: type[Screen]) -> list[str]:
    """What the screen's own BINDINGS say they do (the help must list each one)."""
    return [b.description for b in screen.BINDINGS if isinstance(b, Binding) and b.description]


async def on_row(pilot, name: str) -> None:
    """The session table's cursor on the session called ``name``."""
    screen = pilot.app.screen
    topic = next(t for t, r in screen.records.items() if r.name == name)
    screen.query_one(DataTable).move_cursor(row=screen.query_one(DataTable).get_row_index(topic))
    await pilot.pause()


async def test_question_mark_lists_every_key_of_the_session_list():
    """? on the session list opens "Keys — Sessions" with every key of that screen (⏎ Details, r Rename, d Revoke,
    …) and, under "Everywhere", ? / f1, q / ^q Quit and ^c; ? again closes it, and the footer shows "? Keys" up front."""
    app = build_app(three_sessions())
    async with app.run_test(size=(120, 40)) as pilot:
        await sessions_shown(pilot)
        assert " ".join(widget_text(app, "Footer").split()[:4]) == "⏎ Details ? Keys"  # the table's enter comes first
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen), what="the keys")
        await pilot.pause()
        shown = keys_shown(app)
        assert "Keys — Sessions" in shown
        for what in described(SessionsScreen):
            assert what in shown, what
        for row in ("⏎ Details", "s New request", "? / f1 Keys", "q / ^q Quit", "^c Quit"):
            assert row in shown.splitlines() or any(line.startswith(row) for line in shown.splitlines()), row
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen), what="the list again")


async def test_f1_lists_the_pairing_keys_and_escape_closes():
    """f1 on the first screen (the pairing) lists its keys — Copy URI, Copy phone line, Scopes, Join other device,
    Devices, Back — and escape closes the list, leaving the pairing as it was."""
    app = build_app(FakeCompanion([]))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen), what="the keys")
        await pilot.pause()
        shown = keys_shown(app)
        assert "Keys — Pairing" in shown
        for what in described(PairingScreen):
            assert what in shown, what
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PairingScreen), what="the pairing again")


async def test_a_dialog_lists_its_own_keys():
    """Over the revoke question, ? lists y Yes and n / esc No (the app's n and a do not reach a dialog, so they
    are not listed), and the buttons name those keys: "Revoke (y)", "Cancel (n)"."""
    app = build_app(three_sessions())
    async with app.run_test(size=(120, 40)) as pilot:
        await sessions_shown(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert [str(b.label) for b in app.screen.query(Button)] == ["Revoke (y)", "Cancel (n)"]
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen))
        await pilot.pause()
        lines = keys_shown(app).splitlines()
        assert "y Yes" in lines and "n / esc No" in lines
        assert "n New pairing" not in lines and "a Audit log" not in lines
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question again")


async def test_a_question_mark_typed_in_a_field_is_a_question_mark():
    """In the request's message field ? types a ? (one may sign "ok?"); f1 still opens the keys, of that screen."""
    app = build_app(three_sessions())
    async with app.run_test(size=(120, 40)) as pilot:
        await sessions_shown(pilot)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, RequestScreen))
        await pilot.press("o", "k", "question_mark")
        await pilot.pause()
        assert app.screen.query_one("#message-input", Input).value == "ok?"
        assert not isinstance(app.screen, KeysScreen)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen))
        await pilot.pause()
        assert "Keys — New request" in keys_shown(app) and "^s Send" in keys_shown(app).splitlines()


def test_screen_titles():
    """The help names the screen by its TITLE, else by its class name in words."""
    assert screen_title(SessionDetailScreen(FakeCompanion([]), "01" * 32)) == "Session detail"
    assert screen_title(ConfirmScreen("?")) == "Confirm"
    assert screen_title(KeysScreen.__new__(KeysScreen)) == "Keys"


# --- ctrl+c ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["sessions", "dialog", "field"])
async def test_ctrl_c_quits(where):
    """ctrl+c quits from the session list, from over a dialog and from an (empty) text field: no "press ctrl+q"."""
    app = build_app(three_sessions())
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await sessions_shown(pilot)
        if where == "dialog":
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        elif where == "field":
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, RequestScreen))
        await pilot.press("ctrl+c")
        await until(pilot, lambda: app.return_code is not None, what="the app to quit")
    assert app.return_code == 0 and not any("quit" in m for m in seen)


async def test_ctrl_c_copies_selected_text_instead(monkeypatch):
    """With text selected in a field, ctrl+c copies it (and says how) instead of quitting."""
    monkeypatch.delenv("TMUX", raising=False)
    app = build_app(three_sessions())
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await sessions_shown(pilot)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, RequestScreen))
        await pilot.press(*"hello")
        app.screen.query_one("#message-input", Input).select_all()
        await pilot.press("ctrl+c")
        await until(pilot, lambda: seen, what="a notification")
        assert app.return_code is None and app.clipboard == "hello"
        assert seen == [
            "Selected text sent to the terminal's clipboard (OSC 52). If pasting gives something else, "
            "this terminal does not take OSC 52: select the text instead."
        ]


# --- dialogs answer to the keys their buttons name -----------------------------------------------------------


@pytest.mark.parametrize(("key", "revoked"), [("y", True), ("n", False), ("escape", False)])
async def test_revoke_question_keys(key, revoked):
    """d asks; y revokes the highlighted session (its row turns "revoked"), n and escape leave it alone."""
    fake = three_sessions()
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await sessions_shown(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press(key)
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        if revoked:
            topic = fake.sessions()[0].topic
            await until(pilot, lambda: str(app.screen.query_one(DataTable).get_cell(topic, "status")) == "revoked")
    assert fake.revoked_sessions == ([session(1, "phone").topic] if revoked else [])


def devices_with_sessions(sessions) -> FakeCompanion:
    return FakeCompanion(sessions, [this_device(), device(2, "laptop")])


@pytest.mark.parametrize(
    ("sessions", "key", "choice"),
    [
        ([session(1, "phone")], "e", Revoke.END_SESSIONS),
        ([session(1, "phone")], "k", Revoke.KEEP_SESSIONS),
        ([session(1, "phone")], "y", None),  # two ways to revoke: y would not say which
        ([session(1, "phone")], "n", None),
        ([], "y", Revoke.KEEP_SESSIONS),
        ([], "e", None),
        ([], "n", None),
    ],
)
async def test_device_revoke_keys(sessions, key, choice):
    """The device revoke dialog's buttons name their keys — e (end the sessions), k (keep them), or y when no session
    is open — and n cancels; a key for a button that is not there does nothing."""
    fake = devices_with_sessions(sessions)
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen | PairingScreen))
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen) and app.screen.records)
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(device(2, "laptop").id))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, RevokeDeviceScreen))
        labels = [str(b.label) for b in app.screen.query(Button)]
        assert all(label.endswith(("(e)", "(k)", "(y)", "(n)")) for label in labels), labels
        await pilot.press(key)
        await pilot.pause()
        if choice is None and key != "n":
            assert isinstance(app.screen, RevokeDeviceScreen)  # nothing happened
            return
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen))
        if choice is not None:
            await until(pilot, lambda: fake.revoked, what="the revoke")
    expected = [] if choice is None else [(device(2, "laptop").id, choice is Revoke.END_SESSIONS)]
    assert fake.revoked == expected


# --- s on a session that has ended --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ended", "said"),
    [
        (session(3, "old", status="revoked"), "'old' is revoked"),
        (session(3, "old", status="deleted"), "'old' is ended by the phone"),
        (session(3, "old", expiry=NOW - 60), "'old' is expired"),  # still "active" in the store, its expiry passed
    ],
)
async def test_s_refuses_an_ended_session(ended, said):
    """s on a revoked, deleted or expired session says so ("… its phone takes no more requests. Press n to pair the
    phone again.") instead of opening the composer — from the list and from the session's details."""
    app = build_app(FakeCompanion([session(1, "phone"), ended]))
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await sessions_shown(pilot)
        await on_row(pilot, "old")
        await pilot.press("s")
        await until(pilot, lambda: seen, what="the refusal")
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SessionDetailScreen) and app.screen.record is not None)
        await pilot.press("s")
        await until(pilot, lambda: len(seen) == 2, what="the refusal on the details")
        assert isinstance(app.screen, SessionDetailScreen)
    assert seen[0] == seen[1] and seen[0].startswith(said) and seen[0].endswith("Press n to pair the phone again.")


async def test_t_on_the_detail_is_listed_and_turns_into_stop_serving():
    """? on a session's detail lists "t Serve to tools"; once serving, the footer and the list say "t Stop serving"
    instead (one key, one meaning at a time), and t stops it."""
    from tests.app.scenes.tools import build

    app = build()
    async with app.run_test(size=(120, 60)) as pilot:
        await sessions_shown(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SessionDetailScreen) and app.screen.record is not None)
        await pilot.pause()
        assert "t Serve to tools" in " ".join(widget_text(app, "Footer").split())
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen), what="the keys")
        await pilot.pause()
        assert "t Serve to tools" in keys_shown(app) and "Stop serving" not in keys_shown(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionDetailScreen), what="the detail")
        await pilot.press("t")
        await until(pilot, lambda: app.tools and app.screen.has_class("-serving"), what="serving")
        await pilot.pause()
        assert "t Stop serving" in " ".join(widget_text(app, "Footer").split())
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen), what="the keys")
        await pilot.pause()
        assert "t Stop serving" in keys_shown(app) and "Serve to tools" not in keys_shown(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionDetailScreen), what="the detail")
        await pilot.press("t")
        await until(pilot, lambda: not app.tools and not app.screen.has_class("-serving"), what="stopped")
