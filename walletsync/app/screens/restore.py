"""Restoring from a backup on the first screen: the file, then its passphrase or its shares one by one.

Like the linking dialogs, :class:`RestoreScreen` never touches the companion: the pairing screen's worker reads
the file, opens it and restores (so an unexpected error reaches that screen's worker-error handler), awaiting
what the user gives here (:meth:`RestoreScreen.next_file`, :meth:`RestoreScreen.next_key`) and saying how it
went (:meth:`RestoreScreen.refused`, :meth:`RestoreScreen.opening`, :meth:`RestoreScreen.close`). Each share is
checked as it is entered — its checksum (a mistyped word is named by its number), its set, a repeat — before
anything is opened. What the backup says about itself (``made_by``) is data: escaped, never markup.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, LoadingIndicator, Static

from walletsync.app.screens.linking import quoted
from walletsync.errors import WalletsyncError
from walletsync.service import RestoredHere, ShareError, check_share
from walletsync.service.share_image import image_path
from walletsync.text import shown

"""A share line naming such a file (or any file that exists) is a photo or scan of the share's QR code."""
"""Larger than any backup (``walletsync backup`` refuses the same)."""
STAGES = ("file", "passphrase", "shares", "opening", "ended")
HOW = (
    "A backup made on your old computer (walletsync backup create, or k then m in the app) brings its sessions here: "
    "they work with the same phones, no new QR. This device keeps its own identity."
)


@dataclass(frozen=True)
class BackupKey:
    """What opens the backup, as the user gave it: a passphrase, or shares (and their SLIP-39 passphrase)."""

    passphrase: str | None = field(default=None, repr=False)
    shares: tuple[str, ...] | None = field(default=None, repr=False)
    share_passphrase: str = field(default="", repr=False)


def sessions_word(count: int) -> str:
    return f"{count} session{'s' if count != 1 else ''}"


def made_when(made_at: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(made_at))


