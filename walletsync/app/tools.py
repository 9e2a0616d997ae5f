"""Serving a session to tools from the app: the endpoints the App owns, and what the detail screen shows of them.

The App keeps one :class:`ToolEndpoint` per served session (it keeps serving when the detail screen is left, and
stops when the app quits); the bridge's reports come back as messages and fill its :class:`BridgedRow` list.
Everything a client sent (its User-Agent, its methods, its errors) is data: escaped, never markup.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from walletsync.bridge.events import BridgeEvent, Client, PhoneAsked, RequestHandled
from walletsync.bridge.hints import hints
from walletsync.errors import WalletsyncError
from walletsync.redact import url_shown
from walletsync.text import shown

if TYPE_CHECKING:
    from walletsync.bridge.guard import Refusal
    from walletsync.bridge.serving import Listening
    from walletsync.service import Companion

PORTS = (8545, 0)
"""The port tools expect first; when it is in use, a free one (the app says so)."""
ROWS = 8
"""Bridged requests shown at most, newest first (a repeat of the one before is counted on its row)."""
ASKING = "asking the phone…"


class ToolsError(WalletsyncError):
    """Serving to tools cannot start (said as the app's error notification)."""

    code = "rpc"


class Endpoint(Protocol):
    """A started endpoint: where it listens, and how to stop it."""

    listening: Listening | None

    async def ended(self) -> WalletsyncError: ...

    async def close(self) -> None: ...


Report = Callable[[BridgeEvent], None]
OnRefused = Callable[["Refusal", dict[str, Any]], None]
StartEndpoint = Callable[[str, Report, OnRefused], Awaitable[Endpoint]]
"""Start session ``ref``'s endpoint, reporting to the callbacks; raises what :class:`Serving.start` raises."""


def serving_of(companion: Companion) -> StartEndpoint:
    """The real thing: :class:`~walletsync.bridge.serving.Serving` on 127.0.0.1, port 8545 or a free one."""

    async def start(ref: str, report: Report, on_refused: OnRefused) -> Endpoint:
        from walletsync.bridge.serving import NoUpstream, Serving  # aiohttp: loaded when the first endpoint starts

        serving = Serving(companion, ref, report=report, on_refused=on_refused, ports=PORTS)
        try:
            await serving.start()
        except NoUpstream as exc:
            raise ToolsError(
                f"no RPC node known for {exc.chain} to read from and fill transactions: add one with "
                f"'walletsync chains rpc {exc.chain} add URL'"
            ) from None
        return serving

    return start


@dataclass(frozen=True)
class BridgedRow:
    """One line of the detail's bridged requests: when, from whom, what, how it ended (``times`` repeats)."""

    at: float
    client: Client
    method: str
    outcome: str
    times: int = 1


@dataclass
class ToolEndpoint:
    """One served session: its endpoint and the last requests it handled."""

    endpoint: Endpoint
    rows: deque[BridgedRow] = field(default_factory=lambda: deque(maxlen=ROWS))

    @property
    def listening(self) -> Listening:
        assert self.endpoint.listening is not None
        return self.endpoint.listening

    def asked(self, event: PhoneAsked, now: float) -> None:
        """A request on its way to the phone: a row that says so until it is answered."""
        self._add(BridgedRow(now, event.client, event.method, ASKING))

    def handled(self, event: RequestHandled, now: float) -> None:
        """A request answered: the row that was asking the phone for it, else a new one."""
        outcome = outcome_text(event)
        for i, row in enumerate(self.rows):
            if row.outcome == ASKING and row.method == event.method and row.client == event.client:
                self.rows[i] = replace(row, at=now, outcome=outcome)
                return
        self._add(BridgedRow(now, event.client, event.method, outcome))

    def refused(self, client: dict[str, Any], message: str, now: float) -> None:
        who = Client(client.get("peer"), client.get("user_agent"), client.get("transport") or "http")
        self._add(BridgedRow(now, who, "—", f"refused: {message}"))

    def _add(self, row: BridgedRow) -> None:
        last = self.rows[0] if self.rows else None
        if last is not None and (last.client.user_agent, last.method, last.outcome) == (
            row.client.user_agent,
            row.method,
            row.outcome,
        ):
            self.rows[0] = replace(row, times=last.times + 1)  # a tool polling (a receipt, a block): one row
        else:
            self.rows.appendleft(row)


def outcome_text(event: RequestHandled) -> str:
    if event.error is None:
        return event.outcome
    return f"error {event.error.get('code')} {event.error.get('message')}"


def tool_name(client: Client) -> str:
    """The tool as its User-Agent names itself (``web3.py/7.1`` → ``web3.py``), else where it connected from. As the
    client wrote it: escape it where it is shown."""
    agent = (client.user_agent or "").strip()
    name = agent.split("/")[0].split()[0] if agent else ""
    return name or client.peer or "a client"


def served_text(tools: ToolEndpoint, chain: str) -> str:
    """Where it listens, the chain (by name), the upstream node, then how to point each tool at it."""
    listening = tools.listening
    return (
        f"Serving    {listening.url} (and {listening.ws}) · t stops it\n"
        f"Chain      {chain} · accounts {shown(', '.join(listening.accounts) or 'none')}\n"
        f"Upstream   {shown(url_shown(listening.upstream), 100)}\n"
        f"{shown_hints(listening)}"
    )


def shown_hints(listening: Listening) -> str:
    return "\n".join(shown(line) for line in hints(listening.url, listening.accounts).splitlines())


def asks_text(event: PhoneAsked) -> str:
    """The notification for a request on its way to the phone: who asks, what, and what it would do."""
    preview = event.preview
    decoded = getattr(preview, "decoded", None)
    what = f": {shown(decoded.summary, 120)}" if decoded is not None else ""
    refusal = getattr(preview, "refusal", None)
    refused = f" (a policy will refuse it: {shown(refusal.rule)})" if refusal is not None else ""
    return f"{shown(tool_name(event.client), 24)} asks the phone: {shown(event.method)}{what}{refused}"


def altered_text(hash_: str, differences: list[dict[str, Any]]) -> str:
    changed = "; ".join(
        f"{shown(d.get('field'))} asked {shown(d.get('asked'), 40)}, mined {shown(d.get('mined'), 40)}"
        for d in differences
    )
    return f"The phone sent {shown(hash_)} other than asked: {changed}"
