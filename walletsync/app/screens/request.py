"""Compose a signing request for one session, push it to the phone, and show what came back, verified or not."""

from __future__ import annotations

import asyncio
from typing import TypedDict

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Select, Static, TabbedContent, TabPane, TextArea

from walletsync.app.format import chain_label, expires_in, session_chains
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.errors import WalletsyncError
from walletsync.service import Registry, RequestOutcome, RequestTimeout, SessionRecord, read_input_file
from walletsync.service import events as ev
from walletsync.text import shown

TX_EXAMPLE = '{"to": "0x…", "value": "0x0", "data": "0x"}'


class Draft(TypedDict, total=False):
    """The request as :meth:`Companion.sign` takes it: exactly one of the three."""

    message: str
    typed_data: str
    tx: str


def outcome_view(outcome: RequestOutcome, registry: Registry) -> tuple[str, str]:
    """``(state, text)`` for an answer: a rejection is the phone's choice, shown as such, not as an error; a sent
    transaction with its explorer link."""
    if outcome.session_ended and outcome.error is not None:
        return (
            "ended",
            f"No answer: the session ended before the phone answered ({shown(outcome.error.get('message'), 200)})",
        )
    if outcome.error is not None:
        message, code = shown(outcome.error.get("message"), 200), shown(outcome.error.get("code"))
        return "rejected", f"Rejected on the phone: {message} (code {code})"
    verdict = outcome.verdict or {}
    headline = (
        f"Verified — {shown(verdict.get('reason'))}" if outcome.ok else f"NOT VERIFIED — {shown(verdict.get('reason'))}"
    )
    link = None
    if outcome.method == "eth_sendTransaction" and outcome.chain_id is not None:
        link = registry.tx_url(outcome.chain_id, outcome.result)
    return ("verified" if outcome.ok else "failed"), "\n".join(
        (
            headline,
            f"Recovered  {shown(verdict.get('recovered') or '—')}",
            f"Account    {shown(verdict.get('account') or '—')}",
            *([f"Explorer   {shown(link)}"] if link else []),
            f"Result\n{shown(outcome.result)}",
        )
    )


class RequestScreen(CompanionScreen):
    """Compose, then wait (a countdown to the request's expiry), then the verdict.

    Input is checked by the service; what it refuses is shown here and the
    draft stays, so the user can fix it. One request at a time.
    """

    TITLE = "New request"
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="request.send", priority=True),
        Binding("escape", "app.pop_screen", "Back", id="request.back"),
    ]

    def __init__(self, companion, record: SessionRecord) -> None:
        super().__init__(companion)
        self.topic = record.topic
        self.record = record
        self.busy = False
        self.sent: ev.RequestSent | None = None  # on its way, not answered yet
        self.registry = companion.registry()

    def compose(self) -> ComposeResult:
        chains = session_chains(self.record)
        yield Static(f"New request — {shown(self.record.name)}", id="request-title", markup=False)
        with VerticalScroll(id="request"):
            with Horizontal(id="request-controls"):
                yield Label("Chain", id="request-chain-label")
                asked = next(
                    (c for c in self.record.requested_chains if c in chains), None
                )  # never preselect an unasked chain
                yield Select(
                    [(Text(chain_label(self.registry, c, 40)), c) for c in chains],
                    value=asked or Select.NULL,
                    allow_blank=asked is None,
                    id="request-chain",
                )
                yield Button("Send to phone", variant="primary", id="request-send")
            with TabbedContent(id="request-kind"):
                with TabPane("Message", id="kind-message"):
                    yield Input(placeholder="Text to sign (personal_sign)", id="message-input")
                with TabPane("Typed data", id="kind-typed-data"):
                    yield Input(placeholder="Load from a file: type its path and press enter", id="typed-data-file")
                    yield TextArea(
                        id="typed-data-input",
                        placeholder="…or paste EIP-712 JSON (types, primaryType, domain, message)",
                    )
                with TabPane("Transaction", id="kind-tx"):
                    yield TextArea(id="tx-input", placeholder=f"Transaction JSON, e.g. {TX_EXAMPLE}")
            yield Static(id="request-status", markup=False)
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.query_one("#message-input", Input).focus()
        self.set_interval(1, self._tick)

    # --- composing ---------------------------------------------------------------------------

    def _draft(self) -> Draft:
        """The request as :meth:`Companion.sign` takes it: exactly one of message, typed_data, tx."""
        kind = self.query_one(TabbedContent).active
        if kind == "kind-typed-data":
            return {"typed_data": self.query_one("#typed-data-input", TextArea).text}
        if kind == "kind-tx":
            return {"tx": self.query_one("#tx-input", TextArea).text}
        return {"message": self.query_one("#message-input", Input).value}

    @on(Input.Submitted, "#message-input")
    @on(Button.Pressed, "#request-send")
    def action_send(self) -> None:
        if self.busy:
            self.notify("A request is already waiting for the phone", severity="warning")
            return
        chain = self.query_one("#request-chain", Select).value
        self.send(self._draft(), chain if isinstance(chain, str) else None)

    @on(Input.Submitted, "#typed-data-file")
    def _load_typed_data(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.load_typed_data(event.value.strip())

    @work(group="request-file", exit_on_error=False)
    async def load_typed_data(self, path: str) -> None:
        try:
            text = await asyncio.to_thread(read_input_file, path, "typed data file")
        except WalletsyncError as exc:
            self._show("error", str(exc))
            return
        self.query_one("#typed-data-input", TextArea).text = text
        self._show("", f"Loaded {path}")

    # --- sending and waiting -----------------------------------------------------------------

    @work(group="request", exit_on_error=False)
    async def send(self, draft: Draft, chain: str | None) -> None:
        self.busy = True
        self.query_one("#request-send", Button).disabled = True
        self._show("sending", "Sending…")
        try:
            outcome = await self.companion.sign(self.topic, chain_id=chain, on_sent=self._on_sent, **draft)
        except RequestTimeout as exc:
            self._show("expired", f"Expired — {shown(exc)}")
        except WalletsyncError as exc:
            self._show("error", shown(exc))
        else:
            self._show(*outcome_view(outcome, self.registry))
        finally:
            self.busy, self.sent = False, None
            self.query_one("#request-send", Button).disabled = False

    def _on_sent(self, sent: ev.RequestSent) -> None:
        self.sent = sent
        self._tick()

    def _tick(self) -> None:
        if self.sent is not None:
            left = expires_in(self.sent.expiry - self.companion.clock())
            self._show(
                "waiting",
                f"Waiting for the phone… approve or reject {self.sent.method} on the phone.\nExpires in {left}",
            )

    def _show(self, state: str, text: str) -> None:
        """The status line's text; its ``-state`` class picks the colour in app.tcss."""
        status = self.query_one("#request-status", Static)
        status.update(text)
        status.set_classes(f"-{state}" if state else "")
