"""Your devices: the device group as a table (this device first), and linking a new one (``l``)."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from walletsync.app.format import ago, plain
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.screens.linking import NAME_CELLS, LinkScreen
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.app.widgets.table import keyed_table
from walletsync.service import DeviceRecord, Event, StoreChanged

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


class DevicesScreen(CompanionScreen):
    """Lists the group's devices; ``l`` shows a link for a new one. Rows are keyed by device id."""

    BINDINGS = [
        Binding("l", "link", "Link a device", id="devices.link"),
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
