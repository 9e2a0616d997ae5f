"""The Backup screen: how old the newest backup is, and making one (then the share ceremony, with shares).

The backup is made in a worker (the passphrase's Argon2id and the database copy take a second or two); its
shares go straight to the ceremony screen, which alone keeps them.
"""

from __future__ import annotations

import asyncio
import time

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, LoadingIndicator, Static

from walletsync.app.format import ago
from walletsync.app.screens.backup_form import BackupFormScreen, BackupOrder, default_file
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.screens.ceremony import ShareCeremonyScreen
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.service import BackupAge
from walletsync.text import shown

WHAT = (
    "A backup is one file that brings this device back on another computer: the sessions (usable with the same "
    "phones, no new QR), their names and policies, the watch list, the device group and the audit log. It is "
    "encrypted: keep it anywhere, even in a cloud drive — but keep what opens it (the passphrase, or the shares "
    "on paper) apart from it."
)
RESTORE = (
    "To restore it: start walletsync on the new computer and press r on its first screen "
    "(or: walletsync backup restore FILE)."
)


def made_when(made_at: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(made_at))


def age_text(age: BackupAge, now: float) -> str:
    """What the Backup screen says about the newest backup (safe to show)."""
    if age.made_at is None:
        return "No backup made yet." + (" This device has changes worth keeping." if age.changed_since else "")
    when = f"The newest backup was made {made_when(age.made_at)} ({ago(now - age.made_at)})"
    if age.changed_since:
        return f"{when}. Changes came after it: they are not in it — make a new one."
    return f"{when}. Nothing worth keeping changed since."


def age_warning(age: BackupAge, now: float, has_sessions: bool) -> str | None:
    """The quiet line under the session table: no backup while there are sessions, or one older than a change."""
    if age.made_at is None:
        return "No backup yet — press k to make one." if has_sessions else None
    if age.changed_since:
        return (
            f"The newest backup ({ago(now - age.made_at)}) is older than your latest changes — press k for a new one."
        )
    return None


class BackupScreen(CompanionScreen):
    """Says how old the newest backup is; ``m`` opens the form, and the backup is made in a worker."""

    TITLE = "Backup"
    BINDINGS = [
        Binding("m", "make", "Make a backup", id="backup.make"),
        Binding("escape", "app.pop_screen", "Back", id="backup.back"),
    ]

    def __init__(self, companion) -> None:
        super().__init__(companion)
        self.making = False

    def compose(self) -> ComposeResult:
        yield Static("Backup", id="backup-title")
        yield Static("", id="backup-age", markup=False)
        yield Static(WHAT, id="backup-what", markup=False)
        yield Static(RESTORE, id="backup-restore", markup=False)
        yield Static("", id="backup-progress", markup=False)
        yield LoadingIndicator(id="backup-loading")
        yield Static("", id="backup-done", markup=False)
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.read_age()

    @work(exclusive=True, group="backup-age", exit_on_error=False)
    async def read_age(self) -> None:
        age = await asyncio.to_thread(self.companion.backup_age)
        self.query_one("#backup-age", Static).update(age_text(age, self.companion.clock()))
        self.query_one("#backup-age").set_class(age.made_at is None or age.changed_since, "-stale")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "make":
            return None if self.making else True
        return True

    def action_make(self) -> None:
        self.app.push_screen(BackupFormScreen(default_file(self.companion.clock())), self._ordered)

    def _ordered(self, order: BackupOrder | None) -> None:
        if order is not None:
            self.make(order)

    def _set_making(self, making: bool, text: str = "") -> None:
        self.making = making
        self.set_class(making, "-making")
        self.query_one("#backup-progress", Static).update(text)
        self.refresh_bindings()

    @work(exclusive=True, group="backup-make", exit_on_error=False)
    async def make(self, order: BackupOrder) -> None:
        """Make the backup in a thread; with shares, hand them to the ceremony (this worker keeps none)."""
        stretching = " (stretching the passphrase takes a second)" if order.passphrase is not None else ""
        self._set_making(True, f"Making the backup{stretching}…")
        try:
            made = await asyncio.to_thread(
                self.companion.create_backup, order.output, passphrase=order.passphrase, spec=order.spec
            )
        finally:
            self._set_making(False)
        self.query_one("#backup-done", Static).update(f"Wrote {shown(made.file, 200)}.")
        self.notify(f"Backup written to {shown(made.file, 200)}", title="Backup", markup=False)
        self.read_age()
        if made.shares:
            ceremony = ShareCeremonyScreen(
                [s for group in made.shares for s in group],
                made.labels(),
                made.rule(),
                str(order.output),
                grouped=len(made.shares) > 1,
            )
            del made
            await self.app.push_screen(ceremony)
