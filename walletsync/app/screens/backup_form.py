"""The form that orders a backup: the file, and what opens it — a passphrase, SLIP-39 shares, or both.

It mirrors ``walletsync backup create``'s options (``-o``, ``--shares N --threshold T`` or ``--group T/N``… with
``--group-threshold G``, ``--with-passphrase``, ``--share-passphrase``) and never touches the companion: it
dismisses with a :class:`BackupOrder` that the Backup screen carries out in a worker. Passphrases are typed in
password fields (asked twice) and kept out of every ``repr``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from walletsync.service import ShareSpec
from walletsync.text import shown

FILE_PATTERN = "walletsync-backup-%Y%m%d-%H%M%S.wsbackup"
"""The CLI's default file name (``backup create`` without ``-o``), in the current directory."""
GROUP = re.compile(r"\s*(\d{1,2})\s*(?:/|of)\s*(\d{1,2})\s*")
"""One group as ``backup create --group`` takes it: ``2/3`` (or ``2of3``), 2 of its 3 shares needed."""
SHARES, THRESHOLD = 3, 2
"""What the share fields start at: three shares, any two restore."""


def default_file(now: float) -> Path:
    """Where a backup made ``now`` goes unless the user says otherwise (as ``backup create`` names it)."""
    return Path(time.strftime(FILE_PATTERN, time.localtime(now)))


@dataclass(frozen=True)
class BackupOrder:
    """What the form hands back: the file, and the passphrase and/or the share split (secrets: not in ``repr``)."""

    output: Path
    passphrase: str | None = field(repr=False)
    spec: ShareSpec | None = field(repr=False)