class RestoreScreen(ModalScreen[RestoredHere | None]):
    """Asks for the backup file, then what opens it; dismisses with what was restored (None: cancelled).

    Stages (a ``-stage`` class on the screen): ``file``, ``passphrase`` or ``shares``, ``opening`` (the worker
    reads, opens and restores), ``ended`` (refused: why, and Close). ``-enough`` once the shares typed meet
    their threshold: the SLIP-39 passphrase field shows and enter opens.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="restore.cancel"),
        Binding("ctrl+t", "use_shares", "Shares instead", id="restore.shares"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.stage = "file"
        self.by_passphrase = self.by_shares = False
        self.share_set: int | None = None
        self._shares: list[str] = []
        self._needed: int | None = None
        self._files: asyncio.Queue[str | None] = asyncio.Queue()
        self._keys: asyncio.Queue[BackupKey | None] = asyncio.Queue()
        self.closed = False
        self.restoring_now = False
        self._to_close: tuple[RestoredHere | None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="restore-dialog"):
            yield Label("Restore from a backup", classes="dialog-heading")
            yield Static(HOW, id="restore-how", markup=False)
            with Vertical(id="restore-file-step"):
                yield Label("The backup file")
                yield Input(placeholder="walletsync-backup-….wsbackup", id="restore-file")
            with Vertical(id="restore-passphrase-step"):
                yield Label("Its passphrase")
                yield Input(password=True, id="restore-passphrase")
            with Vertical(id="restore-shares-step"):
                yield Static("", id="restore-shares-taken", markup=False)
                yield Static("", id="restore-share-label", markup=False)
                yield Input(placeholder="the share's words, in order, on one line", id="restore-share")
                with Vertical(id="restore-share-phrase-step"):
                    yield Label("The shares' SLIP-39 passphrase (leave empty if none)")
                    yield Input(password=True, id="restore-share-phrase")
            yield Static("", id="restore-progress", markup=False)
            yield LoadingIndicator(id="restore-loading")
            yield Static("", id="restore-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Next (⏎)", variant="primary", id="restore-next")
                yield Button("Shares instead (^t)", id="restore-use-shares")
                yield Button("Cancel (esc)", id="restore-cancel")

    def on_mount(self) -> None:
        self.set_stage("file")

    def set_stage(self, stage: str) -> None:
        self.stage = stage
        for known in STAGES:
            self.set_class(known == stage, f"-{known}")
        self.query_one("#restore-use-shares").display = stage == "passphrase" and self.by_shares
        self.query_one("#restore-next").display = stage in ("file", "passphrase", "shares")
        if stage != "opening":
            self.query_one("#restore-progress", Static).update("")
        if stage == "ended":
            self.query_one("#restore-cancel", Button).label = "Close (esc)"
        focus = {"file": "#restore-file", "passphrase": "#restore-passphrase", "shares": "#restore-share"}
        if stage in focus:
            self.query_one(focus[stage], Input).focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "use_shares":
            return self.stage == "passphrase" and self.by_shares
        if action == "cancel":
            return None if self.restoring_now else True
        return True

    # --- what the worker awaits and reports ---------------------------------------------------------

    async def next_file(self) -> str | None:
        """The path the user submits next; None once the dialog closed."""
        return await self._files.get()

    async def next_key(self) -> BackupKey | None:
        """What opens the backup, once given; None once the dialog closed."""
        return await self._keys.get()

    def ask_key(self, by_passphrase: bool, by_shares: bool, share_set: int | None) -> None:
        """The file is a backup: ask for what its header says opens it (the passphrase first when both do)."""
        self.by_passphrase, self.by_shares, self.share_set = by_passphrase, by_shares, share_set
        self.say("")
        self._start_shares() if not by_passphrase else self.set_stage("passphrase")

    def opening(self, text: str) -> None:
        """The worker is at work (text safe to show)."""
        self.say("")
        self.query_one("#restore-progress", Static).update(text)
        self.set_stage("opening")

    def restoring(self, text: str) -> None:
        """The store is being written: no cancelling now (the restore would go on without the dialog)."""
        self.opening(text)
        self.restoring_now = True
        self.query_one("#restore-cancel", Button).disabled = True

    def refused(self, reason: str, *, stage: str | None = None) -> None:
        """Why that did not work (text safe to show); back to ``stage`` (the same one) for another try."""
        self.query_one("#restore-progress", Static).update("")
        if stage == "shares":
            self._start_shares()
        elif stage is not None:
            self.set_stage(stage)
        self.say(reason)

    def ended(self, reason: str) -> None:
        """Nothing was restored, and trying again here would not help (text safe to show)."""
        self.restoring_now = False
        self.query_one("#restore-cancel", Button).disabled = False
        self.query_one("#restore-progress", Static).update("")
        self.say(reason)
        self.set_stage("ended")

    def close(self, restored: RestoredHere | None = None) -> None:
        """Dismiss with ``restored``, once and only from the top: under another screen (the keys help), once it is
        on top again."""
        if self.closed:
            return
        if not self.is_active:
            self._to_close = (restored,)
            return
        self.closed = True
        self.dismiss(restored)

    def on_screen_resume(self) -> None:
        if self._to_close is not None:
            restored, self._to_close = self._to_close[0], None
            self.close(restored)

    def say(self, text: str) -> None:
        self.query_one("#restore-error", Static).update(text)

    # --- the shares, one by one ---------------------------------------------------------------

    def _start_shares(self) -> None:
        self._shares, self._needed = [], None
        self.remove_class("-enough")
        self._show_shares()
        self.set_stage("shares")

    def _show_shares(self) -> None:
        taken = len(self._shares)
        of = f" of {self._needed}" if self._needed else ""
        self.query_one("#restore-shares-taken", Static).update(
            "\n".join(f"Share {n}: checksum ok" for n in range(1, taken + 1)) or "Type the shares one at a time."
        )
        done = self._needed is not None and taken >= self._needed
        label = (
            "All shares in: open the backup"
            if done
            else f"Share {taken + 1}{of}: its words on one line, or the path to a photo of its QR code"
        )
        if self._needed is None and taken:
            label += " — or ⏎ on an empty line when all are in"
        self.query_one("#restore-share-label", Static).update(label)

    def take_share(self, line: str) -> None:
        """Check one share as it is entered: said at once if mistyped, of another set, or entered already. A line
        naming an image is read (in a worker) and its share checked the same way."""
        if not line.strip():
            if self._shares and self._needed is None:  # groups: the user says when all are in
                self._enough()
            return
        path = image_path(line)
        if path is not None:
            self.read_image(path)
            return
        self._take(line)

    @work(exclusive=True, group="share-image", exit_on_error=False)
    async def read_image(self, path: Path) -> None:
        """The share in a photo of its QR code (decoding a large photo takes a moment: off the event loop)."""
        from walletsync.service.share_image import share_from_image

        self.say("")
        self.query_one("#restore-progress", Static).update(f"Reading the share in {shown(path, 120)}…")
        try:
            share = await asyncio.to_thread(share_from_image, path)
        except WalletsyncError as exc:
            self.say(f"{shown(exc, 300)}: type the share, or try another photo.")
            return
        except Exception as exc:  # a decoder's own failure: said here (this dialog has no worker-error handler)
            self.say(f"Cannot read {shown(path, 120)}: {shown(type(exc).__name__)}.")
            return
        finally:
            self.query_one("#restore-progress", Static).update("")
        self._take(share)

    def _take(self, line: str) -> None:
        try:
            info = check_share(line)
        except ShareError as exc:
            self.say(f"{shown(exc, 200).replace('share 1', 'This share')}: type it again.")
            return
        if self.share_set is not None and info.identifier != self.share_set:
            self.say("This share is valid but belongs to another backup's share set: type one of this backup's.")
            return
        typed = " ".join(line.lower().split())
        if typed in self._shares:
            self.say("You entered this share already: type another one.")
            return
        self._shares.append(typed)
        if info.group_count == 1:
            self._needed = info.member_threshold
        self.say("")
        self.query_one("#restore-share", Input).value = ""
        self._show_shares()
        if self._needed is not None and len(self._shares) >= self._needed:
            self._enough()

    def _enough(self) -> None:
        self.add_class("-enough")
        self._show_shares()
        self.query_one("#restore-share-phrase", Input).focus()

    # --- the user's keys ----------------------------------------------------------------------

    @on(Input.Submitted)
    @on(Button.Pressed, "#restore-next")
    def submit(self, event: Input.Submitted | Button.Pressed) -> None:
        if self.stage == "file":
            path = self.query_one("#restore-file", Input).value.strip()
            if not path:
                self.say("Type the path of the backup file.")
                return
            self.opening("Reading the file…")
            self._files.put_nowait(path)
        elif self.stage == "passphrase":
            phrase = self.query_one("#restore-passphrase", Input).value
            if not phrase:
                self.say("Type the backup's passphrase.")
                return
            self.query_one("#restore-passphrase", Input).value = ""
            self._keys.put_nowait(BackupKey(passphrase=phrase))
        elif self.stage == "shares":
            on_share = isinstance(event, Input.Submitted) and event.input.id == "restore-share"
            if on_share or not self.has_class("-enough"):
                self.take_share(self.query_one("#restore-share", Input).value)
                return
            phrase = self.query_one("#restore-share-phrase", Input).value
            self.query_one("#restore-share-phrase", Input).value = ""
            shares, self._shares = tuple(self._shares), []
            self._keys.put_nowait(BackupKey(shares=shares, share_passphrase=phrase))

    @on(Button.Pressed, "#restore-use-shares")
    def action_use_shares(self) -> None:
        if self.stage == "passphrase" and self.by_shares:
            self.say("")
            self._start_shares()

    @on(Button.Pressed, "#restore-cancel")
    def action_cancel(self) -> None:
        if not self.restoring_now:
            self.close(None)

    def on_unmount(self) -> None:
        """However it closed, the worker awaiting the user stops; the shares typed go with the screen."""
        self._shares.clear()
        self._files.put_nowait(None)
        self._keys.put_nowait(None)


class RestoredScreen(ModalScreen[bool]):
    """What came back, and — when the backup's device was in a device group — the offer to join it as a new device
    (``j``; dismisses with True). Escape or Close dismisses with False."""

    BINDINGS = [
        Binding("j", "join", "Join the group", id="restored.join"),
        Binding("escape", "close", "Close", id="restored.close"),
    ]

    def __init__(self, restored: RestoredHere) -> None:
        super().__init__()
        self.restored = restored

    def compose(self) -> ComposeResult:
        r = self.restored
        with Vertical(classes="dialog", id="restored-dialog"):
            yield Label("Restored", classes="dialog-heading")
            yield Static(
                f"{sessions_word(r.sessions)} came back from the backup made {made_when(r.made_at)} by "
                f"{quoted(r.made_by)}. They work with the same phones: no new QR.",
                id="restored-what",
                markup=False,
            )
            if r.group is not None:
                yield Static(
                    f"{quoted(r.made_by)} was in a device group. Join it as a new device: press j here, then on a "
                    "device of the group open Devices (v) and press l. Then revoke the old device there if it is lost.",
                    id="restored-group",
                    markup=False,
                )
            with Horizontal(classes="buttons"):
                if r.group is not None:
                    yield Button("Join the group (j)", variant="primary", id="restored-join")
                yield Button("Close (esc)", id="restored-close")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "join":
            return self.restored.group is not None
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "restored-join")

    def action_join(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
