"""Linking devices: the dialogs that show a link, take a pasted one, compare the code and say how it ended.

They never touch the companion. The screen under a dialog runs the service call in its own worker,
so an unexpected error reaches that screen's worker-error handler, and hands the dialog what the
call reports (:meth:`LinkScreen.offered`, :meth:`LinkDialog.show_code`, :meth:`LinkDialog.confirm`)
through :meth:`LinkDialog.follow`, which also shows how the link ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Digits, Input, Label, Static

from walletsync.app.format import expires_in
from walletsync.app.widgets.qr import QrCode
from walletsync.errors import WalletsyncError
from walletsync.service import DeviceRecord, LinkOffer, relay_of_link
from walletsync.text import shown

if TYPE_CHECKING:
    from walletsync.app.app import WalletsyncApp

R = TypeVar("R")

NAME_CELLS = 32
"""A device's name where a sentence quotes it."""
MAX_NAME = 64
ENDINGS = frozenset({"link_refused", "link_expired", "link_in_use"})
"""Error codes that are ways a link ends (said in the dialog), not failures (those also reach the error handler)."""
STAGES = ("connecting", "offered", "comparing", "waiting", "linked", "ended")
HOW_TO_JOIN = (
    "On the other device press j on its first screen and paste this link, "
    "or run: walletsync devices join. The link works once, for one device."
)
HOW_TO_LINK = (
    "On the device already in your group, open Devices (v) and press l, or run: walletsync devices link. "
    "Then paste the link it shows here (it is not shown: it is a secret)."
)


def quoted(name: str) -> str:
    """A device's name in a sentence: escaped, clipped and between quotes (it is what that device claims)."""
    return f"'{shown(name, NAME_CELLS)}'"


def link_problem(text: str, relay: str | None, now: float) -> str | None:
    """Why this device cannot use the pasted link ``text`` (malformed, expired, another relay), or None.

    The messages never quote the link: it holds the secret.
    """
    if not text:
        return "Paste the link the other device shows."
    try:
        link_relay, project = relay_of_link(text, now)
    except WalletsyncError as exc:
        return f"This link cannot be used: {shown(exc, 200)}"
    if relay is None or link_relay.rstrip("/") != relay.rstrip("/"):
        flags = f"--relay {link_relay}" + (f" --project-id {project}" if project else "")
        using = f"this device uses {relay}" if relay else "this device is offline"
        return shown(
            f"This link is for relay {link_relay}; {using}. Start walletsync with {flags} "
            "(or run walletsync devices join, which goes to the link's relay)."
        )
    return None


@dataclass(frozen=True)
class LinkToJoin:
    """What the paste dialog hands back: the link (a secret: kept out of ``repr``) and this device's name."""

    uri: str = field(repr=False)
    name: str | None


