"""Pairing: a QR and its URI for the phone, a countdown, and a fresh URI when one lapses or the scopes change.

Wide terminals get the QR on the left and the text beside it; narrow ones stack them. As the first
screen it is also where a new device joins the user's other one (``j``) instead of pairing again.
"""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.widgets import Footer, Static

from walletsync.app.messages import PairingOffered, SessionPaired
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.screens.linking import JoinScreen, LinkToJoin, PasteLinkScreen
from walletsync.app.screens.scopes import Scopes, ScopesScreen
from walletsync.app.widgets.qr import QrCode
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.errors import WalletsyncError
from walletsync.service import (
    DeviceRecord,
    PairingFailed,
    PairingOffer,
    RequestTimeout,
    SessionRecord,
    phone_command,
)
from walletsync.text import shown

RETRY_SECONDS = 3.0
JOIN_HINT = "Already use walletsync on another computer? Press j to join it."
URI_SHOWN = 12
"""Characters of the URI left in the shortened ``walletsync phone`` line (``w`` copies the whole of it)."""


def phone_hint(uri: str) -> str:
    """The ``walletsync phone`` line, its URI cut short so that it fits 80 columns (``w`` copies it whole)."""
    return (
        f"A test wallet on this machine pairs with (w copies it):\nWALLETSYNC_URI='{uri[:URI_SHOWN]}…' walletsync phone"
    )


