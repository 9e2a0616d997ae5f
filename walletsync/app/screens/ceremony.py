"""The share ceremony: each recovery share shown once, one at a time, then typed back to check what was written.

The shares live only in this screen (handed over by the worker that made the backup, which keeps none) and are
dropped when it closes: never in a notification, a log or the audit. A share typed back is checked as
``walletsync backup check-share`` checks it — its SLIP-39 checksum (a mistyped word is named by its number)
and that it is one of this backup's shares.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from walletsync.app.screens.modals import ConfirmScreen
from walletsync.app.widgets.qr import QrCode, forget_drawn
from walletsync.service import ShareError, check_share
from walletsync.text import shown

ROWS = 11
"""Words per column: a 33-word share is three columns of 11, a 20-word one two of 10 and 10."""
LEAVE_EARLY = (
    "Leave before every share was shown? The shares are shown only this once: those not written down yet are lost "
    "(make a new backup to get new ones)."
)


def word_columns(share: str) -> str:
    """A share's words numbered down columns of :data:`ROWS`, as a person copies them onto paper."""
    words = share.split()
    rows = min(ROWS, len(words))
    width = max(len(w) for w in words)
    lines = []
    for row in range(rows):
        cells = [f"{i + 1:>2}. {words[i]:<{width}}" for i in range(row, len(words), rows)]
        lines.append("    ".join(cells).rstrip())
    return "\n".join(lines)


class ShareQr(QrCode):
    """A share as a QR: its words in capitals (SLIP-39 words are read case-blind, and capitals and spaces are QR's
    denser alphanumeric mode: a 33-word share fits 27 rows instead of 31)."""

    def too_small_message(self) -> str:
        width, height = self.needed_terminal()
        return f"Make the terminal at least {width}×{height} to show the QR"


def _normal(share: str) -> str:
    return " ".join(share.lower().split())


def share_check(typed: str, shares: list[str], labels: list[str]) -> tuple[int | None, str]:
    """Which of ``shares`` ``typed`` is (its number, else None) and what to say about it (safe to show); ``labels``
    name the shares as the ceremony showed them."""
    try:
        info = check_share(typed)
    except ShareError as exc:
        return None, f"Not right: {shown(exc, 200).replace('share 1', 'this share')}. Look at the paper again."
    if info.identifier != check_share(shares[0]).identifier:
        return None, "That is a valid share, but of another backup's share set."
    if _normal(typed) not in [_normal(s) for s in shares]:
        return None, "That share belongs to this set but is none of those shown here."
    number = [_normal(s) for s in shares].index(_normal(typed)) + 1
    return number, f"{labels[number - 1].capitalize()} checks out: written down right."


