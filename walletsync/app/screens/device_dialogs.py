"""The Devices screen's dialogs: a device's new name, and what revoking a device does to the sessions it knew.

Like the linking dialogs they never touch the companion: the Devices screen runs the service call in its
own worker (so an unexpected error reaches its worker-error handler) and tells the dialog how it went.
Device names are data: escaped and quoted by :func:`~walletsync.app.screens.linking.quoted`, never markup.
"""

from __future__ import annotations

import asyncio
from enum import Enum

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from walletsync.app.format import peer_name
from walletsync.app.screens.linking import MAX_NAME, quoted
from walletsync.service import DeviceRecord, SessionRecord
from walletsync.text import is_escaped, shown

LISTED = 8
"""Sessions named one per line in the revoke dialog; more are counted."""


def sessions_word(count: int) -> str:
    return f"{count} session{'s' if count != 1 else ''}"


class DeviceNameScreen(ModalScreen[DeviceRecord | None]):
    """Asks for a device's new name, pre-filled with the current one.

    The worker that opened it awaits :meth:`next_name` (None once cancelled), renames, then calls
    :meth:`close` with the device or :meth:`refused` (the reason shows here, the dialog stays open for
    another try).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="device-name.cancel")]

    def __init__(self, device: DeviceRecord) -> None:
        super().__init__()
        self.device = device
        self._names: asyncio.Queue[str | None] = asyncio.Queue()
        self.busy = False
        self.closed = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="device-name-dialog"):
            yield Label(f"Rename {quoted(self.device.name)}", classes="dialog-heading", markup=False)
            yield Static("Every device of the group shows the new name once it syncs.", markup=False)
            # A valid name holds nothing to escape; one that does is offered escaped, to be fixed.
            current = self.device.name
            editable = shown(current) if any(is_escaped(ch) for ch in current) else current
            yield Input(value=editable, id="device-name-input", max_length=MAX_NAME)
            yield Static("", id="device-name-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Rename", variant="primary", id="device-name-ok")
                yield Button("Cancel (esc)", id="device-name-cancel")

    async def next_name(self) -> str | None:
        """The name the user submits next (stripped); None once the dialog closed without one."""
        return await self._names.get()

    def close(self, device: DeviceRecord | None = None) -> None:
        """Dismiss with ``device`` (None: not renamed), once and only from the top (dismiss pops the top screen)."""
        if not self.closed and self.is_active:
            self.closed = True
            self.dismiss(device)

    def refused(self, reason: str) -> None:
        """Why the name was not taken (text already safe to show); the user may try another."""
        self.busy = False
        self.query_one("#device-name-error", Static).update(reason)
        self.query_one("#device-name-ok", Button).disabled = False
        self.query_one(Input).focus()

    def submit(self) -> None:
        if self.busy:
            return
        if not self.query_one(Input).value.strip():
            self.refused("Type the device's new name.")
            return
        self.busy = True
        self.query_one("#device-name-ok", Button).disabled = True
        self._names.put_nowait(self.query_one(Input).value.strip())

    def on_input_submitted(self) -> None:
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "device-name-ok":
            self.submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.close(None)

    def on_unmount(self) -> None:
        self._names.put_nowait(None)  # however it closed, the worker awaiting a name stops


class Revoke(Enum):
    """What the user chose to do with the sessions the revoked device knew."""

    END_SESSIONS = "end"
    KEEP_SESSIONS = "keep"


class RevokeDeviceScreen(ModalScreen[Revoke | None]):
    """Says what revoking ``device`` does and does not undo, then asks: end the sessions, keep them, or cancel.

    Cancel has the focus (enter by reflex revokes nothing); ``n`` and escape cancel too. The buttons name
    their keys: ``e`` ends the sessions, ``k`` keeps them; with no session open there is nothing to choose,
    and one Revoke button answers to ``y``.
    """

    BINDINGS = [
        Binding("e", "end", "Revoke and end the sessions", id="revoke-device.end"),
        Binding("k", "keep", "Revoke, keep the sessions", id="revoke-device.keep"),
        Binding("y", "revoke", "Revoke", id="revoke-device.yes"),
        Binding("n,escape", "cancel", "Cancel", id="revoke-device.cancel"),
    ]

    def __init__(self, device: DeviceRecord, sessions: list[SessionRecord]) -> None:
        super().__init__()
        self.device, self.sessions = device, sessions

    def compose(self) -> ComposeResult:
        name = quoted(self.device.name)
        count = len(self.sessions)
        with Vertical(classes="dialog", id="revoke-device-dialog"):
            yield Label(f"Revoke {name}?", classes="dialog-heading", markup=False)
            yield Static(f"{name} will read nothing the group publishes from now on.", id="revoke-what", markup=False)
            if self.sessions:
                these = "this session" if count == 1 else f"these {count} sessions"
                yield Static(f"It knew the keys of {these}:", id="revoke-known", markup=False)
                yield Static(self._listed(), id="revoke-sessions", markup=False)
                yield Static(
                    "Ending them tells each phone the session is over (pair the phone again afterwards). Keeping them "
                    f"leaves them open — to {name} too, and to whoever has it if it was lost or stolen.",
                    id="revoke-explain",
                    markup=False,
                )
            else:
                yield Static("No session is open, so it knows no session key still in use.", markup=False)
            with Horizontal(classes="buttons"):
                if self.sessions:
                    yield Button("Revoke and end the sessions (e)", variant="error", id="revoke-end")
                    yield Button("Revoke, keep the sessions (k)", variant="warning", id="revoke-keep")
                else:
                    yield Button("Revoke (y)", variant="error", id="revoke-keep")
                yield Button("Cancel (n)", id="revoke-cancel")

    def _listed(self) -> str:
        lines = [f"  • {quoted(s.name)} ({peer_name(s)})" for s in self.sessions[:LISTED]]
        if len(self.sessions) > LISTED:
            lines.append(f"  … and {len(self.sessions) - LISTED} more")
        return "\n".join(lines)

    def on_mount(self) -> None:
        self.query_one("#revoke-cancel", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``e`` and ``k`` when there are sessions to end or keep, ``y`` when there are none."""
        if action in ("end", "keep"):
            return bool(self.sessions)
        if action == "revoke":
            return not self.sessions
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        choices = {"revoke-end": Revoke.END_SESSIONS, "revoke-keep": Revoke.KEEP_SESSIONS}
        self.dismiss(choices.get(event.button.id or ""))

    def action_end(self) -> None:
        self.dismiss(Revoke.END_SESSIONS)

    def action_keep(self) -> None:
        self.dismiss(Revoke.KEEP_SESSIONS)

    def action_revoke(self) -> None:
        """No session open: nothing to end, so the same as keeping them."""
        self.dismiss(Revoke.KEEP_SESSIONS)

    def action_cancel(self) -> None:
        self.dismiss(None)
