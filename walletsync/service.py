"""The companion: the one async façade the CLI and the app use.

It runs the Sign engine (dapp role) over the relay client, persists every change
in one transaction with its audit row, restores sessions on start (and
resubscribes), expires what is due, verifies every answer, and streams events
(:meth:`Companion.events`) for a UI. Session references are local names or
unique topic prefixes.

Several processes may share one data dir (the app and CLI commands, two apps):
they share the device identity, so the relay pushes a phone's message to each of
them. The store's replay memory decides which one journals it (the first to
record the envelope); each polls the store for the others' commits and adopts
them (:class:`StoreChanged`), and catches up before acting on a session.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from walletsync import audit
from walletsync.broadcast import Broadcast
from walletsync.errors import WalletsyncError
from walletsync.names import derived_name, local_name, looks_the_same, with_suffix
from walletsync.paths import data_dir as resolve_data_dir
from walletsync.protocol import events as ev
from walletsync.protocol.engine import Action, SignEngine
from walletsync.protocol.errors import OutOfScope, ProtocolError
from walletsync.protocol.jsonrpc import RpcError, sdk_error
from walletsync.protocol.namespaces import Beyond, beyond_request, chain_of_account, granted_chains, request_beyond
from walletsync.protocol.relay_rpc import Subscribe, Unsubscribe
from walletsync.protocol.state import PendingRequest, SentProposal
from walletsync.protocol.uri import format_uri
from walletsync.store.db import Database, RequestRecord, SessionRecord
from walletsync.store.keys import DeviceSecrets, open_device_secrets
from walletsync.transport.client import RelayClient, Status
from walletsync.transport.runner import EngineRunner

PUBLIC_RELAY = "wss://relay.walletconnect.org"
METADATA = {
    "name": "walletsync",
    "description": "walletsync: your phone wallet, from the terminal",
    "url": "https://walletsync.invalid",
    "icons": [],
}
DEFAULT_CHAINS = ("eip155:1",)
DEFAULT_METHODS = ("personal_sign", "eth_signTypedData_v4", "eth_sendTransaction")
DEFAULT_EVENTS = ("chainChanged", "accountsChanged")
ONLINE_TIMEOUT = 15.0
STORE_POLL = 0.5
"""Seconds between looks at the store for other processes' changes."""
log = logging.getLogger("walletsync.service")
RelayKind = Literal["local", "public", "custom"]


def phone_command(uri: str) -> str:
    """The shell line that pairs ``walletsync phone`` with ``uri`` without putting the URI's key in ``ps``."""
    import shlex

    return f"WALLETSYNC_URI={shlex.quote(uri)} walletsync phone"


class SessionNotFound(WalletsyncError):
    code = "unknown_session"


class AmbiguousSession(WalletsyncError):
    code = "ambiguous_session"


class SessionInactive(WalletsyncError):
    code = "session_inactive"


class PairingFailed(WalletsyncError):
    code = "pairing_failed"


class RequestTimeout(WalletsyncError):
    code = "timeout"


class NameTaken(WalletsyncError):
    code = "name_taken"


class InputFileError(WalletsyncError):
    code = "bad_input"


class ChainNotRequested(WalletsyncError):
    """The phone granted none of the chains the user asked for: a request goes nowhere without ``--chain``."""

    code = "chain_not_requested"


class RevokedLocally(WalletsyncError):
    """The session is marked revoked here, but the phone could not be told (no key to tell it with)."""

    code = "revoked_locally"


def read_input_file(path: str, flag: str) -> str:
    """The text of a file the user named (``-`` is stdin); :class:`InputFileError` names ``flag`` when it cannot be read."""
    try:
        return Path("/dev/stdin" if path == "-" else path).expanduser().read_text()
    except OSError as exc:
        raise InputFileError(f"{flag}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{flag}: {path} is not UTF-8 text") from None


# --- configuration ---------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    data_dir: str | None = None
    relay: str | None = None
    project_id: str | None = None
    keyring_file: str | None = None
    passphrase: str | None = None


@dataclass(frozen=True)
class RelayChoice:
    url: str
    kind: RelayKind
    project_id: str | None = None
    started: bool = False

    def describe(self) -> str:
        what = {"local": "local relay", "public": "public WalletConnect relay", "custom": "relay"}[self.kind]
        return f"{what} {self.url}" + (" (started now)" if self.started else "")


def _configured_project_id(config: Config, home: Path) -> str | None:
    if config.project_id:
        return config.project_id
    if os.environ.get("WALLETCONNECT_PROJECT_ID"):
        return os.environ["WALLETCONNECT_PROJECT_ID"]
    settings = home / "config.json"
    if settings.exists():
        try:
            return json.loads(settings.read_text()).get("project_id") or None
        except (ValueError, AttributeError):
            raise WalletsyncError(f"{settings} is not valid JSON") from None
    return None