class ShareCeremonyScreen(ModalScreen[None]):
    """Shows share 1, 2, … of N with its words (``r`` toggles its QR, ``p`` goes back one), each confirmed as
    written down, then asks for shares typed back. Escape before the last share asks first: the shares are not
    shown again.

    Stages, as a class on the screen: ``-showing`` then ``-checking``; ``-qr`` while the QR shows.
    """

    BINDINGS = [
        Binding("enter", "written", "I have written it down", id="ceremony.next", priority=True),
        Binding("p", "previous", "Previous share", id="ceremony.previous"),
        Binding("r", "toggle_qr", "QR code", id="ceremony.qr"),
        Binding("escape", "leave", "Leave", id="ceremony.leave"),
    ]

    def __init__(self, shares: list[str], labels: list[str], rule: str, file: str, *, grouped: bool = False) -> None:
        """``labels`` name each share ("share 2 of 3 in group 1 of 2"), ``rule`` says how many restore it ("any 2 of
        the 3 shares"): :meth:`BackupMade.labels` and :meth:`BackupMade.rule`, as ``backup create`` prints them."""
        super().__init__()
        self._shares = list(shares)
        self.labels, self.rule, self.file, self.grouped = labels, rule, file, grouped
        self.index = 0
        self.checked: set[int] = set()

    @property
    def count(self) -> int:
        return len(self._shares)

    def compose(self) -> ComposeResult:
        with Vertical(id="ceremony"):
            yield Static("Your backup's recovery shares", id="ceremony-title")
            yield Static(
                f"{shown(self.file, 80)} opens with {self.rule}. Each share is shown this once: write it on paper, "
                "word by word, and keep the shares in different places.",
                id="ceremony-intro",
                markup=False,
            )
            with Vertical(id="ceremony-share"):
                yield Label("", id="ceremony-which", markup=False)
                with Horizontal(id="ceremony-body"):
                    yield Static("", id="ceremony-words", markup=False)
                    yield ShareQr(id="ceremony-qr")
                with Horizontal(classes="buttons"):
                    yield Button("Previous (p)", id="ceremony-previous")
                    yield Button("I have written it down (⏎)", variant="primary", id="ceremony-written")
                    yield Button("QR code (r)", id="ceremony-qr-toggle")
            with Vertical(id="ceremony-check"):
                yield Label("Check what you wrote: type a share back from the paper", markup=False)
                yield Input(placeholder="its words, in order, on one line", id="ceremony-typed")
                yield Static("", id="ceremony-verdict", markup=False)
                yield Static("", id="ceremony-checked", markup=False)
                with Horizontal(classes="buttons"):
                    yield Button("Check (⏎)", variant="primary", id="ceremony-check-one")
                    yield Button("Done (esc)", id="ceremony-done")

    def on_mount(self) -> None:
        self.add_class("-showing")
        self._show()

    def _show(self) -> None:
        share = self._shares[self.index]
        self.query_one("#ceremony-which", Label).update(
            self.labels[self.index].capitalize() + ("" if self.grouped else f" — {self.rule} restore it")
        )
        self.query_one("#ceremony-words", Static).update(word_columns(share))
        self.query_one(ShareQr).uri = share.upper() if self.has_class("-qr") else ""
        self.query_one("#ceremony-previous").display = self.index > 0
        self.query_one("#ceremony-written", Button).focus()
        self.refresh_bindings()

    @property
    def showing(self) -> bool:
        return self.has_class("-showing")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_qr":
            return self.showing
        if action == "previous":
            return self.showing and self.index > 0
        return True

    @on(Button.Pressed, "#ceremony-written")
    def action_written(self) -> None:
        """Enter: the next share; after the last one, the check. While checking, enter checks what was typed."""
        if not self.showing:
            self.check_typed()
            return
        if self.index + 1 < self.count:
            self.index += 1
            self.remove_class("-qr")
            self._show()
            return
        self.query_one(ShareQr).uri = ""
        self.query_one("#ceremony-words", Static).update("")
        self.remove_class("-showing", "-qr")
        self.add_class("-checking")
        self.refresh_bindings()
        self.query_one("#ceremony-typed", Input).focus()

    @on(Button.Pressed, "#ceremony-previous")
    def action_previous(self) -> None:
        """Back one share (an enter pressed twice must not skip a share for good)."""
        if self.showing and self.index > 0:
            self.index -= 1
            self.remove_class("-qr")
            self._show()

    @on(Button.Pressed, "#ceremony-qr-toggle")
    def action_toggle_qr(self) -> None:
        self.toggle_class("-qr")
        self._show()

    @on(Button.Pressed, "#ceremony-check-one")
    def check_typed(self) -> None:
        typed = self.query_one("#ceremony-typed", Input)
        if not typed.value.strip():
            return
        number, verdict = share_check(typed.value, self._shares, self.labels)
        self.query_one("#ceremony-verdict", Static).update(verdict)
        self.query_one("#ceremony-verdict").set_class(number is None, "-wrong")
        if number is not None:
            self.checked.add(number)
            typed.value = ""
            done = ", ".join(self.labels[n - 1] for n in sorted(self.checked))
            self.query_one("#ceremony-checked", Static).update(f"Checked: {done}.")

    @on(Button.Pressed, "#ceremony-done")
    def action_leave(self) -> None:
        """Escape: while shares are still to be shown, asks first; once checking, closes."""
        if not self.showing:
            self.dismiss(None)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(LEAVE_EARLY, "Leave"), answered)

    def on_unmount(self) -> None:
        """The shares go with the screen, and so do the QR rows drawn from them."""
        self._shares.clear()
        forget_drawn()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.check_typed()