def countdown(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class PairingScreen(CompanionScreen):
    """Shows a pairing offer until a phone settles a session from it (then posts :class:`SessionPaired`)."""

    TITLE = "Pairing"
    BINDINGS = [
        Binding("c", "copy_uri", "Copy URI", id="pairing.copy"),
        Binding("w", "copy_phone_command", "Copy phone line", id="pairing.copy-phone"),
        Binding("o", "edit_scopes", "Scopes", id="pairing.scopes"),
        Binding("j", "join", "Join other device", id="pairing.join"),
        Binding("v", "app.devices", "Devices", id="pairing.devices"),
        Binding("escape", "app.close_pairing", "Back", id="pairing.back"),
    ]
    # From this width the text goes beside the QR (57 columns with its quiet zone) instead of below it.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    offer: PairingOffer | None = None
    scopes = Scopes()

    def compose(self) -> ComposeResult:
        yield Static("Scan with your phone wallet", id="pairing-title")
        with Container(id="pairing"):
            yield QrCode(id="qr")
            with Vertical(id="pairing-text"):
                yield Static("Preparing a pairing…", id="pairing-uri", markup=False)
                yield Static("", id="pairing-expiry", markup=False)
                yield Static(self.scopes.summary(self.companion.registry()), id="pairing-scopes", markup=False)
                yield Static("", id="pairing-relay", markup=False)
                yield Static("", id="pairing-hint", markup=False)
                yield Static(JOIN_HINT, id="pairing-join", markup=False)
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.offer_pairings()
        self.set_interval(1, self._tick)

    @work(exclusive=True, group="pairing", exit_on_error=False)
    async def offer_pairings(self) -> None:
        """Offer, wait until expiry, offer again; stop when a phone settles a session."""
        while True:
            try:
                offer = await self.companion.pair(**self.scopes.as_kwargs())
            except WalletsyncError as exc:  # e.g. the relay never answered: say why, then try again
                self.query_one("#pairing-uri", Static).update(f"No pairing yet: {shown(exc)}. Trying again…")
                await asyncio.sleep(RETRY_SECONDS)
                continue
            self.post_message(PairingOffered(offer))
            try:
                session = await self._settled(offer)
            except PairingFailed as exc:
                if "rejected" in str(exc):
                    self.notify(shown(exc, 300), title="Pairing", severity="warning", markup=False)
                session = None
            if session is not None:
                self.post_message(SessionPaired(session))
                return
            self._withdraw()  # lapsed or refused: no camera should read it while the next one is prepared

    async def _settled(self, offer: PairingOffer) -> SessionRecord | None:
        """The session settled from ``offer``, or None once it lapses (checked each second, so a suspend counts)."""
        while (left := offer.expires_at - self.companion.clock()) > 0:
            try:
                return await self.companion.wait_for_session(offer.proposal_id, min(left, 1.0))
            except RequestTimeout:
                continue
        return None

    def on_pairing_offered(self, message: PairingOffered) -> None:
        message.stop()
        self.offer = message.offer
        relay = self.companion.relay
        self.query_one(QrCode).uri = message.offer.uri
        self.query_one("#pairing-uri", Static).update(message.offer.uri)
        if relay is not None:
            self.query_one("#pairing-relay", Static).update(f"Relay: {relay.kind} — {relay.url}")
            self.query_one("#pairing-hint", Static).update(phone_hint(message.offer.uri) if self.local else "")
        self._tick()

    def _tick(self) -> None:
        link = self.companion.link_status
        if self.offer is None and link is not None and link.state != "online":
            why = f" ({link.reason})" if link.reason else ""
            waiting = f"Waiting for the relay to answer{why}: the QR appears as soon as it does."
            self.query_one("#pairing-uri", Static).update(shown(waiting))
        if self.offer is not None:
            left = self.offer.expires_at - self.companion.clock()
            self.query_one("#pairing-expiry", Static).update(
                f"Expires in {countdown(left)}" if left > 0 else "Expired — preparing a new one…"
            )

    def action_edit_scopes(self) -> None:
        self.app.push_screen(ScopesScreen(self.scopes), self._scopes_edited)

    def _scopes_edited(self, scopes: Scopes | None) -> None:
        """New scopes need a new proposal: the QR on screen no longer says what will be asked."""
        if scopes is None or scopes == self.scopes:
            return
        self.scopes = scopes
        self.query_one("#pairing-scopes", Static).update(scopes.summary(self.companion.registry()))
        self._withdraw()
        self.offer_pairings()

    def _withdraw(self) -> None:
        """Take the offer off the screen (QR, URI, countdown) until the next one arrives."""
        self.offer = None
        self.query_one(QrCode).uri = ""
        self.query_one("#pairing-uri", Static).update("Preparing a pairing…")
        self.query_one("#pairing-expiry", Static).update("")

    @property
    def local(self) -> bool:
        """On a local relay: the reference phone (``walletsync phone``) can pair from this machine."""
        return self.companion.relay is not None and self.companion.relay.kind == "local"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_phone_command":
            return self.local
        return True

    def action_copy_uri(self) -> None:
        if self.offer is None:
            self.notify("No pairing URI yet", severity="warning")
            return
        self.walletsync_app.copy("Pairing URI", self.offer.uri)

    def action_copy_phone_command(self) -> None:
        """The whole ``WALLETSYNC_URI=… walletsync phone`` line, for a shell on this machine."""
        if self.offer is None:
            self.notify("No pairing URI yet", severity="warning")
            return
        self.walletsync_app.copy("The walletsync phone line", phone_command(self.offer.uri))

    # --- joining the user's other device ------------------------------------------------------

    def action_join(self) -> None:
        relay = self.companion.relay
        mine = next((d.name for d in self.companion.devices() if d.this_device), "")
        self.app.push_screen(PasteLinkScreen(relay.url if relay else None, self.companion.clock, mine), self._pasted)

    def _pasted(self, link: LinkToJoin | None) -> None:
        if link is not None:
            self.join(link)

    @work(exclusive=True, group="device-join", exit_on_error=False)
    async def join(self, link: LinkToJoin) -> None:
        """Show the join dialog and join in this worker (so a failure reaches this screen's handler)."""
        relay = self.companion.relay
        dialog = JoinScreen(relay.url if relay else "no relay")
        await self.app.push_screen(dialog, self._join_closed)
        await dialog.follow(
            self.companion.join_group(link.uri, show_code=dialog.show_code, confirm=dialog.confirm, name=link.name)
        )

    def _join_closed(self, devices: list[DeviceRecord] | None) -> None:
        """The dialog closed: a join still under way is cancelled; once joined, the group is shown."""
        self.workers.cancel_group(self, "device-join")
        if devices:
            self.walletsync_app.action_devices()