class PasteLinkScreen(ModalScreen[LinkToJoin | None]):
    """Asks for the other device's link (masked) and this device's name; dismisses once the link is usable here."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="paste.cancel")]

    def __init__(self, relay: str | None, clock: Callable[[], float], name: str) -> None:
        super().__init__()
        self.relay, self.clock, self.device_name = relay, clock, name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="paste-dialog"):
            yield Label("Join your other device", classes="dialog-heading")
            yield Static(HOW_TO_LINK, markup=False)
            yield Input(password=True, placeholder="walletsync:link?v=1&secret=…", id="paste-uri")
            yield Label("This device's name in the group")
            yield Input(self.device_name, id="paste-name", max_length=MAX_NAME)
            yield Static("", id="paste-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Join", variant="primary", id="paste-ok")
                yield Button("Cancel (esc)", id="paste-cancel")

    def on_input_submitted(self) -> None:
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "paste-ok":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        """Dismiss with the link, or say why it cannot be used here and stay open."""
        uri = self.query_one("#paste-uri", Input).value.strip()
        problem = link_problem(uri, self.relay, self.clock())
        if problem is not None:
            self.query_one("#paste-error", Static).update(problem)
            self.query_one("#paste-uri", Input).focus()
            return
        name = self.query_one("#paste-name", Input).value.strip()
        self.dismiss(LinkToJoin(uri, name or None))

    def action_cancel(self) -> None:
        self.dismiss(None)


class LinkDialog(ModalScreen[R | None]):
    """The part both sides share: the code to compare, the question, and how the link ended.

    Stages (a ``-stage`` class on the screen, the stylesheet shows what fits): ``connecting``,
    ``offered`` (the member's QR), ``comparing`` (the code and the question), ``waiting`` (the
    user answered, the other device has not), ``linked`` or ``ended``; ``-has-code`` once a code
    was shown (it stays on screen). Dismisses with the call's result (None when it did not
    succeed or was cancelled with escape). Once dismissed, what the call still reports is dropped.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Codes match", id="link.yes"),
        Binding("n", "answer(False)", "Codes differ", id="link.no"),
        Binding("escape", "close", "Close", id="link.close"),
    ]
    NOT_DONE = "Not linked"

    def __init__(self, stage: str = "connecting") -> None:
        super().__init__()
        self.stage = stage
        self.result: R | None = None
        self.other = ""
        self.answered: bool | None = None
        self._answer: asyncio.Future[bool] | None = None

    def code_step(self) -> ComposeResult:
        with Vertical(id="code-step"):
            yield Static("", id="code-intro", markup=False)
            yield Digits("", id="code")
            with Vertical(id="code-ask"):
                yield Static("Do the codes match on both devices?", id="code-question", markup=False)
                with Horizontal(classes="buttons"):
                    yield Button("Yes, they match (y)", variant="success", id="code-yes")
                    yield Button("No (n)", variant="error", id="code-no")

    def ending(self) -> ComposeResult:
        yield Static("", id="link-status", markup=False)
        with Horizontal(id="link-buttons", classes="buttons"):
            yield Button("Cancel (esc)", id="link-close")

    def on_mount(self) -> None:
        self.set_stage(self.stage)

    def set_stage(self, stage: str) -> None:
        self.stage = stage
        for known in STAGES:
            self.set_class(known == stage, f"-{known}")
        if stage in ("linked", "ended"):
            self.query_one("#link-close", Button).label = "Close (esc)"
        self.refresh_bindings()

    def say(self, text: str) -> None:
        """The status line (text already safe to show)."""
        self.query_one("#link-status", Static).update(text)

    @property
    def asking(self) -> bool:
        return self._answer is not None and not self._answer.done()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer":
            return self.asking
        return True

    # --- what the service call reports --------------------------------------------------------

    def show_code(self, code: str, other: str) -> None:
        """The code both devices derived, and the other device's name as it gave it (data, escaped)."""
        if not self.is_attached:
            return
        self.other = other
        self.query_one("#code-intro", Static).update(f"{quoted(other)} must show this same code:")
        self.query_one("#code", Digits).update(code)
        self.say("")
        self.add_class("-has-code")
        self.set_stage("comparing")

    async def confirm(self) -> bool:
        """The user's answer to "Do the codes match?" (``y``/``n``, the buttons; escape says no)."""
        if not self.is_attached:
            return False
        self._answer = asyncio.get_running_loop().create_future()
        self.refresh_bindings()
        self.query_one("#code-no", Button).focus()  # enter by reflex must not say yes
        answer = await self._answer
        self.answered = answer
        if not self.is_attached:
            return answer
        self.refresh_bindings()
        if answer:
            self.say(f"Waiting for {quoted(self.other)} to confirm too…")
        else:
            self.say(f"Telling {quoted(self.other)} the codes differ…")
        self.set_stage("waiting")
        return answer

    async def follow(self, call: Awaitable[R]) -> None:
        """Await the service call this dialog shows; its result or how it ended goes on screen.

        An ending (refused, expired, the link used by another device) is said here; any other
        error is said here too and raised on, to the worker-error handler of the screen running it.
        """
        try:
            result = await call
        except WalletsyncError as exc:
            self._ended(exc)
            if exc.code not in ENDINGS:
                raise
            return
        except Exception:
            self._ended(None)
            raise
        self.result = result
        if self.is_attached:
            self.succeeded(result)
            self.set_stage("linked")

    def succeeded(self, result: R) -> None:
        """Say what the link did (each side its own way)."""

    def _ended(self, error: WalletsyncError | None) -> None:
        if not self.is_attached:
            return
        if error is None:
            self.say(f"{self.NOT_DONE}: something went wrong (see the notification).")
        elif error.code == "link_in_use":
            self.say(
                f"{self.NOT_DONE}: {shown(error, 300)}. If it was not one of your devices, "
                "someone else saw the link: show a new one."
            )
        else:
            self.say(f"{self.NOT_DONE}: {shown(error, 300)}")
        self.set_stage("ended")

    # --- the user's keys ----------------------------------------------------------------------

    def action_answer(self, yes: bool) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(yes)

    def action_close(self) -> None:
        """Escape: while asked, it answers no (so the other device hears it); else it closes (cancelling the link)."""
        if self.asking:
            self.action_answer(False)
        else:
            self.dismiss(self.result)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("code-yes", "code-no"):
            self.action_answer(event.button.id == "code-yes")
        elif event.button.id == "link-close":
            self.action_close()


