"""One session up close: peer, expiry, scopes, its policy, the requests sent to it with their verdicts, and its audit
trail; ``t`` serves it to tools (cast, forge, web3.py, ethers) and shows where, and what they asked."""

from __future__ import annotations

import asyncio
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from walletsync.app.decoded import policy_text
from walletsync.app.format import (
    ago,
    audit_details,
    chain_label,
    clip,
    expires_in,
    fit,
    is_waiting,
    no_requests,
    plain,
    session_state,
    short_account,
)
from walletsync.app.screens.audit import AuditScreen
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.screens.modals import ConfirmScreen
from walletsync.app.screens.policy_form import PolicyFormScreen
from walletsync.app.screens.request import RequestScreen
from walletsync.app.tools import PORTS, served_text, tool_name
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.app.widgets.table import keyed_table
from walletsync.service import AuditEntry, PolicyView, Registry, RequestRecord, SessionRecord, StoreChanged
from walletsync.service import events as ev
from walletsync.text import shown

REQUEST_COLUMNS = (
    ("method", "Method"),
    ("chain", "Chain"),
    ("sent", "Sent"),
    ("state", "State"),
    ("recovered", "Recovered"),
    ("reason", "Reason"),
)
TRAIL_ROWS = 100
"""Audit rows shown here at most, newest first; the audit screen (``a``) has the whole trail."""
AUDIT_COLUMNS = (("when", "When"), ("kind", "Event"), ("details", "Details"))
BRIDGED_COLUMNS = (("when", "When"), ("client", "Client"), ("method", "Method"), ("outcome", "Outcome"))


def request_state(request: RequestRecord, now: float) -> str:
    """What became of a request: waiting (with its countdown), verified, failed, rejected, expired or cancelled."""
    if request.status == "pending":
        return f"waiting · {expires_in(request.expiry - now)}" if is_waiting(request, now) else "expired"
    if request.status in ("answered", "late"):
        verdict = "verified" if (request.verdict or {}).get("verified") else "failed"
        return f"{verdict} (late)" if request.status == "late" else verdict
    return request.status


def request_reason(request: RequestRecord) -> str:
    """Why the state is what it is: the verdict's reason, or the phone's error."""
    if request.error:
        return shown(f"{request.error.get('message')} (code {request.error.get('code')})")
    return shown((request.verdict or {}).get("reason") or "—")


def scopes_text(record: SessionRecord, registry: Registry) -> str:
    """The granted scopes, one namespace after the other, its chains by name."""
    lines: list[str] = []
    for namespace, scope in sorted(record.namespaces.items()):
        lines.append(shown(namespace))
        for field in ("chains", "methods", "events", "accounts"):
            values = scope.get(field) or []
            if field == "chains":
                text = ", ".join(chain_label(registry, c) if isinstance(c, str) else shown(c) for c in values)
            else:
                text = shown(", ".join(map(str, values)))
            lines.append(f"  {field:<9} {text or '—'}")
    if record.beyond_request:
        lines.append(f"beyond your request: {record.beyond_request.summary()}")
    return "\n".join(lines) or "no scopes granted"


