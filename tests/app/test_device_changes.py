"""Changing the device group from the Devices screen: rename (``r``), revoke (``d``), sync now (``s``).

The first tests run real companions (their own data dirs) on one real relay: ``companion`` driven through
the app with Pilot, ``other`` linked to it through the service and checked through the service after it
syncs. The rest use the fake companion for the dialogs' details.
"""

from __future__ import annotations

import asyncio

from textual.widgets import Button, DataTable, Input

from tests.app.conftest import approve, record_notifications, until
from tests.app.fakes import FakeCompanion, device, session, this_device
from tests.app.screen import widget_text
from walletsync.app import build_app
from walletsync.app.screens.device_dialogs import DeviceNameScreen, RevokeDeviceScreen
from walletsync.app.screens.devices import NO_GROUP, DevicesScreen, revoked_message
from walletsync.app.screens.linking import NAME_CELLS
from walletsync.app.screens.pairing import PairingScreen
from walletsync.app.screens.sessions import SessionsScreen
from walletsync.protocol import events as ev
from walletsync.service import Companion, DeviceRecord, LinkOffer
from walletsync.text import shown

HOSTILE = "evil\x1b]0;owned\x07 [red]x[/red]\u202e"
"""A name with a terminal escape, markup and a bidi override: the app must show it as data."""


async def yes() -> bool:
    return True


async def link(member: Companion, joiner: Companion, name: str) -> DeviceRecord:
    """``joiner`` joins ``member``'s group under ``name`` (both say the codes match); the member's record of it."""
    offers: asyncio.Queue[LinkOffer] = asyncio.Queue()
    linking = asyncio.create_task(
        member.link_device(on_offer=offers.put_nowait, show_code=lambda *_: None, confirm=yes)
    )
    offer = await asyncio.wait_for(offers.get(), 20)
    await joiner.join_group(offer.uri, show_code=lambda *_: None, confirm=yes, name=name)
    return await asyncio.wait_for(linking, 20)


async def pair_phone(companion: Companion, name: str):
    """A reference phone (Python wallet) pairs with ``companion`` under the local ``name``: (wallet, session)."""
    offer = await companion.pair(name=name)
    wallet = await approve(companion.relay.url, offer.uri, name=f"{name}-wallet")
    return wallet, await companion.wait_for_session(offer.proposal_id, timeout=20)