class LinkScreen(LinkDialog[DeviceRecord]):
    """The member's side: the link as a QR and text with its countdown, then the code, then "Linked …".

    Wide terminals get the QR on the left and the text beside it, as on the pairing screen.
    """

    BINDINGS = [*LinkDialog.BINDINGS, Binding("c", "copy_uri", "Copy link", id="link.copy")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__("connecting")
        self.clock = clock
        self.offer: LinkOffer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="link-dialog"):
            yield Static("Link a new device", id="link-title")
            with Container(id="link-offer"):
                yield QrCode(id="link-qr")
                with Vertical(id="link-text"):
                    yield Static("Preparing a link…", id="link-uri", markup=False)
                    yield Static("", id="link-expiry", markup=False)
                    yield Static(HOW_TO_JOIN, id="link-hint", markup=False)
            yield from self.code_step()
            yield from self.ending()

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(1, self._tick)

    def offered(self, offer: LinkOffer) -> None:
        if not self.is_attached:
            return
        self.offer = offer
        self.query_one(QrCode).uri = offer.uri
        self.query_one("#link-uri", Static).update(offer.uri)
        self.set_stage("offered")
        self._tick()

    def show_code(self, code: str, other: str) -> None:
        if self.is_attached:
            self.query_one(QrCode).uri = ""  # used: no camera should read it any more
        super().show_code(code, other)

    def _tick(self) -> None:
        if self.offer is None or self.stage != "offered":
            return
        left = self.offer.expires_at - self.clock()
        if left > 0:
            self.query_one("#link-expiry", Static).update(f"Expires in {expires_in(left)}")
        else:
            self.query_one(QrCode).uri = ""
            self.query_one("#link-expiry", Static).update("Expired")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_uri":
            return self.stage == "offered"
        return super().check_action(action, parameters)

    def action_copy_uri(self) -> None:
        if self.offer is not None:
            cast("WalletsyncApp", self.app).copy("The link", self.offer.uri, "Paste it only on your other device.")

    def succeeded(self, result: DeviceRecord) -> None:
        self.say(f"Linked {quoted(result.name)}.")


class JoinScreen(LinkDialog[list[DeviceRecord]]):
    """The joiner's side: waiting for the member, the code, then the group this device joined."""

    NOT_DONE = "Not joined"

    def __init__(self, relay: str) -> None:
        super().__init__("connecting")
        self.relay = relay

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="join-dialog"):
            yield Label("Join your other device", classes="dialog-heading")
            yield Static(
                f"Waiting for the other device to answer on {shown(self.relay)}…", id="join-wait", markup=False
            )
            yield from self.code_step()
            yield from self.ending()

    def succeeded(self, result: list[DeviceRecord]) -> None:
        names = ", ".join(quoted(d.name) + (" (this device)" if d.this_device else "") for d in result)
        self.say(f"Joined the group: {names}.")
