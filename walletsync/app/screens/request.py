"""Compose a signing request for one session, see what it would do, push it to the phone, and show what came back.

While the user edits, the draft is decoded (through the service, off the event loop, a moment after the last
keystroke): its summary, calls, effects and warnings, the session's policy warnings included. Send asks a second
time when there are warnings; a request a policy refuses never reaches the phone and is shown as such.
"""

from __future__ import annotations

import asyncio
from typing import TypedDict

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, Footer, Input, Label, Select, Static, TabbedContent, TabPane, TextArea

from walletsync.app.decoded import decoded_text, warnings_text
from walletsync.app.format import chain_label, expires_in, session_chains
from walletsync.app.screens.base import CompanionScreen
from walletsync.app.screens.modals import SendAnywayScreen
from walletsync.app.widgets.status import RelayStatusBar
from walletsync.decode.model import Decoded, RequestWarning
from walletsync.errors import WalletsyncError
from walletsync.service import (
    PolicyRefused,
    Registry,
    RequestOutcome,
    RequestTimeout,
    SessionRecord,
    read_input_file,
)
from walletsync.service import events as ev
from walletsync.text import shown

TX_EXAMPLE = '{"to": "0x…", "value": "0x0", "data": "0x"}'
DEBOUNCE = 0.3
"""Seconds after the last edit before the draft is decoded again."""


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


def refused_view(exc: PolicyRefused) -> str:
    """A policy's refusal: its rule and what to do; the phone was never asked."""
    return (
        f"Refused by your policy: {shown(exc.refusal.rule)} — {shown(exc.refusal.message, 400)}\n"
        "The phone never saw this request."
    )


def _blank(draft: Draft) -> bool:
    return not any(str(value).strip() for value in draft.values())


class RequestScreen(CompanionScreen):
    """Compose, then wait (a countdown to the request's expiry), then the verdict.

    Input is checked by the service; what it refuses is shown here and the
    draft stays, so the user can fix it. One request at a time.

    ``previewed`` is the ``(draft, chain)`` the shown decoding is of (None before the first), so a test can wait
    for the preview to catch up with the draft.
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
        self.previewed: tuple[Draft, str | None] | None = None
        self._debounce: Timer | None = None

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
            yield Static(id="request-decoded", markup=False, classes="-empty")
            yield Static(id="request-warnings", markup=False)
            yield Static(id="request-status", markup=False)
        yield Footer()
        yield RelayStatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.query_one("#message-input", Input).focus()
        self.set_interval(1, self._tick)

    # --- composing ---------------------------------------------------------------------------

    def _chain(self) -> str | None:
        chain = self.query_one("#request-chain", Select).value
        return chain if isinstance(chain, str) else None

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
        self.send(self._draft(), self._chain())

    # --- what the draft would do -------------------------------------------------------------

    @on(Input.Changed, "#message-input")
    @on(TextArea.Changed)
    @on(TabbedContent.TabActivated)
    @on(Select.Changed, "#request-chain")
    def _draft_changed(self) -> None:
        """Decode again once the user pauses: every keystroke restarts the wait."""
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE, lambda: self.preview(self._draft(), self._chain()))

    @work(exclusive=True, group="request-preview", exit_on_error=False)
    async def preview(self, draft: Draft, chain: str | None) -> None:
        """Show what ``draft`` would do; a draft the service would refuse says why, muted, until it is fixed."""
        if _blank(draft):
            self._show_decoded(None, "")
        else:
            try:
                preview = await asyncio.to_thread(self.companion.preview, self.topic, chain_id=chain, **draft)
            except WalletsyncError as exc:
                self._show_decoded(None, f"Not a request yet: {shown(exc, 300)}")
            else:
                unread = preview.undecodable or preview.out_of_scope
                self._show_decoded(preview.decoded, f"Not a request yet: {shown(unread, 300)}")
        self.previewed = (draft, chain)

    def _show_decoded(self, decoded: Decoded | None, unread: str = "") -> None:
        text = self.query_one("#request-decoded", Static)
        text.update(decoded_text(decoded, self.registry) if decoded is not None else unread)
        text.set_classes("-unread" if decoded is None and unread else "" if decoded is not None else "-empty")
        warnings = decoded.warnings if decoded is not None else ()
        box = self.query_one("#request-warnings", Static)
        box.update(warnings_text(warnings))
        box.set_class(bool(warnings), "-warned")

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

    async def _confirmed(self, draft: Draft, chain: str | None) -> bool:
        """Whether to send: at once without warnings; with warnings (or a request walletsync cannot read) only if
        the user says so in :class:`SendAnywayScreen`. Input ``sign`` refuses goes on, for ``sign`` to say why."""
        warnings: tuple[RequestWarning, ...]
        try:
            preview = await asyncio.to_thread(self.companion.preview, self.topic, chain_id=chain, **draft)
        except WalletsyncError:
            return True
        decoded, unread = preview.decoded, preview.undecodable
        if decoded is not None:
            self._show_decoded(decoded)
            self.previewed = (draft, chain)
            summary, warnings = shown(decoded.summary, 300), decoded.warnings
        elif unread is not None:
            summary, warnings = "walletsync cannot read this request", (RequestWarning(unread.code, str(unread)),)
        else:
            return True
        if not warnings:
            return True
        answer = await self.app.push_screen_wait(SendAnywayScreen(summary, warnings_text(warnings)))
        return answer is True

    @work(group="request", exit_on_error=False)
    async def send(self, draft: Draft, chain: str | None) -> None:
        self.busy = True
        self.query_one("#request-send", Button).disabled = True
        try:
            if not await self._confirmed(draft, chain):
                self._show("", "Not sent: the draft is still here.")
                return
            self._show("sending", "Sending…")
            outcome = await self.companion.sign(self.topic, chain_id=chain, on_sent=self._on_sent, **draft)
        except PolicyRefused as exc:
            self._show("refused", refused_view(exc))
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