async def on_devices(pilot, highlight: str | None = None) -> None:
    """v from the first screen; the cursor on the device ``highlight`` (an id) when given."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, PairingScreen | SessionsScreen), what="the first screen")
    await pilot.press("v")
    await until(pilot, lambda: isinstance(app.screen, DevicesScreen) and app.screen.records, what="the devices")
    if highlight is not None:
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(highlight))
        await pilot.pause()
        assert app.screen.current_device() == highlight


def names(app) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_cell(key, "name")) for key in app.screen.records]


def this_status(companion: Companion) -> str:
    return next(d for d in companion.devices() if d.this_device).status


# --- real companions -------------------------------------------------------------------------------


async def test_rename_from_the_app_reaches_the_other_device(companion, other):
    """r on the other device's row opens a dialog pre-filled with its name; a refused name is said in the dialog
    (which stays open); a good one closes it, the table shows it, and s shares it: the other device shows its new
    name once it syncs, and a second s says every device is in sync."""
    laptop = await link(companion, other, "laptop")
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_devices(pilot, highlight=laptop.id)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, DeviceNameScreen), what="the rename dialog")
        field = app.screen.query_one(Input)
        assert field.value == "laptop"

        field.value = "work\x07laptop"
        await pilot.press("enter")
        await until(pilot, lambda: "cannot contain U+0007" in widget_text(app, "#device-name-error"), what="refusal")
        assert isinstance(app.screen, DeviceNameScreen)

        app.screen.query_one(Input).value = "work laptop"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen), what="the dialog closed")
        await until(pilot, lambda: "work laptop" in names(app), what="the new name in the table")
        assert app.screen.current_device() == laptop.id
        assert "Renamed to 'work laptop': the other devices see it once they sync" in seen

        await pilot.press("s")
        await until(pilot, lambda: any(m in seen for m in ("All devices in sync", "1 change not yet confirmed")))
        await other.sync_now()
        assert next(d for d in other.devices() if d.this_device).name == "work laptop"

        laptop_status = lambda: next(d.status for d in companion.devices() if d.id == laptop.id)  # noqa: E731
        await until(pilot, lambda: laptop_status() == "in sync", what="the other device's hello")
        seen.clear()
        await pilot.press("s")
        await until(pilot, lambda: seen, what="the sync's outcome")
        assert seen == ["All devices in sync"]


async def test_revoke_and_end_the_sessions(companion, other, paired):
    """d on the other device's row says what a revoke does and names the session it knew; "Revoke and end the
    sessions" revokes it and ends the session (the phone is told); the revoked device says so of itself once it
    syncs."""
    wallet, phone = paired
    laptop = await link(companion, other, "laptop")
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_devices(pilot, highlight=laptop.id)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, RevokeDeviceScreen), what="the revoke dialog")
        await pilot.pause()
        assert "'laptop' will read nothing the group publishes from now on." in widget_text(app, "#revoke-what")
        assert widget_text(app, "#revoke-known").strip() == "It knew the keys of this session:"
        assert widget_text(app, "#revoke-sessions").strip() == f"• '{phone.name}' (py-wallet)"
        assert app.focused is app.screen.query_one("#revoke-cancel", Button)

        await pilot.click("#revoke-end")
        await until(pilot, lambda: any(m.startswith("Revoked") for m in seen), timeout=30, what="the revoke")
        assert "Revoked 'laptop'; ended 1 session" in seen
        assert [s.status for s in companion.sessions()] == ["revoked"]
        deleted = await asyncio.wait_for(wallet.next_event(ev.SessionDeleted), 20)
        assert deleted.topic == phone.topic
        await until(pilot, lambda: len(app.screen.records) == 1, what="the table without the laptop")

    await other.sync_now()
    assert this_status(other).startswith("this device (revoked")


async def test_revoke_and_keep_the_sessions(companion, other, paired):
    """ "Revoke, keep the sessions" revokes the device and leaves both sessions open; the notification names them."""
    _, phone = paired
    ledger_wallet, ledger = await pair_phone(companion, "ledger")
    laptop = await link(companion, other, "laptop")
    app = build_app(companion)
    seen = record_notifications(app)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await on_devices(pilot, highlight=laptop.id)
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, RevokeDeviceScreen), what="the revoke dialog")
            await pilot.pause()
            assert "It knew the keys of these 2 sessions:" in widget_text(app, "#revoke-known")
            await pilot.click("#revoke-keep")
            await until(pilot, lambda: any(m.startswith("Revoked") for m in seen), timeout=30, what="the revoke")
            assert f"Revoked 'laptop'; kept 2 sessions open: 'ledger', '{phone.name}'" in seen
            assert {s.name: s.status for s in companion.sessions()} == {phone.name: "active", "ledger": "active"}
            assert [d.name for d in companion.devices()] == [companion.devices()[0].name]
    finally:
        await ledger_wallet.close()

    await other.sync_now()
    assert this_status(other).startswith("this device (revoked")


async def test_this_device_cannot_be_revoked_here(companion):
    """d on this device's row opens no dialog: a notification says why (revoke it from another device)."""
    me = companion.devices()[0]
    app = build_app(companion)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_devices(pilot, highlight=me.id)
        await pilot.press("d")
        await until(pilot, lambda: seen, what="the refusal")
        assert isinstance(app.screen, DevicesScreen)
    assert seen == [
        f"'{me.name}' is this device, and a device cannot revoke itself: revoke it from another device of the group "
        "(a lost device is revoked from one you still have)."
    ]
    assert [d.id for d in companion.devices()] == [me.id]


# --- the fake companion: the dialogs' details -----------------------------------------------------


def group_of_three(sessions=()) -> FakeCompanion:
    return FakeCompanion(list(sessions), [this_device(), device(2, "laptop"), device(3, HOSTILE)])


async def test_names_are_data_in_the_dialogs_and_notifications():
    """A device name full of escapes, markup and a bidi override shows escaped in the rename and revoke dialogs
    and in the notifications: nothing of it is run or styled."""
    fake = group_of_three([session(1, "phone")])
    hostile = device(3, HOSTILE)
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_devices(pilot, highlight=hostile.id)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, DeviceNameScreen))
        await pilot.pause()
        assert f"Rename '{shown(HOSTILE, NAME_CELLS)}'" in widget_text(app, ".dialog-heading")
        assert app.screen.query_one(Input).value == shown(HOSTILE)  # offered escaped, to be fixed
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen))

        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, RevokeDeviceScreen))
        await pilot.pause()
        dialog = widget_text(app, "#revoke-device-dialog")
        assert f"'{shown(HOSTILE, NAME_CELLS)}' will read nothing" in widget_text(app, "#revoke-what")
        assert "\x1b" not in dialog and "\u202e" not in dialog
        await pilot.click("#revoke-keep")
        await until(pilot, lambda: seen, what="the outcome")
    assert seen == [f"Revoked '{shown(HOSTILE, NAME_CELLS)}'; kept 1 session open: 'phone'"]
    assert fake.revoked == [(hostile.id, False)]