class SessionDetailScreen(CompanionScreen):
    """Everything about one session, kept current from the companion's events. Peer data is shown as plain text."""

    BINDINGS = [
        Binding("s", "new_request", "New request", id="detail.request"),
        Binding("t", "serve_tools", "Serve to tools", id="detail.serve-tools"),
        Binding("t", "stop_tools", "Stop serving", id="detail.stop-tools"),
        Binding("a", "audit", "Audit log", id="detail.audit"),
        Binding("p", "set_policy", "Set policy", id="detail.set-policy"),
        Binding("x", "clear_policy", "Clear policy", id="detail.clear-policy"),
        Binding("escape", "app.pop_screen", "Back", id="detail.back"),
    ]

    def __init__(self, companion, topic: str) -> None:
        super().__init__(companion)
        self.topic = topic
        self.record: SessionRecord | None = None
        self.requests: list[RequestRecord] = []
        self.registry = Registry()
        self.policy: PolicyView | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title", markup=False)
        with VerticalScroll(id="detail"):
            yield Static(id="detail-summary", markup=False)
            yield Static("Serving to tools", classes="detail-heading detail-tools")
            yield Static(id="detail-tools", classes="detail-tools", markup=False)
            yield keyed_table(BRIDGED_COLUMNS, id="detail-bridged").set_classes("detail-tools")
            yield Static("Scopes", classes="detail-heading")
            yield Static(id="detail-scopes", markup=False)
            yield Static("Policy", classes="detail-heading")
            yield Static(id="detail-policy", markup=False)
            yield Static("Requests", classes="detail-heading")
            yield keyed_table(REQUEST_COLUMNS, id="detail-requests")
            yield Static("Audit trail", classes="detail-heading", id="detail-audit-heading")
            yield keyed_table(AUDIT_COLUMNS, id="detail-audit")
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(1, self._tick)
        self.walletsync_app.session_events.subscribe(self, self._on_companion_event)
        self.walletsync_app.tools_changed.subscribe(self, self._on_tools_changed)
        self._show_tools()

    def _on_companion_event(self, event: ev.Event) -> None:
        if getattr(event, "topic", None) == self.topic or isinstance(event, StoreChanged):
            self.reload()

    def _on_tools_changed(self, topic: str) -> None:
        if topic == self.topic:
            self._show_tools()

    def _show_tools(self) -> None:
        """The endpoint serving this session, if any: where, the chain, the upstream, the hints, what was asked."""
        served = self.walletsync_app.tools.get(self.topic)
        self.set_class(served is not None, "-serving")
        self.refresh_bindings()
        if served is None:
            return
        now = self.companion.clock()
        chain = chain_label(self.registry, served.listening.chain)
        self.query_one("#detail-tools", Static).update(served_text(served, chain))
        table = self.query_one("#detail-bridged", DataTable)
        table.clear()
        for n, row in enumerate(served.rows):
            table.add_row(
                ago(now - row.at),
                clip(f"{tool_name(row.client)} · {row.client.peer or '?'}", 36),
                clip(row.method + (f" ×{row.times}" if row.times > 1 else ""), 32),
                clip(row.outcome, 60),
                key=str(n),
            )

    @work(exclusive=True, group="detail-reload", exit_on_error=False)
    async def reload(self) -> None:
        """Re-read the session, its requests and its audit trail, off the event loop."""
        self.record, self.requests, entries, self.registry, self.policy = await asyncio.to_thread(self._read)
        if self.record is None:
            self.query_one("#detail-title", Static).update(f"Unknown session {self.topic[:8]}…")
            return
        now = self.companion.clock()
        self.query_one("#detail-title", Static).update(shown(self.record.name))
        self.query_one("#detail-scopes", Static).update(scopes_text(self.record, self.registry))
        self._show_policy()
        self._show_summary(now)
        self._show_tools()  # its chain by name, now the registry is read
        requests = self.query_one("#detail-requests", DataTable)
        requests.clear()
        for request in reversed(self.requests):
            recovered = (request.verdict or {}).get("recovered")
            requests.add_row(
                clip(request.method or "?", 24),
                fit(chain_label(self.registry, request.chain_id, 28) if request.chain_id else "—", 28),
                ago(now - request.created_at),
                request_state(request, now),
                plain(short_account(recovered)) if recovered else "—",
                clip(request_reason(request), 40),
                key=str(request.id),
            )
        audit = self.query_one("#detail-audit", DataTable)
        audit.clear()
        heading = (
            f"Audit trail (the newest {TRAIL_ROWS} of {len(entries)}: a shows them all)"
            if len(entries) > TRAIL_ROWS
            else "Audit trail"
        )
        self.query_one("#detail-audit-heading", Static).update(heading)
        for entry in entries[: -TRAIL_ROWS - 1 : -1]:
            audit.add_row(
                ago(now - entry.ts / 1000),
                entry.kind.replace("_", " "),
                fit(audit_details(entry, self.registry), 84),
                key=str(entry.seq),
            )

    def _read(
        self,
    ) -> tuple[SessionRecord | None, list[RequestRecord], list[AuditEntry], Registry, PolicyView | None]:
        record = next((s for s in self.companion.sessions() if s.topic == self.topic), None)
        registry = self.companion.registry()
        registry.chain("eip155:1")  # the bundled lists read here, off the event loop
        policy = self.companion.policy(self.topic) if record is not None else None
        return record, self.companion.requests(self.topic), self.companion.audit_entries(self.topic), registry, policy

    def _show_policy(self) -> None:
        """The session's own policy and the all-sessions one, what to run to change them, the file's state."""
        if self.policy is None or self.record is None:
            return
        hint = f"p sets it here, or: walletsync policy set {shown(self.record.name, 40)} … (policy set --help)"
        if self.policy.own is not None:
            hint += "; x clears it"
        box = self.query_one("#detail-policy", Static)
        box.update(policy_text(self.policy, self.registry, hint))
        box.set_class(self.policy.status.problem is not None, "-unattested")
        self.refresh_bindings()

    def _show_summary(self, now: float) -> None:
        record = self.record
        assert record is not None
        peer: dict[str, Any] = record.peer or {}
        status = session_state(record, now)
        expiry = f" · expires in {expires_in(record.expiry - now)}" if status == "active" else ""
        waiting = sum(is_waiting(r, now) for r in self.requests)
        self.query_one("#detail-summary", Static).update(
            f"Peer       {shown(peer.get('name') or '?', 80)} · {shown(peer.get('url') or 'no URL', 120)}\n"
            f"Status     {status}{expiry} · last ping {ago(None if record.last_ping is None else now - record.last_ping)}"
            f" · {waiting or 'no'} pending request{'' if waiting == 1 else 's'}\n"
            f"Topic      {record.topic}"
        )
        self.set_class(status != "active", "-ended")

    def _tick(self) -> None:
        if self.record is None:
            return
        now = self.companion.clock()
        self._show_summary(now)
        table = self.query_one("#detail-requests", DataTable)
        for request in self.requests:
            if request.status == "pending":
                table.update_cell(str(request.id), "state", request_state(request, now))

    def action_new_request(self) -> None:
        if self.record is None:
            return
        if (why := no_requests(self.record, self.companion.clock())) is not None:
            self.notify(why, title="No new request", severity="warning", markup=False)
            return
        self.app.push_screen(RequestScreen(self.companion, self.record))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``x`` is offered only while the session has a policy of its own; ``t`` serves to tools, or stops serving
        (dimmed while it starts)."""
        if action == "clear_policy":
            return self.policy is not None and self.policy.own is not None
        if action in ("serve_tools", "stop_tools"):
            tools = self.walletsync_app
            serving = self.topic in tools.tools
            if action == "stop_tools":
                return serving
            return False if serving else (None if self.topic in tools.tools_starting else True)
        return True

    def action_serve_tools(self) -> None:
        self.serve_tools()

    @work(group="detail-tools", exit_on_error=False)
    async def serve_tools(self) -> None:
        """Start this session's endpoint (the App's: it serves on when this screen is left)."""
        served = await self.walletsync_app.start_tools(self.topic)
        url = served.listening.url
        if served.listening.port != PORTS[0]:
            busy = f"127.0.0.1:{PORTS[0]} is in use (another node?): serving on {url} instead"
            self.notify(busy, title="Serving to tools", severity="warning", timeout=10, markup=False)
        else:
            self.notify(f"Serving {shown(served.listening.session)} at {url}", title="Serving to tools", markup=False)

    def action_stop_tools(self) -> None:
        if self.walletsync_app.stop_tools(self.topic) is not None:
            self.notify("Stopped serving to tools", markup=False)

    def action_set_policy(self) -> None:
        """The session's own policy as a form (:class:`PolicyFormScreen`), saved through the service."""
        if self.record is None or self.policy is None:
            return
        topic = self.topic

        def save(limits: dict[str, Any]) -> PolicyView:
            return self.companion.set_policy(topic, **limits)

        def saved(view: PolicyView | None) -> None:
            if view is not None:
                self.notify("Policy saved", markup=False)
                self.reload()

        form = PolicyFormScreen(self.record.name, self.policy.own, self.policy.status.problem, save)
        self.app.push_screen(form, saved)

    def action_clear_policy(self) -> None:
        """Remove this session's own policy (the all-sessions one stays), after a yes."""
        if self.record is None or self.policy is None or self.policy.own is None:
            self.notify("This session has no policy of its own to clear", severity="warning")
            return
        question = f"Clear the policy of '{shown(self.record.name)}'? Its limits stop applying at once."

        def answered(yes: bool | None) -> None:
            if yes:
                self.clear_policy()

        self.app.push_screen(ConfirmScreen(question, "Clear"), answered)

    @work(group="detail-policy", exit_on_error=False)
    async def clear_policy(self) -> None:
        await asyncio.to_thread(self.companion.clear_policy, self.topic)
        self.notify("Policy cleared", markup=False)
        self.reload()

    def action_audit(self) -> None:
        """The log filtered to this session (the app's own ``a`` shows it all)."""
        self.app.push_screen(AuditScreen(self.companion, session=self.topic))
