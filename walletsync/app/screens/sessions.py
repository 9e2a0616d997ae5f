"""The session list: one row per session, live expiry countdowns, and the per-session actions."""

from __future__ import annotations

import asyncio
from collections import Counter

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from walletsync.app.format import (
    ago,
    chains_of,
    clip,
    expires_in,
    is_waiting,
    no_requests,
    peer_name,
    phone_data,
    plain,
    session_state,
    short_account,
    site_of,
)
from walletsync.app.screens.audit import AuditScreen
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.screens.detail import SessionDetailScreen
from walletsync.app.screens.modals import ConfirmScreen, RenameScreen
from walletsync.app.screens.request import RequestScreen
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.app.widgets.table import keyed_table
from walletsync.names import MAX_CELLS
from walletsync.service import RequestVerified, SessionRecord, SessionRenamed, StoreChanged
from walletsync.service import events as ev
from walletsync.text import shown

COLUMNS = (
    ("name", "Name"),
    ("peer", "Peer"),
    ("url", "URL"),
    ("accounts", "Accounts"),
    ("chains", "Chains"),
    ("expires", "Expires"),
    ("status", "Status"),
    ("pending", "Pending"),
    ("ping", "Last ping"),
)
REQUEST_EVENTS = (ev.RequestSent, ev.RequestAnswered, ev.RequestFailed, ev.RequestExpired, RequestVerified)
REFRESHING = (
    ev.SessionSettled,
    ev.SessionDeleted,
    ev.SessionExpired,
    ev.SessionUpdated,
    ev.SessionExtended,
    SessionRenamed,
    ev.Acknowledged,
    ev.SessionEventReceived,
    *REQUEST_EVENTS,
)


