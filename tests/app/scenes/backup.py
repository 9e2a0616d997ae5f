"""Scenes of backups: the Backup screen, its form, the share ceremony, and restoring on the first screen."""

from __future__ import annotations

import tempfile
from pathlib import Path

from textual.pilot import Pilot

from tests.app.fakes import NOW, SHARES, FakeCompanion, session
from tests.app.scenes import Scene, sessions_shown, until_shown
from tests.app.scenes.sessions import three_sessions
from walletsync.app import build_app
from walletsync.service import BackupAge, RestoredHere, ShareSpec

FILE = "walletsync-backup-20270115-080000.wsbackup"
"""The form's default file name at the fake's NOW (in UTC: the scene writes it, the local time zone may differ)."""
MISTYPED = SHARES[0].replace("walnut", "walnuts")
"""Share 1 of the fake's set with its 16th word mistyped (a word the SLIP-39 list does not have)."""


def stale() -> FakeCompanion:
    """Three sessions; the newest backup ten days old, with changes after it."""
    fake = three_sessions()
    fake.age = BackupAge(NOW - 10 * 86400, True)
    return fake


def no_blink(pilot: Pilot) -> None:
    for widget in pilot.app.screen.query("Input"):
        widget.cursor_blink = False  # type: ignore[attr-defined]


async def backup_shown(pilot: Pilot) -> None:
    from walletsync.app.screens.backup import BackupScreen

    await sessions_shown(pilot)
    await pilot.press("k")
    await until_shown(pilot, BackupScreen, lambda screen: "backup" in str(screen.query_one("#backup-age").render()))


async def form_shown(pilot: Pilot) -> None:
    """The form, shares chosen (3, any 2) with a passphrase as well, both passphrases typed (and masked)."""
    from walletsync.app.screens.backup_form import BackupFormScreen

    await backup_shown(pilot)
    await pilot.press("m")
    await until_shown(pilot, BackupFormScreen)
    screen = pilot.app.screen
    screen.query_one("#backup-file").value = FILE  # type: ignore[attr-defined]
    await pilot.click("#backup-by-shares")
    await pilot.click("#backup-with-passphrase")
    for field in ("#backup-phrase-1", "#backup-phrase-2"):
        screen.query_one(field).value = "correct horse battery staple"  # type: ignore[attr-defined]
    screen.query_one("#backup-phrase-2").focus()
    no_blink(pilot)
    await pilot.pause()


async def ceremony_shown(pilot: Pilot) -> None:
    """Share 1 of the ceremony: the backup's file is a fresh temporary name (the fake writes nothing there)."""
    from walletsync.app.screens.ceremony import ShareCeremonyScreen

    await form_shown(pilot)
    pilot.app.screen.query_one("#backup-file").value = FILE  # type: ignore[attr-defined]
    await pilot.press("ctrl+s")
    await until_shown(pilot, ShareCeremonyScreen)


async def ceremony_qr(pilot: Pilot) -> None:
    await ceremony_shown(pilot)
    await pilot.press("enter", "r")
    await pilot.pause()


async def check_mistyped(pilot: Pilot) -> None:
    from walletsync.app.screens.ceremony import ShareCeremonyScreen

    await ceremony_shown(pilot)
    await pilot.press("enter", "enter")
    await until_shown(pilot, ShareCeremonyScreen, lambda screen: screen.has_class("-checking"))
    pilot.app.screen.query_one("#ceremony-typed").value = SHARES[1]  # type: ignore[attr-defined]
    await pilot.press("enter")
    pilot.app.screen.query_one("#ceremony-typed").value = MISTYPED  # type: ignore[attr-defined]
    await pilot.press("enter")
    no_blink(pilot)
    await pilot.pause()


def restoring() -> FakeCompanion:
    """A fresh device (no session) whose restore brings two sessions back from a device that was in a group."""
    fake = FakeCompanion([])
    fake.restored_sessions = (session(1, "phone"), session(2, "ledger"))
    fake.restore_group = "ab" * 16
    return fake


