"""Small typed modals: they return through ``dismiss`` and never touch the companion."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from walletsync.names import MAX_CELLS
from walletsync.text import is_escaped, shown


class RenameScreen(ModalScreen[str | None]):
    """Asks for a new local name; dismisses with it, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rename.cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Rename '{shown(self.current)}' to:", markup=False)
            # A valid name holds nothing to escape; an old one that does is offered escaped, to be fixed.
            editable = shown(self.current) if any(is_escaped(ch) for ch in self.current) else self.current
            yield Input(value=editable, id="rename-input", max_length=MAX_CELLS)
            with Horizontal(classes="buttons"):
                yield Button("Rename", variant="primary", id="rename-ok")
                yield Button("Cancel (esc)", id="rename-cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one(Input).value if event.button.id == "rename-ok" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; ``y``/``n`` (escape: no) or the buttons, which name those keys, answer it."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question, self.yes = question, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="confirm-yes")
                yield Button("Cancel (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class SendAnywayScreen(ModalScreen[bool]):
    """Asked before sending a request that has warnings: lists them; ``y`` sends anyway, ``n``/escape keeps the
    draft. Dismisses with True only for "send"."""

    BINDINGS = [
        Binding("y", "answer(True)", "Send anyway", id="send-anyway.yes"),
        Binding("n,escape", "answer(False)", "Cancel", id="send-anyway.no"),
    ]

    def __init__(self, summary: str, warnings: str) -> None:
        """``summary`` and ``warnings`` are already escaped (see :mod:`walletsync.app.decoded`)."""
        super().__init__()
        self.summary, self.warnings = summary, warnings

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="send-anyway-dialog"):
            yield Label("Look twice before the phone is asked", classes="dialog-heading")
            yield Label(self.summary, id="send-anyway-summary", markup=False)
            yield Label(self.warnings, id="send-anyway-warnings", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Send anyway (y)", variant="error", id="send-anyway-yes")
                yield Button("Cancel (n)", id="send-anyway-no")

    def on_mount(self) -> None:
        self.query_one("#send-anyway-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "send-anyway-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