async def test_rename_refusals_stay_in_the_dialog():
    """An empty name, or one the service refuses, is said in the dialog, which stays open; escape leaves the
    name as it was; an unchanged name renames nothing."""
    fake = group_of_three()
    laptop = device(2, "laptop")
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_devices(pilot, highlight=laptop.id)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, DeviceNameScreen))
        app.screen.query_one(Input).value = "   "
        await pilot.press("enter")
        await pilot.pause()
        assert widget_text(app, "#device-name-error").strip() == "Type the device's new name."
        app.screen.query_one(Input).value = "x" * 65
        await pilot.press("enter")
        await until(pilot, lambda: "1–64 characters wide" in widget_text(app, "#device-name-error"))
        assert isinstance(app.screen, DeviceNameScreen) and not app.screen.query_one("#device-name-ok").disabled
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen))

        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, DeviceNameScreen))
        await pilot.press("enter")  # "laptop", as it was
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen))
    assert [d.name for d in fake.group] == ["desk", "laptop", HOSTILE] and seen == []


async def test_cancel_is_the_default():
    """The revoke dialog opens on Cancel: enter revokes nothing, nor does escape; with no session open there is one
    Revoke button, and the notification says only what was revoked."""
    fake = group_of_three()
    laptop = device(2, "laptop")
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_devices(pilot, highlight=laptop.id)
        for key in ("enter", "escape"):
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, RevokeDeviceScreen))
            await pilot.pause()
            assert "No session is open" in widget_text(app, "#revoke-device-dialog")
            assert [b.id for b in app.screen.query(Button)] == ["revoke-keep", "revoke-cancel"]
            await pilot.press(key)
            await until(pilot, lambda: isinstance(app.screen, DevicesScreen))
        assert fake.revoked == []

        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, RevokeDeviceScreen))
        await pilot.click("#revoke-keep")
        await until(pilot, lambda: seen, what="the outcome")
        await until(pilot, lambda: len(app.screen.records) == 2, what="the table without the laptop")
    assert seen == ["Revoked 'laptop'"] and fake.revoked == [(laptop.id, False)]


async def test_sync_now_says_what_is_not_confirmed():
    """s says "All devices in sync", or how many of this device's changes a member has not confirmed; alone,
    it says to link a device first."""
    fake = group_of_three()
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_devices(pilot)
        await pilot.press("s")
        await until(pilot, lambda: seen)
        fake.pending = 3
        await pilot.press("s")
        await until(pilot, lambda: len(seen) == 2)
        fake.group = [this_device()]
        await pilot.press("s", "r")
        await until(pilot, lambda: len(seen) == 4)
    assert seen == ["All devices in sync", "3 changes not yet confirmed", NO_GROUP, NO_GROUP]


def test_revoked_message():
    """The outcome of a revoke in one line: what was ended, or what was kept open and by which names."""
    laptop = device(2, "[b]lap[/b]top\x1b")
    phone, ledger = session(1, "phone"), session(2, "ledger")
    assert revoked_message(laptop, [], []) == "Revoked '[b]lap[/b]top\\x1b'"
    assert revoked_message(laptop, [phone, ledger], []) == "Revoked '[b]lap[/b]top\\x1b'; ended 2 sessions"
    assert revoked_message(laptop, [], [phone]) == "Revoked '[b]lap[/b]top\\x1b'; kept 1 session open: 'phone'"


async def test_an_unexpected_rename_failure_closes_the_dialog_and_reaches_the_handler():
    """Anything but a refusal closes the dialog and is notified by the screen's worker-error handler."""
    fake = group_of_three()

    def broken(ref: str, name: str) -> DeviceRecord:
        raise RuntimeError("the disk is full")

    fake.rename_device = broken  # type: ignore[method-assign]
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_devices(pilot, highlight=device(2, "laptop").id)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, DeviceNameScreen))
        app.screen.query_one(Input).value = "work laptop"
        await pilot.press("enter")
        await until(pilot, lambda: seen, what="the error notification")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen), what="the dialog closed")
    assert seen == ["RuntimeError: the disk is full"]


async def test_one_sync_and_one_revoke_at_a_time():
    """s or d again while the last one is still under way says so instead of starting another."""
    fake = group_of_three()
    gate = asyncio.Event()
    sync_now, revoke_device = fake.sync_now, fake.revoke_device

    async def slow_sync(timeout: float = 15.0):
        await gate.wait()
        return await sync_now(timeout)

    async def slow_revoke(ref: str, *, end_sessions: bool = False):
        await gate.wait()
        return await revoke_device(ref, end_sessions=end_sessions)

    fake.sync_now, fake.revoke_device = slow_sync, slow_revoke  # type: ignore[method-assign]
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_devices(pilot, highlight=device(2, "laptop").id)
        await pilot.press("s", "s")
        await until(pilot, lambda: seen == ["Already syncing"])
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, RevokeDeviceScreen))
        await pilot.click("#revoke-keep")
        await until(pilot, lambda: isinstance(app.screen, DevicesScreen))
        await pilot.press("d")
        await until(pilot, lambda: len(seen) == 2)
        assert seen[1] == "A revoke is under way" and isinstance(app.screen, DevicesScreen)
        gate.set()
        await until(pilot, lambda: len(seen) == 4, what="both done")
    assert set(seen[2:]) == {"All devices in sync", "Revoked 'laptop'"} and fake.revoked == [
        (device(2, "laptop").id, False)
    ]
