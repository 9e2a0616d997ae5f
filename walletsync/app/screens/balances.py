"""Balances: every account's figures on its chains, where each came from and how fresh it is.

The last figures read show at once (with their age; stale once old) while a worker reads fresh ones, so the
screen never waits on an RPC; ``r`` reads every figure again, ``z`` shows or hides token balances of 0. A chain no
RPC answered is one line, not one per token. RPC URLs, labels and errors are data: escaped, never markup.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Static

from walletsync.app.format import plain
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.app.widgets.table import keyed_table
from walletsync.redact import url_shown
from walletsync.service import Registry
from walletsync.text import shown

if TYPE_CHECKING:
    from walletsync.service import BalanceRow

COLUMNS = (
    ("account", "Account"),
    ("label", "Label"),
    ("chain", "Chain"),
    ("asset", "Asset"),
    ("amount", "Amount"),
    ("status", "Status"),
    ("age", "Age"),
    ("note", "Note"),
    ("rpc", "RPC"),
    ("block", "Block"),
)
"""What a status leaves out (the note) right after it; RPCs named by their host. The highlighted row's detail under
the table has it all in full."""
MARKS = {"ok": "✓ ok", "stale": "◷ stale", "unreachable": "✗ unreachable", "disagree": "≠ disagree"}
"""A status with a mark: readable without colour."""
LABEL_CELLS, CHAIN_CELLS, AMOUNT_CELLS, RPC_CELLS, NOTE_CELLS = 18, 16, 24, 28, 44
NONE = "No accounts yet: pair a phone (n), or watch an address with 'walletsync watch add ADDRESS'."


class BalancesScreen(CompanionScreen):
    """The balance table, its state line (cached, reading, read) above it."""

    TITLE = "Balances"
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="balances.refresh"),
        Binding("z", "zeros", "Zeros", id="balances.zeros"),
        Binding("escape", "app.pop_screen", "Back", id="balances.back"),
    ]

    reading: reactive[bool] = reactive(False)
    show_zeros: reactive[bool] = reactive(False)

    def __init__(self, companion) -> None:
        super().__init__(companion)
        self.rows: list[BalanceRow] = []
        self.lines: list[BalanceRow] = []  # the rows as the table shows them (a chain no RPC answered: its first)
        self.fresh = False  # the rows were read by this screen (not only the cache)
        self.registry = Registry()

    def compose(self) -> ComposeResult:
        yield Static("Balances", id="balances-title")
        yield Static("", id="balances-state", markup=False)
        yield keyed_table(COLUMNS, id="balances")
        yield Static("", id="balances-detail", markup=False)
        yield Static(NONE, id="balances-empty", markup=False)
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.query_one("#balances-empty").display = False
        self.load(refresh=False)

    def action_refresh(self) -> None:
        self.load(refresh=True)

    def action_zeros(self) -> None:
        self.show_zeros = not self.show_zeros

    def watch_show_zeros(self) -> None:
        self._fill()

    def watch_reading(self, reading: bool) -> None:
        self.query_one("#balances-state").set_class(reading, "-reading")
        self._say()

    @work(exclusive=True, group="balances-read", exit_on_error=False)
    async def load(self, refresh: bool) -> None:
        """The cached figures first (read off the event loop), then the fresh ones from the RPCs."""
        self.reading = True
        try:
            self.registry = await asyncio.to_thread(self._read_registry)
            if not self.fresh:
                cached = await asyncio.to_thread(self.companion.cached_balances)
                if cached:
                    self.rows = cached
                    self._fill()
            self.rows = await self.companion.balances(refresh=refresh)
            self.fresh = True
            self._fill()
        finally:
            self.reading = False

    def _read_registry(self) -> Registry:
        registry = self.companion.registry()
        registry.chain("eip155:1")  # the bundled lists, read here rather than on the event loop
        return registry

    def _fill(self) -> None:
        from walletsync.service import by_chain  # the balance rules load when balances are shown

        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        self.lines = []
        for group in by_chain(self.rows):
            if len(group) > 1 and all(r.amount is None for r in group):
                self.lines.append(group[0])
                table.add_row(*self._cells(group[0], f"{group[0].asset.symbol} +{len(group) - 1} tokens"))
                continue
            for row in group:
                if self.show_zeros or not row.plain_zero:
                    self.lines.append(row)
                    table.add_row(*self._cells(row, row.asset.symbol))
        if table.row_count:
            table.move_cursor(row=min(max(keep, 0), table.row_count - 1))
        self._detail()
        self._say()

    def _cells(self, row: BalanceRow, asset: str) -> tuple[object, ...]:
        return (
            f"{row.account[:6]}…{row.account[-4:]}" if len(row.account) == 42 else plain(row.account, 20),
            plain(row.label, LABEL_CELLS) if row.label else "—",
            plain(self.registry.name(row.asset.chain) or row.asset.chain, CHAIN_CELLS),
            plain(asset, 20),
            plain(row.display() or "—", AMOUNT_CELLS),
            MARKS[row.status],
            age(row.age_s),
            plain(row.note(host), NOTE_CELLS),
            plain(host(row.rpc), RPC_CELLS) if row.rpc else "—",
            f"#{row.block}" if row.block is not None else "—",
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def _detail(self) -> None:
        """The highlighted row in full: its figure, block and RPC, and what its status means (URLs and errors whole)."""
        table = self.query_one(DataTable)
        detail = self.query_one("#balances-detail", Static)
        if not self.lines or not 0 <= table.cursor_row < len(self.lines):
            detail.update("")
            return
        detail.update(shown(describe(self.lines[table.cursor_row], self.registry), 600))

    def _say(self) -> None:
        """The state line: reading or read, and how the rows stand (and, once read, if there is nothing to show)."""
        self.query_one("#balances-empty").display = not self.rows and not self.reading
        counts = {status: sum(1 for r in self.lines if r.status == status) for status in MARKS}
        fell_back = sum(1 for r in self.lines if r.fallback_from and r.amount is not None)
        cached = sum(1 for r in self.lines if r.cached)
        parts = [f"{n} {status}" for status, n in counts.items() if n]
        if fell_back:
            parts.append(f"{fell_back} fell back")
        if cached:
            parts.append(f"{cached} from the cache")
        zeros = sum(1 for r in self.rows if r.plain_zero)
        if zeros and not self.show_zeros:
            parts.append(f"{zeros} token balance{'s' if zeros != 1 else ''} of 0 hidden (z)")
        state = "Reading the chains… " if self.reading else ("Read now. " if self.fresh else "")
        self.query_one("#balances-state", Static).update(state + ", ".join(parts))


def age(seconds: int | None) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``; ``—`` without a block."""
    if seconds is None:
        return "—"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def describe(row: BalanceRow, registry: Registry) -> str:
    """One row as sentences: ``0.5 ETH on Base (eip155:8453) at block #22500000, 2s old, from https://… Disagree: …``."""
    where = registry.label(row.asset.chain)
    if row.amount is None:
        return f"No figure for {row.asset.symbol} on {where}: {row.error or 'no RPC answered'}."
    text = f"{row.display()} {row.asset.symbol} on {where} at block #{row.block}, {age(row.age_s)} old, from {url_shown(row.rpc or '')}."
    if row.cached:
        text += " The last figure read (cached)" + (f"; now: {row.error}." if row.error else ".")
    if row.status == "disagree" and row.other is not None:
        text += (
            f" Disagree: {url_shown(row.other.rpc or '')} says {row.to_json()['other']['display']} at the same block."
        )
    if row.fallback_from:
        text += f" Fell back: {', '.join(row.fallback_from)} did not answer."
    if row.status == "stale":
        text += " Stale: the block is older than the threshold (the node may have stopped; r reads again)."
    return text


def host(url: str) -> str:
    """An RPC named by its host (and port), what fits a column: ``polygon-rpc.com``; the URL if it has none."""
    return urlsplit(url).netloc or url
