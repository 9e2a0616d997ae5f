"""Scenes of your devices: the group's table, linking a new device (QR, then the code), joining from the first screen,
revoking a device."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.app.fakes import NOW, FakeCompanion, device, this_device
from tests.app.scenes import Scene, sessions_shown, until_shown
from tests.app.scenes.sessions import three_sessions
from walletsync.app import build_app


def three_devices(link_code: tuple[str, str] | None = None) -> FakeCompanion:
    fake = three_sessions()
    fake.group = [
        this_device(),
        device(2, "laptop", seen=NOW - 75),
        device(3, "old [b]mac[/b]", linked=NOW - 40 * 86400, seen=None, status="not heard from"),
    ]
    fake.link_code = link_code
    return fake


async def devices_shown(pilot: Pilot) -> None:
    from walletsync.app.screens.devices import DevicesScreen

    await sessions_shown(pilot)
    await pilot.press("v")
    await until_shown(pilot, DevicesScreen, lambda screen: screen.records)


async def link_shown(pilot: Pilot) -> None:
    from walletsync.app.screens.linking import LinkScreen

    await devices_shown(pilot)
    await pilot.press("l")
    await until_shown(pilot, LinkScreen, lambda screen: screen.stage != "connecting")


async def linked(pilot: Pilot) -> None:
    from walletsync.app.screens.linking import LinkScreen

    await link_shown(pilot)
    await pilot.press("y")
    await until_shown(pilot, LinkScreen, lambda screen: screen.stage == "linked")


async def revoke_asked(pilot: Pilot) -> None:
    from walletsync.app.screens.device_dialogs import RevokeDeviceScreen

    await devices_shown(pilot)
    await pilot.press("down", "d")
    await until_shown(pilot, RevokeDeviceScreen)


async def paste_shown(pilot: Pilot) -> None:
    from walletsync.app.screens.linking import PasteLinkScreen

    await pilot.press("j")
    await until_shown(pilot, PasteLinkScreen)
    for widget in pilot.app.screen.query("Input"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()


SCENES = [
    Scene(
        "devices",
        'v on the session table: "Your devices" with three rows — desk marked ● (this device, linked 9d ago, seen '
        'now), laptop (in sync, seen 1m ago) and "old [b]mac[/b]" written as is, not bold (not heard from, never '
        "seen) — with the footer's ? Keys, l Link a device, r Rename, d Revoke, s Sync now, esc Back and q Quit.",
        lambda: build_app(three_devices()),
        size=(120, 24),
        steps=devices_shown,
    ),
    Scene(
        "link-offer",
        'l on the devices screen: a full-screen dialog "Link a new device" with a black-on-white QR on the left; '
        'beside it the walletsync:link URI, "Expires in 5:00" and how to join from the other device; a Cancel button.',
        lambda: build_app(three_devices()),
        size=(120, 40),
        steps=link_shown,
    ),
    Scene(
        "link-code",
        "The other device used the link: the QR is gone; \"'laptop' must show this same code:\" above 482 913 "
        'in large digits, "Do the codes match on both devices?" and the buttons "Yes, they match (y)" and a focused '
        '"No (n)".',
        lambda: build_app(three_devices(("482 913", "laptop"))),
        size=(120, 40),
        steps=link_shown,
    ),
    Scene(
        "link-done",
        "y on the code: the digits stay, the question goes, and \"Linked 'laptop'.\" in green with a Close button.",
        lambda: build_app(three_devices(("482 913", "laptop"))),
        size=(120, 40),
        steps=linked,
    ),
    Scene(
        "join-paste",
        'j on the first screen: a dialog "Join your other device" saying how to show a link on the device already '
        'in the group, an empty masked input for the link, this device\'s name (desk) and Join / "Cancel (esc)" buttons.',
        lambda: build_app(FakeCompanion([])),
        size=(120, 40),
        steps=paste_shown,
    ),
    Scene(
        "device-revoke",
        "d on laptop: a dialog \"Revoke 'laptop'?\" saying it will read nothing the group publishes from now on and "
        "that it knew the keys of these 2 sessions, listed ('phone', 'ledger' with their phones' names), what ending "
        'or keeping them means, and three buttons naming their keys: "Revoke and end the sessions (e)" (red), '
        '"Revoke, keep the sessions (k)" (yellow) and a focused "Cancel (n)".',
        lambda: build_app(three_devices()),
        size=(120, 30),
        steps=revoke_asked,
    ),
]