async def restore_shares(pilot: Pilot) -> None:
    """r on the first screen, a backup that opens with shares: one share taken, the next one mistyped."""
    from tests.app.backups import backup_file
    from walletsync.app.screens.pairing import PairingScreen
    from walletsync.app.screens.restore import RestoreScreen

    await until_shown(pilot, PairingScreen, lambda screen: screen.offer is not None)
    path = Path(tempfile.mkdtemp(prefix="walletsync-scene-")) / FILE
    shares = backup_file(path, spec=ShareSpec.simple(2, 3))
    await pilot.press("r")
    await until_shown(pilot, RestoreScreen)
    pilot.app.screen.query_one("#restore-file").value = str(path)  # type: ignore[attr-defined]
    await pilot.press("enter")
    await until_shown(pilot, RestoreScreen, lambda screen: screen.stage == "shares")
    pilot.app.screen.query_one("#restore-share").value = shares[0]  # type: ignore[attr-defined]
    await pilot.press("enter")
    pilot.app.screen.query_one("#restore-share").value = MISTYPED  # type: ignore[attr-defined]
    await pilot.press("enter")
    no_blink(pilot)
    await pilot.pause()


async def restored_shown(pilot: Pilot) -> None:
    """What the session list says after a restore, pushed as the restore leaves it (the flow is a Pilot test)."""
    from walletsync.app.screens.restore import RestoredScreen

    await sessions_shown(pilot)
    restored = RestoredHere(2, NOW - 86400, "old [b]laptop[/b]", "cd" * 16, "ab" * 16)
    await pilot.app.push_screen(RestoredScreen(restored))
    await until_shown(pilot, RestoredScreen)


SCENES = [
    Scene(
        "backup",
        'k on the session table: the Backup screen — "The newest backup was made 2027-01-05 08:00 UTC (10d ago). '
        'Changes came after it: they are not in it — make a new one." in yellow, what a backup holds and where to '
        "keep "
        "it, how to restore it (r on the first screen), and the footer's m Make a backup and esc Back.",
        lambda: build_app(stale()),
        size=(120, 24),
        steps=backup_shown,
    ),
    Scene(
        "backup-form",
        'm on the Backup screen: the "Make a backup" form — the file (walletsync-backup-20270115-080000.wsbackup), '
        '"Opened with" SLIP-39 recovery shares chosen, "Shares 3, any 2 of them restore it", "Or groups" (empty: '
        '2/3, 3/5 greyed) "any" (all) "of the groups", "A passphrase opens it '
        'as well" ticked and its two fields masked (dots, never the passphrase), "Make the backup (^s)" and Cancel.',
        lambda: build_app(stale()),
        size=(120, 40),
        steps=form_shown,
    ),
    Scene(
        "share-ceremony",
        '^s on the form: the full-screen ceremony "Your backup\'s recovery shares" — which file opens with any 2 of '
        'the 2 shares, "Share 1 of 2 — any 2 of the 2 shares restore it" and its 33 words (SLIP-39 test vector '
        'words) numbered down three columns of 11, "I have written it down (⏎)" and "QR code (r)".',
        lambda: build_app(stale()),
        size=(120, 34),
        steps=ceremony_shown,
    ),
    Scene(
        "share-ceremony-qr",
        "⏎ then r: share 2 of 2, its words on the left and the same words as a black-on-white QR beside them.",
        lambda: build_app(stale()),
        size=(120, 42),
        steps=ceremony_qr,
    ),
    Scene(
        "share-check",
        'After the last share: "Check what you wrote" — share 2 was typed back ("Checked: share 2 of 2."), then '
        "share 1 "
        'with a mistyped 16th word: "Not right: this share: word 16 is not in the SLIP-39 word list (mistyped?). '
        'Look at the paper again." in red; the mistyped share stays in the field to be fixed.',
        lambda: build_app(stale()),
        size=(120, 24),
        steps=check_mistyped,
    ),
    Scene(
        "restore-shares",
        'r on the first screen, a backup that opens with shares: "Restore from a backup", "Share 1: checksum ok", '
        '"Share 2 of 2: its words on one line, or the path to a photo of its QR code" holding a share with a mistyped '
        "16th word, and under it in red: "
        '"This share: word 16 is not in the SLIP-39 word list (mistyped?): type it again."',
        lambda: build_app(restoring()),
        size=(120, 40),
        steps=restore_shares,
    ),
    Scene(
        "restored",
        'After a restore, over the session list: "Restored" — "2 sessions came back from the backup made 2027-01-14 '
        "08:00 UTC by 'old [b]laptop[/b]'\" (the markup shown as is, not bold), that it was in a device group and how "
        'to join it as a new device, and the buttons "Join the group (j)" and "Close (esc)".',
        lambda: build_app(three_sessions()),
        size=(120, 30),
        steps=restored_shown,
    ),
]
