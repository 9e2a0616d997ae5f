"""Pairing: a QR and its URI for the phone, a countdown, and a fresh URI when one lapses."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Static

from walletsync.app.messages import PairingOffered, SessionLinked
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.widgets.qr import QrCode
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.service import PairingFailed, PairingOffer, RequestTimeout
from walletsync.store.db import SessionRecord


def countdown(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class PairingScreen(CompanionScreen):
    """Shows a pairing offer until a phone settles a session from it (then posts :class:`SessionLinked`)."""

    BINDINGS = [
        Binding("c", "copy_uri", "Copy URI", id="pairing.copy"),
        Binding("escape", "app.pop_screen", "Back", id="pairing.back"),
    ]

    offer: PairingOffer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="pairing"):
            yield Static("Scan with your phone wallet", id="pairing-title")
            yield QrCode(id="qr")
            yield Static("Preparing a pairing…", id="pairing-uri")
            yield Static("", id="pairing-expiry")
            yield Static("", id="pairing-relay")
            yield Static("", id="pairing-hint")
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.offer_pairings()
        self.set_interval(1, self._tick)

    @work(exclusive=True, group="pairing", exit_on_error=False)
    async def offer_pairings(self) -> None:
        """Offer, wait until expiry, offer again; stop when a phone settles a session."""
        while True:
            offer = await self.companion.pair()
            self.post_message(PairingOffered(offer))
            try:
                session = await self._settled(offer)
            except PairingFailed as exc:
                if "rejected" in str(exc):
                    self.notify(str(exc), title="Pairing", severity="warning")
                continue
            if session is not None:
                self.post_message(SessionLinked(session))
                return

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
            hint = f'On this machine, a test wallet can pair with: walletsync phone "{message.offer.uri}"' if relay.kind == "local" else ""
            self.query_one("#pairing-hint", Static).update(hint)
        self._tick()

    def _tick(self) -> None:
        if self.offer is not None:
            left = self.offer.expires_at - self.companion.clock()
            self.query_one("#pairing-expiry", Static).update(f"Expires in {countdown(left)}" if left > 0 else "Expired — preparing a new one…")

    def action_copy_uri(self) -> None:
        if self.offer is None:
            self.notify("No pairing URI yet", severity="warning")
            return
        self.app.copy_to_clipboard(self.offer.uri)
        self.notify("Pairing URI copied to the clipboard")