class BackupFormScreen(ModalScreen[BackupOrder | None]):
    """Asks for the file and the way to open the backup; dismisses with the order once it is complete and sound.

    The screen's classes say which fields show: ``-by-shares`` (the share fields instead of the passphrase),
    ``-with-passphrase`` (with shares: a passphrase too) and ``-share-passphrase`` (its two fields).
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="backup-form.cancel"),
        Binding("ctrl+s", "make", "Make the backup", id="backup-form.make"),
    ]

    def __init__(self, output: Path) -> None:
        super().__init__()
        self.output = output

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="backup-form"):
            yield Label("Make a backup", classes="dialog-heading")
            yield Label("File (a new one: never written over)")
            yield Input(str(self.output), id="backup-file")
            yield Label("Opened with")
            with RadioSet(id="backup-by"):
                yield RadioButton("A passphrase", value=True, id="backup-by-passphrase")
                yield RadioButton("SLIP-39 recovery shares (written on paper)", id="backup-by-shares")
            with Vertical(id="backup-shares"):
                with Horizontal(id="backup-split"):
                    yield Label("Shares")
                    yield Input(str(SHARES), type="integer", id="backup-count", max_length=2)
                    yield Label("any")
                    yield Input(str(THRESHOLD), type="integer", id="backup-threshold", max_length=2)
                    yield Label("of them restore it")
                with Horizontal(id="backup-grouping"):
                    yield Label("Or groups")
                    yield Input(placeholder="2/3, 3/5", id="backup-groups")
                    yield Label("any")
                    yield Input(placeholder="all", type="integer", id="backup-group-threshold", max_length=2)
                    yield Label("of the groups")
                yield Checkbox("A passphrase opens it as well", id="backup-with-passphrase")
                yield Checkbox("Protect the shares with a SLIP-39 passphrase too", id="backup-share-passphrase")
                with Vertical(id="backup-share-phrase"):
                    yield Label("SLIP-39 passphrase, twice (needed with the shares to restore)")
                    yield Input(password=True, placeholder="SLIP-39 passphrase", id="backup-share-phrase-1")
                    yield Input(password=True, placeholder="the same again", id="backup-share-phrase-2")
            with Vertical(id="backup-phrase"):
                yield Label("Backup passphrase, twice (it is not shown)")
                yield Input(password=True, placeholder="Backup passphrase", id="backup-phrase-1")
                yield Input(password=True, placeholder="the same again", id="backup-phrase-2")
            yield Static("", id="backup-form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Make the backup (^s)", variant="primary", id="backup-form-make")
                yield Button("Cancel (esc)", id="backup-form-cancel")

    def on_mount(self) -> None:
        self.query_one("#backup-phrase-1", Input).focus()

    @on(RadioSet.Changed)
    @on(Checkbox.Changed)
    def _show_fields(self) -> None:
        self.set_class(self.query_one("#backup-by-shares", RadioButton).value, "-by-shares")
        self.set_class(self.query_one("#backup-with-passphrase", Checkbox).value, "-with-passphrase")
        self.set_class(self.query_one("#backup-share-passphrase", Checkbox).value, "-share-passphrase")

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value

    def order(self) -> BackupOrder | str:
        """The order the form holds, or why it is not one yet (text safe to show; never a passphrase)."""
        file = self._value("#backup-file").strip()
        if not file:
            return "Name the file to write."
        output = Path(file).expanduser()
        if output.exists():
            return f"{shown(output, 200)} already exists: name a new file."
        spec = None
        if self.has_class("-by-shares"):
            phrase = ""
            if self.has_class("-share-passphrase"):
                phrase = self._value("#backup-share-phrase-1")
                if not phrase:
                    return "Type the SLIP-39 passphrase (or untick it)."
                if phrase != self._value("#backup-share-phrase-2"):
                    return "The two SLIP-39 passphrases differ."
            split = self._split(phrase)
            if isinstance(split, str):
                return split
            spec, asked = split
            try:
                spec.check()
            except ValueError as exc:
                return f"{asked}: {shown(exc, 200)}"
        passphrase = None
        if spec is None or self.has_class("-with-passphrase"):
            passphrase = self._value("#backup-phrase-1")
            if not passphrase:
                return "Type a passphrase: an empty one protects nothing."
            if passphrase != self._value("#backup-phrase-2"):
                return "The two passphrases differ."
        return BackupOrder(output, passphrase, spec)

    def _split(self, phrase: str) -> tuple[ShareSpec, str] | str:
        """The split the share fields ask for and how to name it in an error, or why they do not say one: groups
        (``2/3, 3/5``) when given, else N shares of which T restore."""
        groups_text = self._value("#backup-groups").strip()
        if groups_text:
            found = [GROUP.fullmatch(part) for part in groups_text.split(",")]
            if not all(found):
                return "Write each group T/N, separated by commas: 2/3, 3/5 (2 of its 3 shares needed, …)."
            groups = tuple((int(m[1]), int(m[2])) for m in found if m)
            needed = self._value("#backup-group-threshold").strip()
            spec = ShareSpec(groups, int(needed) if needed else len(groups), phrase)
            return spec, f"groups {', '.join(f'{t}/{n}' for t, n in groups)}, any {spec.group_threshold}"
        try:
            count, threshold = int(self._value("#backup-count")), int(self._value("#backup-threshold"))
        except ValueError:
            return "Say how many shares, and how many of them restore the backup."
        return ShareSpec.simple(threshold, count, phrase), f"{count} shares, any {threshold}"

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        """Enter in a field goes to the next field shown; in the last one, it makes the backup."""
        shown_fields = [field for field in self.query(Input) if field.region.area]
        if event.input in shown_fields and event.input is not shown_fields[-1]:
            shown_fields[shown_fields.index(event.input) + 1].focus()
        else:
            self.action_make()

    @on(Button.Pressed, "#backup-form-make")
    def action_make(self) -> None:
        order = self.order()
        if isinstance(order, str):
            self.query_one("#backup-form-error", Static).update(order)
            return
        self.dismiss(order)

    @on(Button.Pressed, "#backup-form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
