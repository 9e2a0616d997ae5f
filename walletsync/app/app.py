"""The walletsync terminal app. Build it with :func:`build_app`; the CLI and the tests do the same."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.signal import Signal
from textual.widgets import Input, TextArea

from walletsync.app.clipboard import Copied, in_tmux, outside_tmux, through_tmux
from walletsync.app.format import peer_name
from walletsync.app.messages import BridgeRefused, BridgeReported, CompanionEventReceived, SessionPaired
from walletsync.app.screens.audit import AuditScreen
from walletsync.app.screens.backup import BackupScreen
from walletsync.app.screens.balances import BalancesScreen
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.screens.devices import DevicesScreen
from walletsync.app.screens.keys import KeysScreen, key_list
from walletsync.app.screens.pairing import PairingScreen
from walletsync.app.screens.sessions import SessionsScreen
from walletsync.app.tools import StartEndpoint, ToolEndpoint, ToolsError, altered_text, asks_text, serving_of
from walletsync.bridge.events import BridgeEvent, PhoneAsked, RequestHandled, TransactionAltered
from walletsync.service import Event, RelayStatusChanged, ScopeWidened, Status
from walletsync.text import shown

if TYPE_CHECKING:
    from walletsync.bridge.guard import Refusal
    from walletsync.service import CompanionAPI, RestoredHere


class WalletsyncApp(App[None]):
    """Pair phones and manage sessions. The companion must already be opened (and started, to go online).

    State flows down: ``link`` (relay status, read by the status bar), the
    ``session_events`` signal (every other companion event, read by screens) and the
    ``tools_changed`` signal (a session's endpoint for tools started, stopped or served a request: its topic).

    The endpoints serving sessions to tools (``tools``, by topic) are the App's: they keep serving on every
    screen and stop when the app quits. ``serve_tools`` starts one (None: this companion cannot).
    """

    CSS_PATH = "app.tcss"
    TITLE = "walletsync"
    BINDINGS = [
        Binding("n", "new_pairing", "New pairing", id="app.pair"),
        Binding("a", "audit", "Audit log", id="app.audit"),
        Binding("q", "quit", "Quit", id="app.quit"),
        # priority: a dialog stops every other app key. The footer shows "? Keys" where CompanionScreen declares ?
        # (up front); in a text field, which takes the ?, it shows "f1 Keys" instead.
        Binding("question_mark,f1", "keys", "Keys", priority=True, id="app.keys"),
        Binding(
            "ctrl+c",
            "interrupt",
            "Quit (copies instead while text is selected)",
            show=False,
            priority=True,
            id="app.interrupt",
        ),
    ]

    link: reactive[Status | None] = reactive(None)

    def __init__(self, companion: CompanionAPI, serve_tools: StartEndpoint | None = None) -> None:
        super().__init__()
        self.companion = companion
        self.session_events: Signal[Event] = Signal(self, "session-events")
        self.set_reactive(WalletsyncApp.link, companion.link_status)
        self.serve_tools = serve_tools
        self.tools: dict[str, ToolEndpoint] = {}
        self.tools_starting: set[str] = set()
        self.tools_changed: Signal[str] = Signal(self, "tools-changed")
        self._stopping: set[asyncio.Task[None]] = set()

    def on_mount(self) -> None:
        self.follow_companion()
        # First start opens on the pairing alone: an empty session list composed under it would delay the first frame.
        self.push_screen(
            SessionsScreen(self.companion) if self.companion.sessions(limit=1) else PairingScreen(self.companion)
        )

    @work(exclusive=True, group="companion-events", exit_on_error=False)
    async def follow_companion(self) -> None:
        async for event in self.companion.events():
            self.post_message(CompanionEventReceived(event))

    def on_companion_event_received(self, message: CompanionEventReceived) -> None:
        if isinstance(message.event, RelayStatusChanged):
            self.link = message.event.status
            return
        if isinstance(message.event, ScopeWidened):  # peer ids in it: data, never markup
            self.notify(message.event.message(), title="Scope widened", severity="warning", timeout=10, markup=False)
        self.session_events.publish(message.event)

    async def start_tools(self, topic: str) -> ToolEndpoint:
        """Serve session ``topic`` to tools (once: a served one is returned as it is); raises what starting raises."""
        if self.serve_tools is None:
            raise ToolsError("this companion cannot serve tools")
        if topic in self.tools:
            return self.tools[topic]

        def report(event: BridgeEvent) -> None:
            self.post_message(BridgeReported(topic, event))

        def refused(refusal: Refusal, client: dict[str, Any]) -> None:
            self.post_message(BridgeRefused(topic, refusal.message, client))

        self.tools_starting.add(topic)
        self.tools_changed.publish(topic)
        try:
            endpoint = await self.serve_tools(topic, report, refused)
        finally:
            self.tools_starting.discard(topic)
            self.tools_changed.publish(topic)
        self.tools[topic] = served = ToolEndpoint(endpoint)
        self.tools_changed.publish(topic)
        self.run_worker(self._stop_when_ended(topic, served), group=f"tools-{topic}")
        return served

    async def _stop_when_ended(self, topic: str, served: ToolEndpoint) -> None:
        """The session ended (the phone deleted it, it expired, revoked anywhere): its tools would only get errors now."""
        why = await served.endpoint.ended()
        if self.tools.get(topic) is served:
            self.stop_tools(topic)
            self.notify(f"Stopped serving it to tools: {shown(why)}", title="Tools", severity="warning", markup=False)

    def stop_tools(self, topic: str) -> asyncio.Task[None] | None:
        """Stop serving session ``topic``: no longer shown at once, closed by the task returned (None: not served)."""
        served = self.tools.pop(topic, None)
        if served is None:
            return None
        self.workers.cancel_group(self, f"tools-{topic}")
        task = asyncio.create_task(served.endpoint.close())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)
        self.tools_changed.publish(topic)
        return task

    async def on_unmount(self) -> None:
        """Quitting stops every endpoint (requests in flight get their two seconds)."""
        for topic in list(self.tools):
            self.stop_tools(topic)
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)

    def on_bridge_reported(self, message: BridgeReported) -> None:
        """A request for the phone is named in a notification wherever the user is; an altered transaction warned."""
        event, served, now = message.event, self.tools.get(message.topic), self.companion.clock()
        if isinstance(event, PhoneAsked):
            self.notify(asks_text(event), title="From your tools", timeout=10, markup=False)
            if served is not None:
                served.asked(event, now)
        elif isinstance(event, RequestHandled) and served is not None:
            served.handled(event, now)
        elif isinstance(event, TransactionAltered):
            self.notify(
                altered_text(event.hash, event.differences),
                title="Transaction altered",
                severity="warning",
                timeout=30,
                markup=False,
            )
        self.tools_changed.publish(message.topic)

    def on_bridge_refused(self, message: BridgeRefused) -> None:
        served = self.tools.get(message.topic)
        if served is not None:
            served.refused(message.client, message.message, self.companion.clock())
            self.tools_changed.publish(message.topic)

    def on_session_paired(self, message: SessionPaired) -> None:
        paired = f"Paired {shown(message.session.name)} (peer: {peer_name(message.session)})"
        self.notify(paired, title="Paired", markup=False)
        sessions = self.sessions_screen()
        if sessions is None:  # first start: the pairing is the bottom screen, and the list takes its place
            while len(self.screen_stack) > 2:
                self.pop_screen()
            self.switch_screen(SessionsScreen(self.companion, highlight=message.session.topic))
            return
        if isinstance(self.screen, PairingScreen):
            self.pop_screen()
        sessions.reload(highlight=message.session.topic)

    def show_restored(self, restored: RestoredHere) -> None:
        """A backup came back into this fresh device: the session list takes the pairing's place and says what came
        back (offering to join the backup's device group, if it was in one)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(SessionsScreen(self.companion, restored=restored))

    def sessions_screen(self) -> SessionsScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, SessionsScreen)), None)

    def action_close_pairing(self) -> None:
        """Back to the screen under the pairing; on first start that is the (empty) session list, made now."""
        if len(self.screen_stack) > 2:
            self.pop_screen()
        else:
            self.switch_screen(SessionsScreen(self.companion))

    def action_new_pairing(self) -> None:
        if not isinstance(self.screen, PairingScreen):
            self.push_screen(PairingScreen(self.companion))

    def action_devices(self) -> None:
        if not isinstance(self.screen, DevicesScreen):
            self.push_screen(DevicesScreen(self.companion))

    def action_balances(self) -> None:
        if not isinstance(self.screen, BalancesScreen):
            self.push_screen(BalancesScreen(self.companion))

    def action_backup(self) -> None:
        if not isinstance(self.screen, BackupScreen):
            self.push_screen(BackupScreen(self.companion))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "audit":  # not over a dialog, nor over the log itself
            return isinstance(self.screen, CompanionScreen) and not isinstance(self.screen, AuditScreen)
        # not over a dialog (whose own y/n may be off just now)
        if action in ("new_pairing", "devices", "balances", "backup"):
            return isinstance(self.screen, CompanionScreen)
        return True

    def action_audit(self) -> None:
        """The whole log, unfiltered (the session list's own ``a`` opens it on the highlighted session)."""
        self.push_screen(AuditScreen(self.companion))

    def action_keys(self) -> None:
        """Every key of the screen on top, read off it before the list covers it; pressed over the list, closes it."""
        if isinstance(self.screen, KeysScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(KeysScreen(key_list(self, self.screen)))

    def action_interrupt(self) -> None:
        """ctrl+c: people press it to leave, so it quits — unless text is selected, which it copies (as Textual does)."""
        focused = self.focused
        selected = focused.selected_text if isinstance(focused, (Input, TextArea)) else ""
        selected = selected or self.screen.get_selected_text() or ""
        if selected:
            self.copy("Selected text", selected)
        else:
            self.exit()

    def copy(self, what: str, text: str, note: str = "") -> None:
        """Put ``text`` on the clipboard and say how: ``what`` names it, ``note`` (a sentence) follows; never ``text``.

        OSC 52 always goes out (and the app keeps ``text`` for its own paste); inside tmux a worker then
        checks whether tmux passes it on, and hands it to tmux when it does not.
        """
        self.copy_to_clipboard(text)
        if in_tmux():
            self.copy_through_tmux(what, text, note)
        else:
            self._say_copied(outside_tmux(what), note)

    @work(group="clipboard", exit_on_error=False)
    async def copy_through_tmux(self, what: str, text: str, note: str) -> None:
        self._say_copied(await asyncio.to_thread(through_tmux, what, text), note)

    def _say_copied(self, copied: Copied, note: str = "") -> None:
        self.notify(
            f"{copied.how} {note}".strip(),
            title=copied.title,
            severity="information" if copied.sure else "warning",
            timeout=8,
            markup=False,
        )


def build_app(companion: CompanionAPI, serve_tools: StartEndpoint | None = None) -> WalletsyncApp:
    """The one factory for the app (CLI, tests, snapshots). A real companion serves its sessions to tools through
    :class:`~walletsync.bridge.serving.Serving`; a stand-in needs ``serve_tools`` for that."""
    from walletsync.service import Companion

    if serve_tools is None and isinstance(companion, Companion):
        serve_tools = serving_of(companion)
    return WalletsyncApp(companion, serve_tools)
