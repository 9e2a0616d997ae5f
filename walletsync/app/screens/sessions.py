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
    chain_label,
    clip,
    expires_in,
    first_chain,
    fit,
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
from walletsync.app.screens.backup import age_warning
from walletsync.app.screens.detail import SessionDetailScreen
from walletsync.app.screens.joining import JoinsGroup
from walletsync.app.screens.modals import ConfirmScreen, RenameScreen
from walletsync.app.screens.request import RequestScreen
from walletsync.app.screens.restore import RestoredScreen
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.app.widgets.table import keyed_table
from walletsync.names import MAX_CELLS
from walletsync.service import (
    Registry,
    RequestRecord,
    RequestVerified,
    RestoredHere,
    SessionRecord,
    SessionRenamed,
    StoreChanged,
)
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
LIVE = tuple(i for i, (key, _) in enumerate(COLUMNS) if key in ("expires", "status", "ping"))
"""The columns the clock changes."""
FILL_STEP = 200
AGE_DELAY = 1.0
"""Seconds between two reads of the backup line's state, however many reloads come in between."""
"""Rows added to the table between two frames."""
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


class SessionsScreen(JoinsGroup):
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
        Binding("b", "app.balances", "Balances", id="sessions.balances", show=False),  # in ? Keys: the footer is full
        Binding("k", "app.backup", "Backup", id="sessions.backup", show=False),
    ]

    def __init__(self, companion, *, highlight: str | None = None, restored: RestoredHere | None = None) -> None:
        super().__init__(companion)
        self.highlight = highlight
        self.restored = restored  # just restored from a backup: said once shown
        self._age_due = self._age_read = False  # the backup line: a read is scheduled / was made
        self.records: dict[str, SessionRecord] = {}
        self._order: list[str] = []  # the rows' topics, top to bottom
        self._rows: dict[str, tuple[str, ...]] = {}  # each row's text as on screen, by topic
        self.registry = Registry()  # the bundled names until reload reads the user's additions too

    def compose(self) -> ComposeResult:
        yield Static("Sessions", id="sessions-title")
        yield keyed_table(COLUMNS, id="sessions")
        yield Static("No sessions yet — press n to pair a phone", id="sessions-empty")
        yield Static("", id="sessions-backup", markup=False)
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(1, self._tick)
        self.watch(self.query_one(DataTable), "scroll_y", lambda _: self._tick(), init=False)
        self.walletsync_app.session_events.subscribe(self, self._on_companion_event)
        if self.restored is not None:
            self.app.push_screen(RestoredScreen(self.restored), self._restored_closed)
            self.restored = None

    def _restored_closed(self, join: bool | None) -> None:
        if join:
            self.action_join()

    # --- the table ---------------------------------------------------------------------------

    @work(exclusive=True, group="sessions-reload", exit_on_error=False)
    async def reload(self, highlight: str | None = None) -> None:
        """Re-read the sessions off the event loop; keep (or move) the cursor to ``highlight``, else the current row.

        Rows already shown have only their changed cells rewritten, and new rows are added a screenful
        at a time with a frame between: thousands of sessions paint their first rows at once, and an
        event about one session does not rebuild them all."""
        self.highlight = highlight or self.highlight  # survives a reload that a newer one cancels
        keep = self.highlight or self.current_topic()
        self.registry = await asyncio.to_thread(self._read_registry)
        if not self._order:  # an empty table: a screenful first, read and shown before the rest is read
            first = await asyncio.to_thread(lambda: (self.companion.sessions(FILL_STEP), self.companion.requests()))
            await self._fill(*first, keep)
        await self._fill(*await asyncio.to_thread(lambda: (self.companion.sessions(), self.companion.requests())), keep)
        self.highlight = None
        self._backup_age_soon()

    def _backup_age_soon(self) -> None:
        """Re-read the backup line after the sessions: at once the first time, then at most once a second (a burst of
        events reloads the table many times; the line needs one look), never on the clock's tick."""
        if self._age_due:
            return
        self._age_due = True
        if self._age_read:
            self.set_timer(AGE_DELAY, self._backup_age_now)
        else:
            self.call_later(self._backup_age_now)

    def _backup_age_now(self) -> None:
        self._age_due, self._age_read = False, True
        self.run_worker(self._read_backup_age(), group="sessions-backup-age", exclusive=True, exit_on_error=False)

    async def _read_backup_age(self) -> None:
        """The quiet backup line (a few indexed reads of the audit log, off the event loop)."""
        age = await asyncio.to_thread(self.companion.backup_age)
        warning = age_warning(age, self.companion.clock(), bool(self.records))
        line = self.query_one("#sessions-backup", Static)
        line.update(warning or "")
        line.display = warning is not None

    def on_screen_resume(self) -> None:
        """Back from the Backup screen (or any other): a backup may have been made there."""
        if self._age_read:
            self._backup_age_now()

    def _read_registry(self) -> Registry:
        """The registry, its bundled lists read here (off the event loop) by a first lookup."""
        registry = self.companion.registry()
        registry.chain("eip155:1")
        return registry

    async def _fill(self, sessions: list[SessionRecord], requests: list[RequestRecord], keep: str | None) -> None:
        table = self.query_one(DataTable)
        now = self.companion.clock()
        waiting = Counter(r.topic for r in requests if is_waiting(r, now))
        fresh = {r.topic: r for r in sessions}
        if list(fresh)[: len(self._order)] != self._order:  # a row gone or moved (not the usual case): start again
            table.clear()
            self._order, self._rows = [], {}
        self.records = fresh
        for topic in self._order:
            self._show(table, topic, self._cells(fresh[topic], now, waiting[topic]))
        self.query_one("#sessions-empty").display = not fresh
        for n, record in enumerate(sessions[len(self._order) :], start=1):
            cells = self._cells(record, now, waiting[record.topic])
            table.add_row(*cells, key=record.topic)
            self._rows[record.topic] = tuple(str(c) for c in cells)
            self._order.append(record.topic)
            if n % FILL_STEP == 0:
                self._keep_cursor(table, keep)
                await asyncio.sleep(0)  # a frame: show what is there, stay responsive
        self._keep_cursor(table, keep)

    def _keep_cursor(self, table: DataTable, keep: str | None) -> None:
        if keep is not None and keep in self._rows and self.current_topic() != keep:
            table.move_cursor(row=table.get_row_index(keep))

    def _cells(self, record: SessionRecord, now: float, pending: int) -> tuple[str | Text, ...]:
        """One row's cells, in ``COLUMNS`` order."""
        peer = record.peer or {}
        expires, status, ping = self._live_text(record, now)
        return (
            plain(record.name, MAX_CELLS),
            Text(peer_name(record)),
            clip(site_of(str(peer.get("url") or "")), 40),
            clip(", ".join(dict.fromkeys(short_account(a) for a in record.accounts)), 60),
            fit(first_chain(record, self.registry), 24),
            expires,
            plain(status),
            str(pending or "—"),
            ping,
        )

    def _show(self, table: DataTable, topic: str, cells: tuple[str | Text, ...]) -> None:
        """Rewrite the cells of a shown row whose text differs from what is on screen."""
        texts = tuple(str(c) for c in cells)
        shown_texts = self._rows[topic]
        if texts == shown_texts:
            return
        self._rows[topic] = texts
        for (column, _), cell, text, was in zip(COLUMNS, cells, texts, shown_texts):
            if text != was:
                table.update_cell(topic, column, cell)

    @staticmethod
    def _live_text(record: SessionRecord, now: float) -> tuple[str, str, str]:
        """The cells that change with the clock: expires, status and last ping."""
        expires = expires_in(record.expiry - now) if record.status == "active" else "—"
        return expires, session_state(record, now), ago(None if record.last_ping is None else now - record.last_ping)

    def _tick(self) -> None:
        """Bring the clock's cells up to date in the rows on screen, rewriting only a cell whose text changed.

        Rows off screen catch up when scrolled into view (this runs on scrolling too): with thousands of
        sessions, rewriting every row each second kept a core busy while the user did nothing."""
        table = self.query_one(DataTable)
        now = self.companion.clock()
        first = max(0, int(table.scroll_y))
        for topic in self._order[first : first + table.size.height + 1]:
            row = self._rows[topic]
            expires, status, ping = self._live_text(self.records[topic], now)
            if (expires, status, ping) != (row[LIVE[0]], row[LIVE[1]], row[LIVE[2]]):
                cells: list[str | Text] = list(row)
                cells[LIVE[0]], cells[LIVE[1]], cells[LIVE[2]] = expires, plain(status), ping
                self._show(table, topic, tuple(cells))

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
            what = f"{shown(event.name, 40)} on {chain_label(self.registry, event.chain_id, 40)} → {phone_data(event.data)}"
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
