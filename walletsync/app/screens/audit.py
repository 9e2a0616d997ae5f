"""The audit log: every signed row, newest first, filtered by session and kind, and a check of the whole chain."""

from __future__ import annotations

import asyncio
import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Label, Select, Static

from walletsync.app.format import audit_details, clip, fit, plain
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.app.widgets.table import keyed_table
from walletsync.service import AuditEntry, AuditVerdict, Registry
from walletsync.service import events as ev
from walletsync.text import shown as escaped

COLUMNS = (
    ("seq", "#"),
    ("time", "Time (UTC)"),
    ("kind", "Event"),
    ("session", "Session"),
    ("hash", "Hash"),
    ("details", "Details"),
)
ROW_LIMIT = 500
"""Rows shown at most (newest first): a table of thousands costs the UI ~30 ms per thousand on every refresh."""
FIXED_COLUMNS_WIDTH = 85  # the widest seq, time, event, session and hash cells, with padding and a scrollbar


def utc(ts_ms: int) -> str:
    """Audit rows carry unix milliseconds; UTC reads the same on every machine the log is exported to."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts_ms / 1000))


def verdict_text(verdict: AuditVerdict) -> str:
    if verdict.ok:
        return f"Chain intact: {verdict.entries} {'entry' if verdict.entries == 1 else 'entries'}, signed head matches"
    bad = verdict.first_bad or {}
    where = f"entry {bad['seq']}" if bad.get("seq") is not None else "an entry"
    return f"Chain BROKEN at {where}: {bad.get('reason', 'unknown reason')} ({verdict.entries} entries checked)"


class AuditScreen(CompanionScreen):
    """Shows the audit chain, kept current from the companion's events; ``session`` (a topic) preselects a filter."""

    TITLE = "Audit log"
    BINDINGS = [
        Binding("v", "verify", "Verify chain", id="audit.verify"),
        Binding("escape", "app.pop_screen", "Back", id="audit.back"),
    ]

    def __init__(self, companion, *, session: str | None = None) -> None:
        super().__init__(companion)
        self.session = session
        self.entries: list[AuditEntry] = []
        self.names: dict[str, str] = {}
        self.registry = Registry()
        self.offered: dict[str | None, list] = {}

    def compose(self) -> ComposeResult:
        yield Static("Audit log", id="audit-title")
        with Horizontal(id="audit-filters"):
            yield Label("Session")
            yield Select[str]([], prompt="All sessions", id="audit-session")
            yield Label("Event")
            yield Select[str]([], prompt="All events", id="audit-kind")
        yield Static("", id="audit-verdict", markup=False)
        yield keyed_table(COLUMNS, id="audit")
        yield Static("Reading the log…", id="audit-empty")
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.reload(preselect=self.session)
        self.walletsync_app.session_events.subscribe(self, self._on_companion_event)

    def _on_companion_event(self, event: ev.Event) -> None:
        self.reload()

    @work(exclusive=True, group="audit-reload", exit_on_error=False)
    async def reload(self, preselect: str | None = None) -> None:
        """Re-read the log and the session names off the event loop; the filters keep their choice."""
        self.entries, self.names, self.registry = await asyncio.to_thread(self._read)
        self._offer(
            self.query_one("#audit-session", Select), [(plain(name, 40), topic) for topic, name in self.names.items()]
        )
        kinds = sorted({e.kind for e in self.entries})
        self._offer(self.query_one("#audit-kind", Select), [(kind.replace("_", " "), kind) for kind in kinds])
        if preselect in self.names:
            self.query_one("#audit-session", Select).value = preselect
        self.show_rows()

    def _read(self) -> tuple[list[AuditEntry], dict[str, str], Registry]:
        registry = self.companion.registry()
        registry.chain("eip155:1")  # the bundled lists read here, off the event loop
        return self.companion.audit_entries(), {s.topic: s.name for s in self.companion.sessions()}, registry

    def _offer(self, select: Select, options: list[tuple[Text | str, str]]) -> None:
        """New options for a filter when they changed, keeping its value (set_options resets it)."""
        if self.offered.get(select.id) == options:
            return
        self.offered[select.id] = options
        chosen = select.value
        select.set_options(options)
        if any(value == chosen for _, value in options):
            select.value = chosen

    def on_select_changed(self) -> None:
        self.show_rows()

    def show_rows(self) -> None:
        session, kind = (self.query_one(f"#audit-{name}", Select).selection for name in ("session", "kind"))
        table = self.query_one(DataTable)
        keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
        table.clear()
        width = max(self.app.size.width - FIXED_COLUMNS_WIDTH, 24)
        matching = [e for e in reversed(self.entries) if session in (None, e.session) and kind in (None, e.kind)]
        for entry in matching[:ROW_LIMIT]:
            name = self.names.get(entry.session, entry.session[:8]) if entry.session else "—"
            table.add_row(
                str(entry.seq),
                utc(entry.ts),
                entry.kind.replace("_", " "),
                clip(name, 16),
                entry.hash()[:10],
                fit(audit_details(entry, self.registry), width),
                key=str(entry.seq),
            )
        note = self.query_one("#audit-empty", Static)
        if not matching:
            note.update("The audit log is empty." if not self.entries else "No entries match these filters.")
        elif len(matching) > ROW_LIMIT:
            note.update(
                f"Showing the newest {ROW_LIMIT} of {len(matching)} entries: filter them, or `walletsync audit export` for all."
            )
        note.display = not matching or len(matching) > ROW_LIMIT
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))

    def action_verify(self) -> None:
        verdict = self.query_one("#audit-verdict", Static)
        verdict.update(f"Verifying {len(self.entries)} entries…")
        verdict.set_classes("-checking")
        self.verify()

    @work(exclusive=True, group="audit-verify", exit_on_error=False)
    async def verify(self) -> None:
        """Checking every signature takes a while on a long log: off the event loop."""
        shown = self.query_one("#audit-verdict", Static)
        try:
            verdict = await asyncio.to_thread(self.companion.verify_audit)
        except Exception as exc:  # the line must not keep saying "Verifying…"; the notification says why too
            shown.update(escaped(f"Could not verify the log: {exc}"))
            shown.set_classes("-broken")
            raise
        shown.update(verdict_text(verdict))
        shown.set_classes("-ok" if verdict.ok else "-broken")
        bad = (verdict.first_bad or {}).get("seq")
        table = self.query_one(DataTable)
        if bad is not None and str(bad) in table.rows:
            table.move_cursor(row=table.get_row_index(str(bad)))