async def choose_relay(config: Config, home: Path) -> RelayChoice:
    """``--relay``; else the public relay when a project id is set; else the local relay (started if needed)."""
    project_id = _configured_project_id(config, home)
    if config.relay:
        kind: RelayKind = "public" if config.relay.rstrip("/") == PUBLIC_RELAY else "custom"
        return RelayChoice(config.relay, kind, project_id)
    if project_id:
        return RelayChoice(PUBLIC_RELAY, "public", project_id)
    from walletsync.localrelay import ensure_local_relay

    url, started = await ensure_local_relay(home)
    return RelayChoice(url, "local", None, started)


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairingOffer:
    uri: str
    expires_at: int
    proposal_id: int


@dataclass(frozen=True)
class RequestOutcome:
    session: SessionRecord
    id: int
    method: str
    result: Any = None
    error: dict | None = None
    verdict: dict | None = None
    late: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.verdict and self.verdict.get("verified"))

    @property
    def session_ended(self) -> bool:
        """No answer came because the session ended first (the engine fails its requests with 6000)."""
        return self.error is not None and self.error.get("code") == sdk_error("USER_DISCONNECTED").code

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md ``sign`` document."""
        verdict = self.verdict or {}
        out: dict[str, Any] = {
            "session": self.session.name,
            "method": self.method,
            "result": self.result,
            "verified": bool(verdict.get("verified")) and self.error is None,
            "recovered": verdict.get("recovered"),
            "account": verdict.get("account"),
        }
        if self.error is not None:
            out["error"] = self.error
        if verdict.get("reason"):
            out["reason"] = verdict["reason"]
        return out


@dataclass(frozen=True)
class RequestVerified(ev.Event):
    """An answer was checked; ``verdict`` is :meth:`walletsync.signatures.Verdict.to_json`."""

    topic: str
    id: int
    verdict: dict


@dataclass(frozen=True)
class RelayStatusChanged(ev.Event):
    status: Status


@dataclass(frozen=True)
class SessionRenamed(ev.Event):
    topic: str
    name: str


@dataclass(frozen=True)
class ScopeWidened(ev.Event):
    """A phone granted more than the user asked for: when the session settled (``update`` False) or by a
    ``wc_sessionUpdate`` (``update`` True). ``added`` is what is newly beyond the request (audited as is)."""

    topic: str
    name: str
    added: Beyond
    update: bool

    def message(self) -> str:
        """One line for people (the name and the phone's ids are data: show with markup off)."""
        if self.update:
            return f"phone widened scope of {self.name}: {self.added.summary()}"
        return f"phone granted {self.name} more than asked: {self.added.summary()}"


@dataclass(frozen=True)
class StoreChanged(ev.Event):
    """Another walletsync process on this data dir changed sessions, requests or the audit: re-read what you show."""


# --- the façade ---------------------------------------------------------------------------


class Companion:
    """Open with :meth:`open`; close with :meth:`close`. Safe to share between a UI and background tasks."""

    def __init__(
        self,
        home: Path,
        db: Database,
        secrets: DeviceSecrets,
        relay: RelayChoice | None,
        *,
        clock: Callable[[], float] = time.time,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        """``relay=None`` opens the companion offline: listing, renaming and the audit work; talking to phones does not."""
        self.home = home
        self.db = db
        self.secrets = secrets
        self.relay = relay
        self.clock = clock
        self.engine = SignEngine(METADATA, random)
        self.client = (
            RelayClient(relay.url, secrets.identity, project_id=relay.project_id, clock=clock, random=random)
            if relay
            else None
        )
        self.runner = (
            EngineRunner(self.engine, self.client, clock=clock, on_step=self._on_step) if self.client else None
        )
        self._events: Broadcast[ev.Event] = Broadcast()
        self._names: dict[int, str] = {}
        self._pairings: dict[int, asyncio.Future[SessionRecord]] = {}
        self._settling: dict[str, int] = {}
        self._status_task: asyncio.Task | None = None
        self._store_task: asyncio.Task | None = None
        self._data_version = -1
        self._restore()

    @classmethod
    async def open(cls, config: Config = Config(), *, offline: bool = False, **kwargs: Any) -> Companion:
        home = resolve_data_dir(config.data_dir)
        secrets = open_device_secrets(
            home, keyring_file=Path(config.keyring_file) if config.keyring_file else None, passphrase=config.passphrase
        )
        db = Database(home / "walletsync.db", secrets.storage_key)
        try:
            relay = None if offline else await choose_relay(config, home)
        except BaseException:
            db.close()
            raise
        return cls(home, db, secrets, relay, **kwargs)

    def _restore(self) -> None:
        with self.db.transaction():
            self.db.purge_replay(now=int(self.clock()))
        self._load(adopt_pairings=True)
        self._on_step(self.engine.expire(self.clock()))

    def _load(self, *, adopt_pairings: bool) -> list[Action]:
        """Give the engine the store's view (sessions, requests, replay memory; pairings and proposals).

        Returns the relay calls for the topics gained and lost. Requests this process has
        in flight that the store does not hold (pings, extends; a request not yet persisted) stay.
        Without ``adopt_pairings`` only this process's own pairings and proposals are kept, those
        the store still has: a pairing belongs to the process showing its QR.
        """
        db, engine = self.db, self.engine
        with db.snapshot():
            self._data_version = db.data_version()
            sessions, pairings, proposals = db.active_sessions(), db.pairings(), db.sent_proposals()
            if not adopt_pairings:
                pairings = [p for p in pairings if p.topic in engine.pairings]
                proposals = [p for p in proposals if p.proposal.id in engine.sent_proposals]
            topics = {s.topic for s in sessions} | {p.topic for p in pairings}
            topics |= {p.session_topic for p in proposals if p.session_topic}
            in_flight = [  # ours, not (yet) in the store: pings, extends, a request being sent
                r
                for r in engine.requests.values()
                if r.wire_method != "wc_sessionRequest" or not db.has_request(r.topic, r.id)
            ]
            requests = [*db.pending_requests(), *in_flight]
            replay = db.replay_memory(topics)
        kept = {p.proposal.id for p in proposals}
        ended = [sent for proposal_id, sent in engine.sent_proposals.items() if proposal_id not in kept]
        still = {(r.topic, r.id) for r in requests}
        finished = [
            r
            for key, r in engine.requests.items()
            if r.wire_method == "wc_sessionRequest" and r.direction == "outgoing" and key not in still
        ]
        actions = engine.restore(
            sessions=sessions, pairings=pairings, sent_proposals=proposals, requests=requests, replay=replay
        )
        for sent in ended:
            self._pairing_ended_elsewhere(sent)
        self._broadcast(self._answered_elsewhere(finished))
        return actions

    def _pairing_ended_elsewhere(self, sent: SentProposal) -> None:
        """Another process sharing our identity heard the phone's answer to our proposal (a relay delivers
        a message once per identity to a late subscriber); what it stored tells :meth:`wait_for_session`."""
        future = self._pairings.get(sent.proposal.id)
        if future is None or future.done():
            return
        linked = [s for s in self.db.sessions(include_ended=False) if s.pairing_topic == sent.proposal.pairing_topic]
        if linked:
            future.set_result(linked[-1])
        else:
            future.set_exception(
                PairingFailed(
                    "the pairing was refused or expired (handled by another walletsync process; see 'walletsync audit')"
                )
            )

    def _answered_elsewhere(self, finished: list[PendingRequest]) -> list[ev.Event]:
        """Requests of ours another process saw end (an answer the relay gave it alone, a session it ended):
        the events a local waiter (:meth:`request`) needs, from what that process stored."""
        events: list[ev.Event] = []
        records = {(r.topic, r.id): r for r in self.db.requests()} if finished else {}
        for pending in finished:
            record = records.get((pending.topic, pending.id))
            topic, request_id, method = pending.topic, pending.id, pending.method or ""
            if record is None:
                continue
            if record.status in ("answered", "late"):
                events.append(
                    ev.RequestAnswered(topic, request_id, method, record.result, late=record.status == "late")
                )
                if record.verdict is not None:
                    events.append(RequestVerified(topic, request_id, record.verdict))
            elif record.status == "rejected" and record.error:
                error = RpcError(record.error["code"], record.error["message"])
                events.append(ev.RequestFailed(topic, request_id, method, error))
            elif record.status == "cancelled":
                events.append(ev.RequestFailed(topic, request_id, method, sdk_error("USER_DISCONNECTED")))
        return events

    async def _catch_up(self) -> bool:
        """Adopt what other processes committed since the last look; True (and :class:`StoreChanged` sent) if any."""
        if self.db.data_version() == self._data_version:
            return False
        actions = self._load(adopt_pairings=False)
        self._broadcast([StoreChanged()])
        if self.runner is not None and actions:
            await self.runner.run(actions)
        return True

    async def _watch_store(self) -> None:
        while True:
            await asyncio.sleep(STORE_POLL)
            try:
                await self._catch_up()
            except Exception:  # a busy or briefly locked store must not stop the watching
                log.exception("reading other processes' changes failed")

    async def start(self) -> None:
        """Connect to the relay in the background; intents wait for it when they need it."""
        await self._runner().start()
        self._status_task = asyncio.create_task(self._watch_status(), name="relay-status")
        self._store_task = asyncio.create_task(self._watch_store(), name="store-watch")

    def _runner(self) -> EngineRunner:
        if self.runner is None:
            raise WalletsyncError("this command was opened offline and cannot reach the relay")
        return self.runner

    @property
    def link_status(self) -> Status | None:
        """The relay connection's current state (None when opened offline)."""
        return self.client.status if self.client is not None else None

    async def online(self, timeout: float = ONLINE_TIMEOUT) -> None:
        await self._runner().client.wait_online(timeout)

    async def sync(self, timeout: float = ONLINE_TIMEOUT, quiet: float = 0.3) -> None:
        """Go online and handle what the relay kept for us (a delete from the phone, a late answer, …)."""
        runner = self._runner()
        await self.online(timeout)
        while True:
            await asyncio.sleep(quiet)
            if runner.client.inbox.empty() and not runner.busy:
                return

    async def close(self) -> None:
        for task in (self._status_task, self._store_task):
            if task:
                task.cancel()
        if self.runner is not None:
            await self.runner.close()
        self.db.close()

    async def _watch_status(self) -> None:
        async for status in self._runner().client.statuses():
            self._broadcast([RelayStatusChanged(status)])

    # --- events --------------------------------------------------------------------------

    def events(self) -> AsyncIterator[ev.Event]:
        """Every event from now on: the engine's, plus :class:`RequestVerified` and :class:`RelayStatusChanged`."""
        return self._events.listen()

    def _broadcast(self, events: list[ev.Event]) -> None:
        self._events.publish(events)

    def _on_step(self, actions: list[Action]) -> list[Action]:
        """Persist and audit one engine step in one transaction, then tell the watchers; returns the relay calls to make.

        The step's replay memory is recorded in the same transaction. If its message was
        already recorded (another process sharing the store handled it, or this one before
        a restart), nothing is journaled or answered again; local waiters still hear the events.
        A step that only refused its message (unknown request, unknown topic) records nothing:
        a process that knows more may still handle that message.
        """
        events = [a for a in actions if isinstance(a, ev.Event)]
        changes = self.engine.take_replay_changes()
        handled = any(not isinstance(a, ev.MessageRejected) for a in actions)
        if not events and not (changes and handled):
            return actions
        now = int(self.clock())
        extra: list[ev.Event] = []
        with self.db.transaction():
            fresh = self.db.remember(changes, now=now) if handled else True
            if fresh:
                for event in events:
                    extra += self._persist(event, now)
        if not fresh:
            actions = [a for a in actions if isinstance(a, (Subscribe, Unsubscribe))]
            extra = self._handled_elsewhere(events)
        for event in events:
            self._settle_pairing_waiters(event)
        self._broadcast(events + extra)
        return actions

    def _handled_elsewhere(self, events: list[ev.Event]) -> list[ev.Event]:
        """Another process journaled this step: hand local waiters what it recorded (an answer's verdict)."""
        extra: list[ev.Event] = []
        for event in events:
            if isinstance(event, ev.RequestAnswered):
                record = next((r for r in self.db.requests(event.topic) if r.id == event.id), None)
                if record is not None and record.verdict is not None:
                    extra.append(RequestVerified(event.topic, event.id, record.verdict))
        return extra

    def _settle_pairing_waiters(self, event: ev.Event) -> None:
        """Resolve :meth:`pair`'s outcome as soon as it is known, even if nobody awaits it yet."""
        if isinstance(event, ev.ProposalApproved):
            self._settling[event.session_topic] = event.proposal_id
            return
        if isinstance(event, ev.SessionSettled):
            proposal_id = self._settling.pop(event.session.topic, None)
            outcome: SessionRecord | Exception = self._record(event.session.topic)
        elif isinstance(event, ev.ProposalRejected):
            proposal_id = event.proposal_id
            outcome = PairingFailed(f"the phone rejected the pairing ({event.error.code}: {event.error.message})")
        elif isinstance(event, ev.ProposalExpired):
            proposal_id = event.proposal_id
            outcome = PairingFailed("the pairing expired before a phone answered; run 'walletsync pair' again")
        else:
            return
        future = self._pairings.get(proposal_id) if proposal_id is not None else None
        if future is not None and not future.done():
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _audit(self, kind: str, session: str | None, **data: Any) -> None:
        previous = self.db.last_audit()
        entry = audit.append(
            previous, kind=kind, session=session, data=data, ts=int(self.clock() * 1000), signer=self.secrets.identity
        )
        self.db.add_audit(entry, audit.sign_head(entry, self.secrets.identity))

    def _persist(self, event: ev.Event, now: int) -> list[ev.Event]:
        db, engine = self.db, self.engine
        if isinstance(event, ev.PairingCreated):
            db.save_pairing(engine.pairings[event.uri.topic])
            self._audit("pairing_offered", None, pairing_topic=event.uri.topic, expires_at=event.uri.expiry_timestamp)
        elif isinstance(event, ev.ProposalSent):
            db.save_proposal(engine.sent_proposals[event.proposal.id], name=self._names.get(event.proposal.id))
            self._audit(
                "proposal_sent",
                None,
                proposal_id=event.proposal.id,
                optional_namespaces=event.proposal.optional_namespaces,
            )
        elif isinstance(event, ev.ProposalApproved):
            db.save_proposal(engine.sent_proposals[event.proposal_id], name=db.proposal_name(event.proposal_id))
            pairing = engine.pairings.get(engine.sent_proposals[event.proposal_id].proposal.pairing_topic)
            if pairing:
                db.save_pairing(pairing)
            self._audit("proposal_approved", event.session_topic, proposal_id=event.proposal_id)
        elif isinstance(event, ev.ProposalRejected):
            if db.delete_proposal(event.proposal_id):
                code, message = event.error.code, event.error.message
                self._audit("proposal_rejected", None, proposal_id=event.proposal_id, code=code, message=message)
        elif isinstance(event, ev.ProposalExpired):
            if db.delete_proposal(event.proposal_id):  # else another process saw it end first (and journaled it)
                self._audit("proposal_expired", None, proposal_id=event.proposal_id)
        elif isinstance(event, ev.SessionSettled):
            session = event.session
            wanted = db.take_proposal_for_session(session.topic)
            name = self._unique_name(wanted or derived_name(session.peer_metadata.get("name")), session.topic)
            db.save_session(session, name=name, now=now)
            beyond = beyond_request(session.required_namespaces, session.optional_namespaces, session.namespaces)
            extra = {"beyond_request": beyond.to_json()} if beyond else {}
            self._audit(
                "session_settled",
                session.topic,
                name=name,
                peer={k: session.peer_metadata.get(k) for k in ("name", "url")},
                accounts=session.accounts,
                namespaces=session.namespaces,
                **extra,
            )
            return [ScopeWidened(session.topic, name, beyond, update=False)] if beyond else []
        elif isinstance(event, ev.SessionUpdated):
            return self._on_update(event, now)
        elif isinstance(event, ev.SessionExtended):
            db.update_session(event.topic, expiry=event.expiry)
            self._audit("session_extended", event.topic, expiry=event.expiry)
        elif isinstance(event, ev.SessionDeleted):
            by_us = event.by == "self"
            if db.end_session(event.topic, "revoked" if by_us else "deleted"):  # else ended (and journaled) elsewhere
                kind = "session_revoked" if by_us else "session_deleted_by_peer"
                self._audit(kind, event.topic, code=event.code, message=event.message)
        elif isinstance(event, ev.SessionExpired):
            if db.end_session(event.topic, "expired"):  # else another process ended it first (and journaled it)
                self._audit("session_expired", event.topic)
        elif isinstance(event, (ev.PairingExpired, ev.PairingDeleted)):
            db.delete_pairing(event.topic)
        elif isinstance(event, ev.RequestSent):
            db.save_request(engine.requests[(event.topic, event.id)], now=now)
            self._audit(
                "request_pushed",
                event.topic,
                id=event.id,
                method=event.method,
                chain_id=event.chain_id,
                params=event.params,
                expiry=event.expiry,
                **self._request_beyond(event),
            )
        elif isinstance(event, ev.RequestAnswered):
            return self._on_answer(event, now)
        elif isinstance(event, ev.RequestFailed):
            db.finish_request(
                event.topic,
                event.id,
                status="rejected",
                now=now,
                error={"code": event.error.code, "message": event.error.message},
            )
            db.update_session(event.topic, last_seen=now)
            self._audit(
                "request_rejected",
                event.topic,
                id=event.id,
                code=event.error.code,
                message=event.error.message,
                late=event.late,
            )
        elif isinstance(event, ev.RequestExpired) and event.direction == "outgoing":
            db.expire_request(event.topic, event.id)
            self._audit("request_expired", event.topic, id=event.id, method=event.method)
        elif isinstance(event, ev.Acknowledged):
            if event.topic in engine.sessions:
                db.update_session(
                    event.topic, last_seen=now, **({"last_ping": now} if event.method == "wc_sessionPing" else {})
                )
            if event.method == "wc_sessionPing":
                self._audit("ping_answered", event.topic)
        elif isinstance(event, ev.SessionPinged):
            db.update_session(event.topic, last_seen=now)
        elif isinstance(event, ev.SessionEventReceived):
            db.update_session(event.topic, last_seen=now)
            self._audit("event_received", event.topic, name=event.name, data=event.data, chain_id=event.chain_id)
        return []

    def _request_beyond(self, event: ev.RequestSent) -> dict[str, Any]:
        """For the request's audit row: ``beyond_request`` when the user named a chain or method nobody asked for."""
        session = self.engine.sessions.get(event.topic)
        if session is None:
            return {}
        beyond = request_beyond(session.required_namespaces, session.optional_namespaces, event.chain_id, event.method)
        return {"beyond_request": beyond} if beyond else {}

    def _on_update(self, event: ev.SessionUpdated, now: int) -> list[ev.Event]:
        """Apply the phone's update (the SDK already checked it); audit and announce what it added beyond the request."""
        before = next((s for s in self.db.sessions() if s.topic == event.topic), None)
        self.db.update_session(event.topic, namespaces=event.namespaces, last_seen=now)
        self._audit("session_updated", event.topic, namespaces=event.namespaces)
        after = next((s for s in self.db.sessions() if s.topic == event.topic), None)
        if before is None or after is None:
            return []
        added = after.beyond_request.minus(before.beyond_request)
        if not added:
            return []
        beyond = after.beyond_request.to_json()
        self._audit("session_scope_widened", event.topic, added=added.to_json(), beyond_request=beyond)
        return [ScopeWidened(event.topic, after.name, added, update=True)]

    def _on_answer(self, event: ev.RequestAnswered, now: int) -> list[ev.Event]:
        from walletsync.signatures import verify_response

        record = next((r for r in self.db.requests(event.topic) if r.id == event.id), None)
        session = next((s for s in self.db.sessions() if s.topic == event.topic), None)
        account = _account_for(session, record.chain_id if record else None)
        verdict = verify_response(
            record.method if record else event.method, record.params if record else [], event.result, account
        ).to_json()
        self.db.finish_request(
            event.topic,
            event.id,
            status="late" if event.late else "answered",
            now=now,
            result=event.result,
            verdict=verdict,
        )
        self.db.update_session(event.topic, last_seen=now)
        self._audit(
            "response_late" if event.late else "request_answered",
            event.topic,
            id=event.id,
            method=event.method,
            result=event.result,
        )
        self._audit(
            "signature_verified" if verdict["verified"] else "signature_mismatch", event.topic, id=event.id, **verdict
        )
        return [RequestVerified(event.topic, event.id, verdict)]

    def _unique_name(self, wanted: str, topic: str) -> str:
        """``wanted``, or ``wanted (2)``, … : the first that looks like no other active session's name."""
        name, n = wanted, 2
        while self._lookalike(name, except_topic=topic) is not None:
            name, n = with_suffix(wanted, n), n + 1
        return name

    def _lookalike(self, name: str, *, except_topic: str | None = None) -> str | None:
        """The name of another active session that a reader could not tell from ``name``, if any."""
        live = (s.name for s in self.db.sessions(include_ended=False) if s.topic != except_topic)
        return next((other for other in live if looks_the_same(other, name)), None)

    def _check_free(self, name: str, *, except_topic: str | None = None) -> None:
        other = self._lookalike(name, except_topic=except_topic)
        if other == name:
            raise NameTaken(f"another active session is already named '{name}'")
        if other is not None:
            raise NameTaken(f"'{name}' looks the same as the name of another active session, '{other}'")

    # --- sessions ----------------------------------------------------------------------------

    def sessions(self) -> list[SessionRecord]:
        return self.db.sessions()

    def resolve(self, ref: str) -> SessionRecord:
        """A session by local name, else by unique topic prefix (at least 4 hex chars)."""
        records = self.db.sessions()
        by_name = [s for s in records if s.name == ref]
        active = [s for s in by_name if s.status == "active"]
        if len(active) == 1 or len(by_name) == 1:
            return (active or by_name)[0]
        if len(by_name) > 1:
            raise AmbiguousSession(f"several ended sessions are named {ref!r}; use a topic prefix")
        if len(ref) >= 4:
            prefixed = [s for s in records if s.topic.startswith(ref.lower())]
            if len(prefixed) == 1:
                return prefixed[0]
            if len(prefixed) > 1:
                names = ", ".join(f"{s.name} ({s.topic[:8]})" for s in prefixed[:5])
                raise AmbiguousSession(f"{ref!r} matches {len(prefixed)} sessions: {names}; give more of the topic")
        raise SessionNotFound(f"no session named or starting with {ref!r} (see 'walletsync sessions')")

    def _active(self, ref: str) -> SessionRecord:
        record = self.resolve(ref)
        if record.status != "active":
            raise SessionInactive(f"session {record.name!r} is {record.status}")
        if record.expiry <= self.clock():
            raise SessionInactive(
                f"session {record.name!r} expired at {time.strftime('%Y-%m-%d %H:%M', time.localtime(record.expiry))}"
            )
        return record

    async def _ready(self, ref: str) -> SessionRecord:
        """The active session ``ref``, online, with the engine caught up: another process may have paired or ended it."""
        record = self._active(ref)
        await self.online()
        await self._catch_up()
        record = self._active(record.topic)  # ended meanwhile: SessionInactive, not the engine's "no session"
        if record.topic not in self.engine.sessions:
            raise SessionInactive(f"session {record.name!r} cannot be used: its key is gone (revoke it and pair again)")
        return record

    def _record(self, topic: str) -> SessionRecord:
        return next(s for s in self.db.sessions() if s.topic == topic)

    def rename(self, ref: str, name: str) -> SessionRecord:
        record = self.resolve(ref)
        name = local_name(name)
        self._check_free(name, except_topic=record.topic)
        with self.db.transaction():
            self.db.update_session(record.topic, name=name)
            self._audit("session_renamed", record.topic, old=record.name, new=name)
        self._broadcast([SessionRenamed(record.topic, name)])
        return self._record(record.topic)

    # --- pairing -------------------------------------------------------------------------------

    async def pair(
        self, *, chains=DEFAULT_CHAINS, methods=DEFAULT_METHODS, events=DEFAULT_EVENTS, name: str | None = None
    ) -> PairingOffer:
        """Create a pairing URI to show as a QR; await :meth:`wait_for_session` with its proposal id."""
        namespaces: dict[str, dict[str, list[str]]] = {}
        for chain in chains:
            ns = namespaces.setdefault(
                chain.split(":")[0], {"chains": [], "methods": list(methods), "events": list(events)}
            )
            ns["chains"].append(chain)
        if name is not None:
            name = local_name(name)
            self._check_free(name)
        actions = self.engine.connect(self.clock(), optional_namespaces=namespaces)
        sent = next(a for a in actions if isinstance(a, ev.ProposalSent))
        created = next(a for a in actions if isinstance(a, ev.PairingCreated))
        if name:
            self._names[sent.proposal.id] = name
        self._pairings[sent.proposal.id] = asyncio.get_running_loop().create_future()
        await self._runner().run(actions)
        return PairingOffer(format_uri(created.uri), created.uri.expiry_timestamp or 0, sent.proposal.id)

    async def wait_for_session(self, proposal_id: int, timeout: float | None = None) -> SessionRecord:
        """The session a phone settled for this pairing; :class:`PairingFailed` if it rejected or expired."""
        future = self._pairings.get(proposal_id)
        if future is None:
            raise PairingFailed(f"no pairing {proposal_id} was offered by this process")
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            raise RequestTimeout(f"no phone answered within {timeout:g} s") from None
        finally:
            if future.done():
                self._pairings.pop(proposal_id, None)

    # --- requests --------------------------------------------------------------------------------

    async def sign(
        self,
        ref: str,
        *,
        message: str | None = None,
        typed_data: str | None = None,
        tx: str | None = None,
        chain_id: str | None = None,
        timeout: float | None = None,
        expiry: int = 300,
        rpc_url: str | None = None,
        on_sent: Callable[[ev.RequestSent], None] | None = None,
    ) -> RequestOutcome:
        """Build a signing request from user input, push it, wait for the answer, verify it.

        For a transaction, a chain RPC (``rpc_url``, else ``config.json``'s ``rpc`` for
        the chain) turns "a well-formed hash" into "found on chain, sent by the session account".
        ``on_sent`` is called once the request is on its way (its id and expiry), before the answer.
        """
        from walletsync.signatures import build_request

        record = self._active(ref)
        chain = chain_id or self._default_chain(record)
        account = _account_for(record, chain)
        method, params = build_request(message=message, typed_data=typed_data, tx=tx, account=account)
        outcome = await self.request(
            ref, method, params, chain_id=chain, timeout=timeout, expiry=expiry, on_sent=on_sent
        )
        rpc_url = rpc_url or self._configured_rpc(chain)
        if method == "eth_sendTransaction" and outcome.ok and rpc_url:
            outcome = await self._look_up(outcome, rpc_url, account)
        return outcome

    def _configured_rpc(self, chain: str) -> str | None:
        settings = self.home / "config.json"
        try:
            return (json.loads(settings.read_text()).get("rpc") or {}).get(chain) if settings.exists() else None
        except (ValueError, AttributeError):
            raise WalletsyncError(f"{settings} is not valid JSON") from None

    async def _look_up(self, outcome: RequestOutcome, rpc_url: str, account: str) -> RequestOutcome:
        from walletsync.signatures import lookup_transaction

        verdict = (await asyncio.to_thread(lookup_transaction, rpc_url, outcome.result, account)).to_json()
        with self.db.transaction():
            self.db.finish_request(
                outcome.session.topic,
                outcome.id,
                status="answered",
                now=int(self.clock()),
                result=outcome.result,
                verdict=verdict,
            )
            self._audit(
                "signature_verified" if verdict["verified"] else "signature_mismatch",
                outcome.session.topic,
                id=outcome.id,
                lookup=rpc_url,
                **verdict,
            )
        self._broadcast([RequestVerified(outcome.session.topic, outcome.id, verdict)])
        return RequestOutcome(outcome.session, outcome.id, outcome.method, outcome.result, None, verdict, outcome.late)

    async def request(
        self,
        ref: str,
        method: str,
        params: Any,
        *,
        chain_id: str | None = None,
        timeout: float | None = None,
        expiry: int = 300,
        on_sent: Callable[[ev.RequestSent], None] | None = None,
    ) -> RequestOutcome:
        record = await self._ready(ref)
        chain = chain_id or self._default_chain(record, method)
        try:
            actions = self.engine.request(record.topic, chain, method, params, self.clock(), expiry=expiry)
        except OutOfScope as exc:
            with self.db.transaction():
                self._audit("request_refused_by_scope", record.topic, method=method, chain_id=chain, reason=str(exc))
            raise
        sent = next(a for a in actions if isinstance(a, ev.RequestSent))
        outcome = asyncio.ensure_future(self._outcome(record.topic, sent.id))
        await asyncio.sleep(0)  # the watcher is registered before anything can arrive
        await self._runner().run(actions)
        if on_sent is not None:
            on_sent(sent)
        try:
            async with asyncio.timeout(timeout if timeout is not None else expiry + 5):
                return await outcome
        except TimeoutError:
            raise RequestTimeout(
                f"no answer from {record.name!r} within {timeout if timeout is not None else expiry + 5:g} s"
            ) from None

    async def _outcome(self, topic: str, request_id: int) -> RequestOutcome:
        answer: ev.Event | None = None
        async for event in self.events():
            if isinstance(event, (ev.RequestAnswered, ev.RequestFailed)) and (event.topic, event.id) == (
                topic,
                request_id,
            ):
                answer = event
                if isinstance(event, ev.RequestFailed):
                    break
            elif (
                isinstance(event, ev.RequestExpired)
                and (event.topic, event.id) == (topic, request_id)
                and event.direction == "outgoing"
            ):
                raise RequestTimeout(
                    f"request {request_id} expired before the phone answered (a late answer is still recorded)"
                )
            elif isinstance(event, RequestVerified) and (event.topic, event.id) == (topic, request_id):
                assert isinstance(answer, ev.RequestAnswered)
                return RequestOutcome(
                    self._record(topic), request_id, answer.method, answer.result, None, event.verdict, answer.late
                )
        assert isinstance(answer, ev.RequestFailed)
        return RequestOutcome(
            self._record(topic),
            request_id,
            answer.method,
            None,
            {"code": answer.error.code, "message": answer.error.message},
            None,
            answer.late,
        )

    def _default_chain(self, record: SessionRecord, method: str | None = None) -> str:
        """The chain a request goes to when the user named none; refused (and audited) when only unasked ones exist."""
        try:
            return _default_chain(record)
        except ChainNotRequested as exc:
            with self.db.transaction():
                self._audit("request_refused_by_scope", record.topic, method=method, chain_id=None, reason=str(exc))
            raise

    def requests(self, ref: str | None = None) -> list[RequestRecord]:
        """Signing requests sent to one session (or to all), oldest first, with their answers and verdicts."""
        return self.db.requests(self.resolve(ref).topic if ref else None)

    # --- lifecycle of a session ------------------------------------------------------------

    async def revoke(self, ref: str) -> SessionRecord:
        """Tell the phone the session is over, then forget its key.

        :class:`RevokedLocally` when the phone could not be told; :class:`SessionInactive` when it ended meanwhile.
        """
        record = self.resolve(ref)
        if record.status != "active":
            raise SessionInactive(f"session {record.name!r} is already {record.status}")
        await self.online()
        await self._catch_up()  # a session paired (or ended) by another process since we last looked
        if record.topic in self.engine.sessions:
            await self._runner().run(self.engine.disconnect(record.topic, self.clock()))
            return self._record(record.topic)
        current = self._record(record.topic)
        if current.status != "active":
            ended = f"session {record.name!r} was {current.status} meanwhile"
            raise SessionInactive(f"{ended} (by the phone or another walletsync process)")
        with self.db.transaction():  # active in the store, yet no key to tell the phone with
            if self.db.end_session(record.topic, "revoked"):
                message = "revoked locally; the phone was not told (no session key)"
                self._audit("session_revoked", record.topic, code=6000, message=message)
        self._broadcast([ev.SessionDeleted(record.topic, 6000, "revoked locally", "self")])
        raise RevokedLocally(
            f"session {record.name!r} is marked revoked here, but its key is gone so the phone was not told; "
            "remove it on the phone too"
        )

    async def revoke_all(self) -> list[SessionRecord]:
        return [await self.revoke(s.topic) for s in self.db.sessions(include_ended=False)]

    async def extend(self, ref: str) -> SessionRecord:
        record = await self._ready(ref)
        await self._runner().run(self.engine.extend(record.topic, self.clock()))
        return self._record(record.topic)

    async def ping(self, ref: str, timeout: float = 30.0) -> tuple[SessionRecord, float]:
        """Ping the phone; returns the session and the round trip in seconds."""
        record = await self._ready(ref)
        started = time.monotonic()
        acked = asyncio.ensure_future(self._ack(record.topic, "wc_sessionPing"))
        await asyncio.sleep(0)
        await self._runner().run(self.engine.ping(record.topic, self.clock()))
        try:
            async with asyncio.timeout(timeout):
                await acked
        except TimeoutError:
            raise RequestTimeout(
                f"{record.name!r} did not answer the ping within {timeout:g} s (is the phone online?)"
            ) from None
        return self._record(record.topic), time.monotonic() - started

    async def _ack(self, topic: str, method: str) -> None:
        async for event in self.events():
            if isinstance(event, ev.Acknowledged) and event.topic == topic and event.method == method:
                return

    # --- audit ------------------------------------------------------------------------------------

    def audit_entries(self, ref: str | None = None) -> list[audit.AuditEntry]:
        return self.db.audit_entries(self.resolve(ref).topic if ref else None)

    def verify_audit(self) -> audit.AuditVerdict:
        head = self.db.audit_head()
        entries = self.db.audit_entries()
        if head is not None and not audit.verify_head(head[0], head[1], head[2], self.secrets.identity.public_key):
            return audit.AuditVerdict(
                False, len(entries), {"seq": head[0], "reason": "the signed head of the log was edited"}
            )
        return audit.verify(entries, self.secrets.identity.public_key, head=(head[0], head[1]) if head else None)


def _default_chain(record: SessionRecord) -> str:
    """The first chain (in account order) the user asked for and the phone granted; never one nobody asked for."""
    if not record.accounts:
        raise ProtocolError(f"session {record.name!r} has no accounts", by="peer")
    requested = record.requested_chains
    if requested:
        return requested[0]
    granted = granted_chains(record.namespaces)
    shown = ", ".join(granted[:5]) + (f" and {len(granted) - 5} more" if len(granted) > 5 else "")
    raise ChainNotRequested(
        f"the phone granted {record.name!r} only chains you did not ask for ({shown}); "
        "pass --chain with one of them to use it anyway"
    )


def _account_for(record: SessionRecord | None, chain_id: str | None) -> str:
    if record is None:
        return ""
    for account in record.accounts:
        if chain_id is None or chain_of_account(account) == chain_id:
            return account.split(":")[2]
    return record.accounts[0].split(":")[2] if record.accounts else ""
