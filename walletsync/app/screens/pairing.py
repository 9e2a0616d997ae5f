"""Pairing: a QR and its URI for the phone, a countdown, and a fresh URI when one lapses or the scopes change.

Wide terminals get the QR on the left and the text beside it; narrow ones stack them. As the first
screen it is also where a new device joins the user's other one (``j``) instead of pairing again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.widgets import Footer, Static

from walletsync.app.messages import PairingOffered, SessionPaired
from walletsync.app.screens.joining import JoinsGroup
from walletsync.app.screens.linking import quoted
from walletsync.app.screens.restore import RestoreScreen
from walletsync.app.screens.scopes import Scopes, ScopesScreen
from walletsync.app.widgets.qr import QrCode
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.errors import WalletsyncError
from walletsync.service import (
    PairingFailed,
    PairingOffer,
    RequestTimeout,
    SessionRecord,
    VaultError,
    phone_command,
    read_backup_file,
)
from walletsync.text import shown

if TYPE_CHECKING:
    from walletsync.service import RestoredHere
    from walletsync.service.backup import Backup

RETRY_SECONDS = 3.0
JOIN_HINT = "Use walletsync on another computer? j joins it; r restores from a backup."
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


class PairingScreen(JoinsGroup):
    """Shows a pairing offer until a phone settles a session from it (then posts :class:`SessionPaired`)."""

    TITLE = "Pairing"
    BINDINGS = [
        Binding("c", "copy_uri", "Copy URI", id="pairing.copy"),
        Binding("w", "copy_phone_command", "Copy phone line", id="pairing.copy-phone"),
        Binding("o", "edit_scopes", "Scopes", id="pairing.scopes"),
        Binding("j", "join", "Join other device", id="pairing.join"),
        # in ? Keys and the join line: the footer has no room left at 120 columns
        Binding("r", "restore", "Restore backup", id="pairing.restore", show=False),
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

    # --- restoring from a backup (joining the user's other device: JoinsGroup) -------------------------------

    def action_restore(self) -> None:
        self.restore()

    @work(exclusive=True, group="backup-restore", exit_on_error=False)
    async def restore(self) -> None:
        """The restore dialog, driven from here: read the file, open it with what the user gives, restore. An
        unexpected error is said in the dialog too, and raised on to this screen's worker-error handler."""
        dialog = RestoreScreen()
        await self.app.push_screen(dialog, self._restore_closed)
        try:
            await self._restore(dialog)
        except Exception:
            if dialog.is_attached:
                dialog.ended("Not restored: something went wrong (see the notification).")
            raise

    async def _restore(self, dialog: RestoreScreen) -> None:
        data = await self._backup_file(dialog)
        if data is None:
            return
        opened = await self._opened(dialog, data)
        if opened is None:
            return
        from walletsync.service.backup import BackupError

        dialog.restoring(f"Restoring the backup made by {quoted(opened.made_by)}…")
        try:  # in a thread: it checks the backup's audit log and writes the store (the store has its own lock)
            restored = await asyncio.to_thread(self.companion.restore_backup, opened)
        except BackupError as exc:  # RestoreRefused among them: nothing was changed
            dialog.ended(f"Not restored: {shown(exc, 300)}")
            return
        dialog.close(restored)

    async def _backup_file(self, dialog: RestoreScreen) -> bytes | None:
        """The bytes of the file the user names, once it is a backup (the dialog then asks what opens it)."""
        from walletsync.service import backup

        while (path := await dialog.next_file()) is not None:
            try:
                data = await asyncio.to_thread(read_backup_file, Path(path).expanduser())
                by_passphrase, by_shares = backup.holders(data)
                dialog.ask_key(by_passphrase, by_shares, backup.share_set(data) if by_shares else None)
                return data
            except WalletsyncError as exc:
                dialog.refused(f"{shown(exc, 300)}", stage="file")
        return None

    async def _opened(self, dialog: RestoreScreen, data: bytes) -> Backup | None:
        """The backup opened with what the user gives; a wrong passphrase or shares that do not open: try again."""
        from walletsync.service import backup

        while (key := await dialog.next_key()) is not None:
            again = "shares" if key.shares is not None else "passphrase"
            stretch = " (stretching the passphrase takes a second)" if key.passphrase is not None else ""
            dialog.opening(f"Opening the backup{stretch}…")
            try:
                return await asyncio.to_thread(
                    backup.read,
                    data,
                    passphrase=key.passphrase,
                    shares=key.shares,
                    share_passphrase=key.share_passphrase,
                )
            except VaultError as exc:
                dialog.refused(f"Not opened: {shown(exc, 300)}", stage=again)
            except backup.BackupError as exc:
                dialog.ended(f"Not restored: {shown(exc, 300)}")
                return None
        return None

    def _restore_closed(self, restored: RestoredHere | None) -> None:
        """The dialog closed: a restore still asking is stopped; once restored, the sessions take this screen's
        place."""
        self.workers.cancel_group(self, "backup-restore")
        if restored is not None:
            self.walletsync_app.show_restored(restored)
