"""Your devices: the device group as a table (this device first); link a new one (``l``), rename (``r``) or revoke
(``d``) the highlighted one, sync now (``s``)."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from walletsync.app.format import ago, plain
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.screens.device_dialogs import DeviceNameScreen, Revoke, RevokeDeviceScreen, sessions_word
from walletsync.app.screens.linking import NAME_CELLS, LinkScreen, quoted
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.app.widgets.table import keyed_table
from walletsync.errors import WalletsyncError
from walletsync.service import DeviceRecord, Event, SessionRecord, StoreChanged
from walletsync.text import shown

COLUMNS = (
    ("this", ""),
    ("name", "Name"),
    ("id", "Device id"),
    ("linked", "Linked"),
    ("seen", "Last seen"),
    ("status", "Status"),
)
THIS_DEVICE = "●"
REREAD_SECONDS = 5.0
"""How often the table re-reads the group even without a StoreChanged: "last seen" moves as sync messages arrive."""
ALONE = "Only this device so far — press l to link another one (it shows a QR and a link for the other device)."
NO_GROUP = "This device is in no group yet: press l to link another device first."


class DevicesScreen(CompanionScreen):
    """Lists the group's devices and acts on the highlighted one. Rows are keyed by device id."""

    TITLE = "Your devices"
    BINDINGS = [
        Binding("l", "link", "Link a device", id="devices.link"),
        Binding("r", "rename", "Rename", id="devices.rename"),
        Binding("d", "revoke", "Revoke", id="devices.revoke"),
        Binding("s", "sync", "Sync now", id="devices.sync"),
        Binding("escape", "app.pop_screen", "Back", id="devices.back"),
    ]

    def __init__(self, companion, *, highlight: str | None = None) -> None:
        super().__init__(companion)
        self.highlight = highlight
        self.records: dict[str, DeviceRecord] = {}

    def compose(self) -> ComposeResult:
        yield Static("Your devices", id="devices-title")
        yield keyed_table(COLUMNS, id="devices")
        yield Static(ALONE, id="devices-alone", markup=False)
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(1, self._tick)
        self.set_interval(REREAD_SECONDS, self.reload)
        self.walletsync_app.session_events.subscribe(self, self._on_companion_event)

    def _on_companion_event(self, event: Event) -> None:
        if isinstance(event, StoreChanged):
            self.reload()

    # --- the table ---------------------------------------------------------------------------

    @work(exclusive=True, group="devices-reload", exit_on_error=False)
    async def reload(self, highlight: str | None = None) -> None:
        """Re-read the group off the event loop; keep (or move) the cursor to ``highlight``, else the current row."""
        self.highlight = highlight or self.highlight
        devices = await asyncio.to_thread(self.companion.devices)
        table = self.query_one(DataTable)
        keep = self.highlight or self.current_device()
        self.highlight = None
        self.records = {d.id: d for d in devices}
        table.clear()
        now = self.companion.clock()
        for device in devices:
            table.add_row(
                THIS_DEVICE if device.this_device else "",
                plain(device.name, NAME_CELLS),
                device.id[:12],
                self._linked(device, now),
                self._seen(device, now),
                plain(device.status),
                key=device.id,
            )
        self.query_one("#devices-alone").display = len(devices) <= 1
        if keep in self.records:
            table.move_cursor(row=table.get_row_index(keep))

    def _linked(self, device: DeviceRecord, now: float) -> str:
        return ago(now - device.linked_at)

    def _seen(self, device: DeviceRecord, now: float) -> str:
        if device.this_device:
            return "now"
        return "never" if device.last_seen is None else ago(now - device.last_seen)

    def _tick(self) -> None:
        """Relative times move on between re-reads."""
        table = self.query_one(DataTable)
        now = self.companion.clock()
        for device_id, device in self.records.items():
            table.update_cell(device_id, "linked", self._linked(device, now))
            table.update_cell(device_id, "seen", self._seen(device, now))

    def current_device(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.records or table.cursor_row < 0 or table.cursor_row >= table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    # --- linking -------------------------------------------------------------------------------

    def action_link(self) -> None:
        self.link()

    @work(exclusive=True, group="device-link", exit_on_error=False)
    async def link(self) -> None:
        """Show the link dialog and run the link in this worker (so a failure reaches this screen's handler)."""
        dialog = LinkScreen(self.companion.clock)
        await self.app.push_screen(dialog, self._link_closed)
        await dialog.follow(
            self.companion.link_device(on_offer=dialog.offered, show_code=dialog.show_code, confirm=dialog.confirm)
        )
        if dialog.result is not None:
            self.reload(highlight=dialog.result.id)

    def _link_closed(self, device: DeviceRecord | None) -> None:
        """The dialog closed: a link still under way is cancelled (its topic left, its secret forgotten)."""
        self.workers.cancel_group(self, "device-link")
        self.reload(highlight=device.id if device else None)

    # --- rename, revoke, sync: each service call in a worker, its outcome as a notification ------------

    def _selected(self) -> DeviceRecord | None:
        device = self.current_device()
        if device is None:
            self.notify("No device selected", severity="warning")
            return None
        return self.records[device]

    def _working(self, group: str) -> bool:
        return any(w.group == group and w.node is self and w.is_running for w in self.app.workers)

    def action_rename(self) -> None:
        device = self._selected()
        if device is None:
            return
        if not self.companion.in_group:
            self.notify(NO_GROUP, severity="warning", markup=False)
            return
        self.rename(device)

    @work(exclusive=True, group="device-rename", exit_on_error=False)
    async def rename(self, device: DeviceRecord) -> None:
        """Ask for the name until the service takes one (its refusals show in the dialog) or the user cancels."""
        dialog = DeviceNameScreen(device)
        await self.app.push_screen(dialog)
        try:
            while (name := await dialog.next_name()) is not None:
                if name == device.name:
                    return
                try:
                    renamed = self.companion.rename_device(device.id, name)
                except WalletsyncError as exc:
                    dialog.refused(shown(exc, 300))
                    continue
                dialog.close(renamed)
                self.reload(highlight=renamed.id)
                self.notify(f"Renamed to {quoted(renamed.name)}: the other devices see it once they sync", markup=False)
                return
        finally:
            dialog.close()  # cancelled, unchanged, or an unexpected error (on its way to the handler)

    def action_revoke(self) -> None:
        device = self._selected()
        if device is None:
            return
        if device.this_device:
            self.notify(
                f"{quoted(device.name)} is this device, and a device cannot revoke itself: revoke it from another "
                "device of the group (a lost device is revoked from one you still have).",
                title="Not this device",
                severity="warning",
                markup=False,
            )
            return
        if self._working("device-revoke"):
            self.notify("A revoke is under way", severity="warning")
            return
        self.revoke(device)

    @work(group="device-revoke", exit_on_error=False)
    async def revoke(self, device: DeviceRecord) -> None:
        """Say what revoking does to the open sessions, ask, then revoke as chosen."""
        open_sessions = await asyncio.to_thread(self._open_sessions)
        choice = await self.app.push_screen_wait(RevokeDeviceScreen(device, open_sessions))
        if choice is None:
            return
        end = choice is Revoke.END_SESSIONS
        revoked, ended = await self.companion.revoke_device(device.id, end_sessions=end)
        kept = [] if end else await asyncio.to_thread(self._open_sessions)
        self.reload()
        self.notify(revoked_message(revoked, ended, kept), title="Device revoked", markup=False, timeout=10)

    def _open_sessions(self) -> list[SessionRecord]:
        """The sessions a revoke may end (those the service ends), by name."""
        return sorted((s for s in self.companion.sessions() if s.status == "active"), key=lambda s: s.name.casefold())

    def action_sync(self) -> None:
        if not self.companion.in_group:
            self.notify(NO_GROUP, severity="warning", markup=False)
        elif self._working("device-sync"):
            self.notify("Already syncing", severity="warning")
        else:
            self.sync()

    @work(group="device-sync", exit_on_error=False)
    async def sync(self) -> None:
        """Exchange with every member online now; say whether each confirmed this device's changes."""
        status = await self.companion.sync_now()
        self.reload()
        if status.pending:
            s = "s" if status.pending != 1 else ""
            self.notify(f"{status.pending} change{s} not yet confirmed", title="Synced", severity="warning")
        else:
            self.notify("All devices in sync", title="Synced")


def revoked_message(device: DeviceRecord, ended: list[SessionRecord], kept: list[SessionRecord]) -> str:
    """What a revoke did: "Revoked 'x'; ended 2 sessions" or "…; kept 2 sessions open: 'a', 'b'" (names escaped)."""
    message = f"Revoked {quoted(device.name)}"
    if ended:
        message += f"; ended {sessions_word(len(ended))}"
    if kept:
        message += f"; kept {sessions_word(len(kept))} open: " + ", ".join(quoted(s.name) for s in kept)
    return message