class SessionsScreen(CompanionScreen):
    """Lists every session; acts on the highlighted one. Rows are keyed by session topic."""

    TITLE = "Sessions"
    BINDINGS = [
        # priority: the table's own enter (select row) would otherwise hide this one from the footer
        Binding("enter", "details", "Details", id="sessions.details", priority=True),
        Binding("r", "rename", "Rename", id="sessions.rename"),
        Binding("d", "revoke", "Revoke", id="sessions.revoke"),
        Binding("e", "extend", "Extend", id="sessions.extend"),
        Binding("p", "ping", "Ping", id="sessions.ping"),
        Binding("s", "new_request", "New request", id="sessions.request"),
        Binding("a", "audit", "Audit", id="sessions.audit"),
        Binding("n", "app.new_pairing", "New pairing", id="sessions.pair"),
        Binding("v", "app.devices", "Devices", id="sessions.devices"),
    ]

    def __init__(self, companion, *, highlight: str | None = None) -> None:
        super().__init__(companion)
        self.highlight = highlight
        self.records: dict[str, SessionRecord] = {}

    def compose(self) -> ComposeResult:
        yield Static("Sessions", id="sessions-title")
        yield keyed_table(COLUMNS, id="sessions")
        yield Static("No sessions yet — press n to pair a phone", id="sessions-empty")
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(1, self._tick)
        self.walletsync_app.session_events.subscribe(self, self._on_companion_event)

    # --- the table ---------------------------------------------------------------------------

    @work(exclusive=True, group="sessions-reload", exit_on_error=False)
    async def reload(self, highlight: str | None = None) -> None:
        """Re-read the sessions off the event loop; keep (or move) the cursor to ``highlight``, else the current row."""
        self.highlight = highlight or self.highlight  # survives a reload that a newer one cancels
        sessions, requests = await asyncio.to_thread(lambda: (self.companion.sessions(), self.companion.requests()))
        table = self.query_one(DataTable)
        keep = self.highlight or self.current_topic()
        self.highlight = None
        self.records = {r.topic: r for r in sessions}
        table.clear()
        now = self.companion.clock()
        waiting = Counter(r.topic for r in requests if is_waiting(r, now))
        for record in self.records.values():
            peer = record.peer or {}
            table.add_row(
                plain(record.name, MAX_CELLS),
                Text(peer_name(record)),
                clip(site_of(str(peer.get("url") or "")), 40),
                clip(", ".join(dict.fromkeys(short_account(a) for a in record.accounts)), 60),
                clip(chains_of(record), 60),
                expires_in(record.expiry - now) if record.status == "active" else "—",
                plain(session_state(record, now)),
                str(waiting[record.topic] or "—"),
                self._last_ping(record, now),
                key=record.topic,
            )
        self.query_one("#sessions-empty").display = not self.records
        if keep in self.records:
            table.move_cursor(row=table.get_row_index(keep))

    def _last_ping(self, record: SessionRecord, now: float) -> str:
        return ago(None if record.last_ping is None else now - record.last_ping)

    def _tick(self) -> None:
        table = self.query_one(DataTable)
        now = self.companion.clock()
        for topic, record in self.records.items():
            table.update_cell(topic, "ping", self._last_ping(record, now))
            if record.status == "active":
                table.update_cell(topic, "expires", expires_in(record.expiry - now))
                table.update_cell(topic, "status", plain(session_state(record, now)))

    def current_topic(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.records or table.cursor_row < 0 or table.cursor_row >= table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _selected(self) -> SessionRecord | None:
        topic = self.current_topic()
        if topic is None:
            self.notify("No session selected", severity="warning")
            return None
        return self.records[topic]

    # --- live events ----------------------------------------------------------------------------

    def _on_companion_event(self, event: ev.Event) -> None:
        if isinstance(event, StoreChanged):  # another walletsync process paired, ended or changed something
            self.reload()
            return
        if not isinstance(event, REFRESHING):
            return
        topic = event.session.topic if isinstance(event, ev.SessionSettled) else event.topic
        if isinstance(event, ev.Acknowledged) and topic not in self.records:
            return
        before = self.records.get(topic)
        self.reload()
        name = shown(before.name if before else topic[:8], MAX_CELLS)
        if isinstance(event, ev.SessionDeleted) and event.by != "self":
            message = shown(event.message, 200)
            self.notify(
                f"{name} was disconnected by the phone ({message})",
                title="Session ended",
                severity="warning",
                markup=False,
            )
        elif isinstance(event, ev.SessionExpired):
            self.notify(f"{name} expired", title="Session ended", severity="warning", markup=False)
        elif isinstance(event, ev.SessionUpdated):
            self.notify(f"{name} changed its accounts or chains", title="Session updated", markup=False)
        elif isinstance(event, ev.SessionEventReceived):
            what = f"{shown(event.name, 40)} on {shown(event.chain_id, 40)} → {phone_data(event.data)}"
            self.notify(f"{name}: {what}", title="Phone event", markup=False)

    # --- actions: each service call in a worker, its result as a notification -----------------------

    def action_details(self) -> None:
        if (record := self._selected()) is not None:
            self.app.push_screen(SessionDetailScreen(self.companion, record.topic))

    def action_new_request(self) -> None:
        if (record := self._selected()) is None:
            return
        if (why := no_requests(record, self.companion.clock())) is not None:
            self.notify(why, title="No new request", severity="warning", markup=False)
            return
        self.app.push_screen(RequestScreen(self.companion, record))

    def action_audit(self) -> None:
        """The audit trail of the highlighted session (the whole log when there is none)."""
        self.app.push_screen(AuditScreen(self.companion, session=self.current_topic()))

    def action_rename(self) -> None:
        record = self._selected()
        if record is not None:
            self.app.push_screen(RenameScreen(record.name), lambda name: self._renamed(record, name))

    def _renamed(self, record: SessionRecord, name: str | None) -> None:
        if name is not None and name.strip() != record.name:
            self.rename(record.topic, name)

    @work(group="session-action", exit_on_error=False)
    async def rename(self, topic: str, name: str) -> None:
        renamed = self.companion.rename(topic, name)
        self.notify(f"Renamed to {shown(renamed.name)}", markup=False)

    def action_revoke(self) -> None:
        record = self._selected()
        if record is not None:
            question = f"Revoke '{shown(record.name)}'? The phone is told the session is over."

            def answered(yes: bool | None) -> None:
                if yes:
                    self.revoke(record.topic)

            self.app.push_screen(ConfirmScreen(question, "Revoke"), answered)

    @work(group="session-action", exit_on_error=False)
    async def revoke(self, topic: str) -> None:
        record = await self.companion.revoke(topic)
        self.reload()
        self.notify(f"Revoked {shown(record.name)}", markup=False)

    def action_extend(self) -> None:
        if (record := self._selected()) is not None:
            self.extend(record.topic)

    @work(group="session-action", exit_on_error=False)
    async def extend(self, topic: str) -> None:
        record = await self.companion.extend(topic)
        self.reload()
        self.notify(
            f"Extended {shown(record.name)}: expires in {expires_in(record.expiry - self.companion.clock())}",
            markup=False,
        )

    def action_ping(self) -> None:
        if (record := self._selected()) is not None:
            self.ping(record.topic)

    @work(group="session-action", exit_on_error=False)
    async def ping(self, topic: str) -> None:
        record, seconds = await self.companion.ping(topic)
        self.notify(f"{shown(record.name)} answered in {seconds * 1000:.0f} ms", markup=False)
