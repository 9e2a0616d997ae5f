"""The reference phone wallet: the wallet role of the Sign engine, answering with a :class:`~walletsync.signer.Signer`.

:class:`PhoneWallet` drives an :class:`~walletsync.transport.runner.EngineRunner`: it
pairs from a URI, decides on the proposal, answers requests, and reports every step as
a dict in the ``phone`` JSON contract (DESIGN.md) through the ``report`` callback it
was given. Nothing here parses arguments or prints; ``walletsync phone`` does that.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from walletsync.errors import WalletsyncError
from walletsync.protocol import events as ev
from walletsync.protocol.engine import SignEngine
from walletsync.protocol.errors import ProtocolError
from walletsync.protocol.jsonrpc import RpcError, sdk_error
from walletsync.protocol.namespaces import build_approved_namespaces, merge_namespaces
from walletsync.protocol.relay_auth import RelayIdentity
from walletsync.protocol.state import Proposal
from walletsync.protocol.uri import PairingUri
from walletsync.signer import EVENTS, METHODS, Signer, SignError, summarize
from walletsync.transport.client import RelayClient
from walletsync.transport.runner import EngineRunner

# --- the wallet --------------------------------------------------------------------------

Ask = Callable[[str], Awaitable[bool]]
Report = Callable[[dict[str, Any]], None]
OnProposal = Literal["approve", "reject", "ask"]
METADATA = {
    "name": "walletsync phone",
    "description": "walletsync's reference phone wallet, in a terminal",
    "url": "https://walletsync.invalid/phone",
    "icons": [],
}
NO_TERMINAL = "no terminal to ask on, so the answer is no (use --approve/--reject/--auto-approve)"


@dataclass(frozen=True)
class Finished:
    """Why :meth:`PhoneWallet.run_until_done` returned; ``ok`` False when something went wrong."""

    reason: str
    ok: bool = True


@dataclass(frozen=True)
class _Stop(ev.Event):
    reason: str


def _peer(metadata: dict[str, Any]) -> dict[str, Any]:
    return {key: metadata.get(key) for key in ("name", "url", "description")}


class PhoneWallet:
    """A wallet on an :class:`EngineRunner` that answers with ``signer``.

    Call :meth:`pair`, then :meth:`run_until_done`; :meth:`stop` ends it from outside
    (a signal handler), and :meth:`disconnect` then tells the dapp. ``ask(question)``
    is awaited for every decision not settled by ``on_proposal`` / ``auto_approve``;
    with ``ask=None`` there is nobody to ask and the answer is no.
    """

    def __init__(
        self,
        runner: EngineRunner,
        signer: Signer,
        *,
        report: Report,
        ask: Ask | None = None,
        on_proposal: OnProposal = "ask",
        auto_approve: bool = False,
    ) -> None:
        self.runner, self.signer, self.report = runner, signer, report
        self.ask, self.on_proposal, self.auto_approve = ask, on_proposal, auto_approve
        self.sessions: dict[str, dict[str, Any]] = {}  # topic -> peer
        self._ask_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._finished: Finished | None = None
        self._handlers: dict[type, Callable[[Any], Any]] = {
            ev.Paired: self._on_paired,
            ev.ProposalReceived: self._on_proposal,
            ev.SessionSettled: self._on_settled,
            ev.SessionRequestReceived: self._on_request,
            ev.SessionPinged: lambda e: self.report({"event": "ping", "topic": e.topic}),
            ev.SessionDeleted: self._on_deleted,
            ev.SessionExpired: self._on_expired,
            ev.ProposalExpired: lambda e: self._fail_if_idle(
                "expired", f"proposal {e.proposal_id} expired before it was answered"
            ),
            ev.PairingExpired: lambda e: self._fail_if_idle("expired", "the pairing expired before a session was made"),
            ev.PairingDeleted: lambda e: self._fail_if_idle("pairing_deleted", "the dapp deleted the pairing"),
            ev.RequestExpired: lambda e: self._error(
                "expired", f"request {e.id} ({e.method}) expired before it was answered"
            ),
            ev.MessageRejected: lambda e: self._error(e.error.code, f"refused a message from the dapp: {e.error}"),
            _Stop: lambda e: self._finish(Finished(e.reason)),
        }

    @classmethod
    def on_relay(
        cls,
        relay_url: str,
        signer: Signer,
        *,
        report: Report,
        ask: Ask | None = None,
        on_proposal: OnProposal = "ask",
        auto_approve: bool = False,
    ) -> PhoneWallet:
        """A wallet with a fresh engine and relay identity for ``relay_url``, not yet connected.

        Connect with ``wallet.runner.start()`` (and close with ``wallet.runner.close()``), then :meth:`pair`.
        """
        engine = SignEngine(METADATA, os.urandom)
        runner = EngineRunner(engine, RelayClient(relay_url, RelayIdentity(os.urandom(32))))
        return cls(runner, signer, report=report, ask=ask, on_proposal=on_proposal, auto_approve=auto_approve)

    def _now(self) -> float:
        return self.runner.now()

    def _error(self, code: str, message: str, **extra: Any) -> None:
        self.report({"event": "error", "code": code, "message": message, **extra})

    def _finish(self, finished: Finished) -> None:
        if self._finished is None:
            self._finished = finished
            self.runner.events.put_nowait(_Stop(finished.reason))  # wakes the loop when a task finished it

    def _fail_if_idle(self, code: str, message: str) -> None:
        if not self.sessions and not self.runner.engine.received_proposals:
            self._error(code, message)
            self._finish(Finished(code, ok=False))

    async def pair(self, uri: PairingUri | str) -> None:
        """Pair from a scanned URI (raises InvalidUri / Expired / a relay error); the proposal comes next."""
        await self.runner.run(self.runner.engine.pair(uri, self._now()))

    def stop(self, reason: str = "stopped") -> None:
        """Make :meth:`run_until_done` return (safe from a signal handler)."""
        self.runner.events.put_nowait(_Stop(reason))

    async def run_until_done(self) -> Finished:
        """Handle events until the session ends (deleted, expired), a proposal is rejected, or :meth:`stop`."""
        watcher = asyncio.create_task(self._watch_relay())
        try:
            while self._finished is None:
                event = await self.runner.events.get()
                handler = self._handlers.get(type(event))
                if handler is not None:
                    handler(event)
            return self._finished
        finally:
            for task in [watcher, *self._tasks]:
                task.cancel()
            await asyncio.gather(watcher, *self._tasks, return_exceptions=True)

    async def disconnect(self) -> None:
        """End every session, telling the dapp (``wc_sessionDelete``, 6000)."""
        for topic in list(self.sessions):
            try:
                for event in await self.runner.run(self.runner.engine.disconnect(topic, self._now())):
                    if isinstance(event, ev.SessionDeleted):
                        self._report_deleted(event)
            except WalletsyncError as exc:
                self._error(exc.code, f"could not tell the dapp the session ended: {exc}")

    async def _watch_relay(self) -> None:
        was_online = False
        async for status in self.runner.client.statuses():
            if status.state == "offline" and was_online:
                self._error("relay_offline", f"lost the relay {self.runner.client.url} ({status.reason}); reconnecting")
            was_online = status.state == "online"

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _decide(self, preset: bool | None, question: str) -> tuple[bool, str]:
        if preset is not None:
            return preset, "decided by a command-line flag"
        if self.ask is None:
            return False, NO_TERMINAL
        async with self._ask_lock:
            yes = await self.ask(question)
        return yes, "approved at the prompt" if yes else "declined at the prompt"

    # --- handlers ---------------------------------------------------------------------

    def _on_paired(self, event: ev.Paired) -> None:
        self.report(
            {
                "event": "paired",
                "topic": event.topic,
                "expiry": event.expiry,
                "relay": self.runner.client.url,
                "address": self.signer.address,
            }
        )

    def _on_proposal(self, event: ev.ProposalReceived) -> None:
        proposal = event.proposal
        wanted = merge_namespaces(proposal.required_namespaces, proposal.optional_namespaces)
        chains = [c for ns in wanted.values() for c in ns["chains"]]
        methods = sorted({m for ns in wanted.values() for m in ns["methods"]})
        self.report(
            {
                "event": "proposal",
                "id": proposal.id,
                "peer": _peer(proposal.proposer_metadata),
                "chains": chains,
                "methods": methods,
                "required": proposal.required_namespaces,
                "optional": proposal.optional_namespaces,
                "expiry": proposal.expiry_timestamp,
            }
        )
        self._spawn(self._answer_proposal(proposal, chains, methods))

    async def _answer_proposal(self, proposal: Proposal, chains: list[str], methods: list[str]) -> None:
        engine, peer = self.runner.engine, _peer(proposal.proposer_metadata)
        accounts = [f"{chain}:{self.signer.address}" for chain in chains if chain.startswith("eip155:")]
        try:
            namespaces = build_approved_namespaces(
                proposal.required_namespaces,
                proposal.optional_namespaces,
                accounts=accounts,
                methods=METHODS,
                events=EVENTS,
            )
        except ProtocolError as exc:
            return await self._reject(
                proposal, RpcError(exc.sdk_code or 5000, str(exc)), "this wallet cannot serve what the dapp requires"
            )
        preset = {"approve": True, "reject": False}.get(self.on_proposal)
        question = f"Approve a session with {peer['name']} ({peer['url']}) on {', '.join(chains)} for {', '.join(methods) or 'no methods'}?"
        yes, reason = await self._decide(preset, question)
        if not yes:
            return await self._reject(proposal, sdk_error("USER_REJECTED"), reason)
        try:
            await self.runner.run(engine.approve(proposal.id, namespaces, self._now()))
        except WalletsyncError as exc:
            self._error(exc.code, f"could not approve the session: {exc}", id=proposal.id)
            self._finish(Finished("approve_failed", ok=False))

    async def _reject(self, proposal: Proposal, error: RpcError, reason: str) -> None:
        try:
            await self.runner.run(self.runner.engine.reject(proposal.id, self._now(), error=error))
        except WalletsyncError as exc:
            self._error(exc.code, f"could not reject the proposal: {exc}", id=proposal.id)
        self.report(
            {
                "event": "response",
                "id": proposal.id,
                "method": "wc_sessionPropose",
                "peer": _peer(proposal.proposer_metadata),
                "error": error.to_json(),
                "reason": reason,
            }
        )
        if not self.sessions:
            self._finish(Finished("rejected"))

    def _on_settled(self, event: ev.SessionSettled) -> None:
        session = event.session
        self.sessions[session.topic] = _peer(session.peer_metadata)
        self.report(
            {
                "event": "session",
                "topic": session.topic,
                "peer": _peer(session.peer_metadata),
                "accounts": session.accounts,
                "namespaces": session.namespaces,
                "expiry": session.expiry,
                "address": self.signer.address,
            }
        )

    def _on_request(self, event: ev.SessionRequestReceived) -> None:
        summary = summarize(event.method, event.params)
        self.report(
            {
                "event": "request",
                "topic": event.topic,
                "id": event.id,
                "chain": event.chain_id,
                "method": event.method,
                "params": event.params,
                "summary": summary,
                "expiry": event.expiry,
            }
        )
        self._spawn(self._answer_request(event, summary))

    async def _answer_request(self, event: ev.SessionRequestReceived, summary: str) -> None:
        peer = self.sessions.get(event.topic, {}).get("name")
        question = f"{peer} asks you to {summary} on {event.chain_id} (request {event.id}). Sign?"
        yes, reason = await self._decide(True if self.auto_approve else None, question)
        result, error = None, None
        if not yes:
            error = sdk_error("USER_REJECTED")
        else:
            try:
                result = await asyncio.to_thread(self.signer.sign, event.method, event.params, event.chain_id)
                reason = "signed"
                if event.method == "eth_sendTransaction":
                    reason = (
                        "signed and broadcast" if self.signer.rpc_url else "signed, not broadcast (no RPC node given)"
                    )
            except SignError as exc:
                error, reason = exc.rpc_error, "the wallet cannot answer this request"
        try:
            await self.runner.run(
                self.runner.engine.respond(event.topic, event.id, self._now(), result=result, error=error)
            )
        except WalletsyncError as exc:
            return self._error(exc.code, f"could not answer request {event.id}: {exc}", id=event.id)
        answer = {"result": result} if error is None else {"error": error.to_json()}
        self.report(
            {
                "event": "response",
                "topic": event.topic,
                "id": event.id,
                "method": event.method,
                **answer,
                "reason": reason,
            }
        )

    def _report_deleted(self, event: ev.SessionDeleted) -> None:
        self.sessions.pop(event.topic, None)
        self.report(
            {"event": "deleted", "topic": event.topic, "code": event.code, "message": event.message, "by": event.by}
        )

    def _on_deleted(self, event: ev.SessionDeleted) -> None:
        if event.topic in self.sessions:
            self._report_deleted(event)
            if not self.sessions:
                self._finish(Finished("deleted"))

    def _on_expired(self, event: ev.SessionExpired) -> None:
        if self.sessions.pop(event.topic, None) is not None:
            self.report({"event": "expired", "topic": event.topic})
            if not self.sessions:
                self._finish(Finished("expired"))
