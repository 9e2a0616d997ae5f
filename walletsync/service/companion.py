"""The companion: the one async façade the CLI and the app use.

It runs the Sign engine (dapp role) over the relay client, persists every change
in one transaction with its audit row (:mod:`walletsync.service.journal`), restores
sessions on start (and resubscribes), expires what is due, verifies every answer,
and streams events (:meth:`Companion.events`) for a UI. Session references are
local names or unique topic prefixes.

Several processes may share one data dir (the app and CLI commands, two apps);
:mod:`walletsync.service.store_sync` keeps each one's engine in step with the store,
and the companion catches up before acting on a session.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walletsync.audit import AuditEntry
from walletsync.broadcast import Broadcast
from walletsync.chains.model import Chain, Token
from walletsync.errors import WalletsyncError
from walletsync.names import local_name
from walletsync.protocol import events as ev
from walletsync.protocol.engine import SignEngine
from walletsync.protocol.errors import OutOfScope
from walletsync.protocol.uri import format_uri
from walletsync.service.accounts import account_for, default_chain
from walletsync.service.answers import acknowledged, request_outcome
from walletsync.service.audit_check import GroupAuditVerdict, verify_members, verify_stored
from walletsync.service.backup_facade import BackupMethods
from walletsync.service.balance_facade import BalanceMethods
from walletsync.service.bridge_facade import BridgeMethods
from walletsync.service.chain_check import check_on_chain
from walletsync.service.config import Config, configured_rpc, configured_sync_ttl
from walletsync.service.devices import DeviceGroup
from walletsync.service.events import RelayStatusChanged, SessionRenamed
from walletsync.service.group_facade import GroupMethods
from walletsync.service.group_sync import CHANGE_TTL, GroupSync
from walletsync.service.journal import Journal
from walletsync.service.naming import check_active, check_free, find_active, find_session
from walletsync.service.opening import open_data_dir
from walletsync.service.outcomes import (
    ChainNotRequested,
    PairingOffer,
    RequestOutcome,
    RequestTimeout,
    RevokedLocally,
    SessionInactive,
    SessionNotFound,
)
from walletsync.service.pairing_waiters import PairingWaiters
from walletsync.service.policies import PolicyGate
from walletsync.service.preview import PreviewMethods
from walletsync.service.relay_choice import ONLINE_TIMEOUT, RelayChoice
from walletsync.service.relay_drain import drain_relay
from walletsync.service.scopes import DEFAULT_CHAINS, DEFAULT_EVENTS, DEFAULT_METHODS, METADATA, optional_namespaces
from walletsync.service.store_sync import StoreSync
from walletsync.store.db import Database, RequestRecord, SessionRecord, SessionSummary
from walletsync.store.keys import DeviceSecrets, Prompt
from walletsync.transport.client import RelayClient, Status
from walletsync.transport.runner import EngineRunner

if TYPE_CHECKING:
    from walletsync.chains.registry import Registry

NO_FLAGS = Config()


class Companion(GroupMethods, PreviewMethods, BalanceMethods, BridgeMethods, BackupMethods):
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
        self.journal = Journal(db, self.engine, secrets, clock)
        self._events: Broadcast[ev.Event] = Broadcast()
        self.pairing_waiters = PairingWaiters(db)
        self.store_sync = StoreSync(db, self.engine, self.journal, self.pairing_waiters, self._broadcast, clock)
        self.policies = PolicyGate(home, db, self.journal.audit, secrets.identity.public_key, clock, self.registry)
        self.group = DeviceGroup(db, secrets, clock, random)
        self.group_sync = GroupSync(
            db,
            self.group,
            lambda kind, **data: self.journal.audit(kind, None, **data),
            clock,
            random,
            change_ttl=configured_sync_ttl(home, CHANGE_TTL),
        )
        self.group_sync.on_applied = self._adopt_shared
        self.store_sync.on_adopt = self._reload_group
        self.engine.siblings = self.group_sync.mark()
        self.client: RelayClient | None = None
        self.runner: EngineRunner | None = None
        if relay:
            self.client = RelayClient(
                relay.url, secrets.identity, project_id=relay.project_id, clock=clock, random=random
            )
            self.runner = EngineRunner(self.engine, self.client, clock=clock, on_step=self.store_sync.on_step)
        self._status_task: asyncio.Task[None] | None = None
        self._store_task: asyncio.Task[None] | None = None
        self.store_sync.restore(only_due=relay is None)  # offline, the engine only has sessions to expire

    @classmethod
    async def open(
        cls, config: Config = NO_FLAGS, *, offline: bool = False, prompt: Prompt | None = None, **kwargs: Any
    ) -> Companion:
        """A companion on the data dir ``config`` names, its relay chosen (none when ``offline``); not yet started.

        ``prompt`` asks the user for the key file's passphrase when neither ``config`` nor
        ``$WALLETSYNC_PASSPHRASE`` gives one (without it that case is :class:`PassphraseRequired`),
        and offers a key file to a fresh data dir on a machine with no OS keyring
        (:mod:`walletsync.service.secrets_choice`).
        """
        return cls(*await open_data_dir(config, offline=offline, prompt=prompt), **kwargs)

    async def start(self) -> None:
        """Return once connecting to the relay has begun in the background; intents wait for the link when they need it."""
        await self.group_sync.start(self._runner())
        await self._runner().start()
        self._status_task = asyncio.create_task(self._watch_status(), name="relay-status")
        self._store_task = asyncio.create_task(self.store_sync.watch(self.runner), name="store-watch")

    def _runner(self) -> EngineRunner:
        if self.runner is None:
            raise WalletsyncError("this command was opened offline and cannot reach the relay")
        return self.runner

    @property
    def link_status(self) -> Status | None:
        """The relay connection's current state (None when opened offline)."""
        return self.client.status if self.client is not None else None

    async def online(self, timeout: float = ONLINE_TIMEOUT) -> None:
        """Return once the relay link is up; :class:`RelayUnreachable` at once when the relay is known to be
        unreachable (refused, no such host), else the transport's error when it does not come up within ``timeout``."""
        await self._runner().client.wait_online(timeout, fail_fast=True)

    async def sync(self, timeout: float = ONLINE_TIMEOUT, quiet: float = 0.0) -> None:
        """Return once online and done with what the relay kept for us (a delete from the phone, a late answer, …),
        with no fixed wait; ``quiet``: then also until nothing arrived for that long (see :func:`drain_relay`)."""
        await self.online(timeout)
        await drain_relay(self._runner(), self.group_sync, quiet=quiet)

    async def close(self) -> None:
        """Stop the background tasks, close the relay link and the store; the companion is unusable afterwards."""
        for task in (self._status_task, self._store_task):
            if task:
                task.cancel()
        await self.group_sync.close()
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

    # --- sessions ----------------------------------------------------------------------------

    def sessions(self, limit: int | None = None) -> list[SessionRecord]:
        """Every session in the store, ended ones included, oldest first (only the first ``limit`` if given)."""
        return self.db.sessions(limit=limit)

    def session_summaries(self) -> list[SessionSummary]:
        """Every session as the session list shows it (name, phone, accounts, expiry), oldest first: cheaper than
        :meth:`sessions` with thousands, and all a list of them needs."""
        return self.db.session_summaries()

    def resolve(self, ref: str) -> SessionRecord:
        """A session by local name, else by unique topic prefix (at least 4 hex chars)."""
        return find_session(self.db, ref)

    def _active(self, ref: str) -> SessionRecord:
        return find_active(self.db, ref, self.clock())

    async def _ready(self, record: SessionRecord) -> SessionRecord:
        """``record``'s session as it is once online, with the engine caught up: another process may have ended it."""
        await self.online()
        await self.store_sync.catch_up(self.runner)
        # ended meanwhile: SessionInactive, not the engine's "no session"
        record = check_active(self._record(record.topic), self.clock())
        if record.topic not in self.engine.sessions:
            raise SessionInactive(f"session {record.name!r} cannot be used: its key is gone (revoke it and pair again)")
        return record

    def _record(self, topic: str) -> SessionRecord:
        record = self.db.session(topic)
        if record is None:  # sessions are never deleted, only ended: a topic once seen stays
            raise SessionNotFound(f"no session with topic {topic[:8]}")
        return record

    def rename(self, ref: str, name: str) -> SessionRecord:
        """The session under its new local name (audited); :class:`NameTaken` when another session's looks the same."""
        name = local_name(name)  # a bad name is said first, whatever the session
        record = self.resolve(ref)
        if name == record.name:
            return record
        check_free(self.db, name, except_topic=record.topic)
        with self.db.transaction():
            self.db.update_session(record.topic, name=name)
            self.journal.audit("session_renamed", record.topic, old=record.name, new=name)
        self._broadcast([SessionRenamed(record.topic, name)])
        return self._record(record.topic)

    # --- pairing -------------------------------------------------------------------------------

    async def pair(
        self,
        *,
        chains: Iterable[str] = DEFAULT_CHAINS,
        methods: Iterable[str] = DEFAULT_METHODS,
        events: Iterable[str] = DEFAULT_EVENTS,
        name: str | None = None,
    ) -> PairingOffer:
        """A pairing offer (its URI to show as a QR); await :meth:`wait_for_session` with its proposal id."""
        namespaces = optional_namespaces(chains, methods, events)
        if name is not None:
            name = local_name(name)
            check_free(self.db, name)
        actions = self.engine.connect(self.clock(), optional_namespaces=namespaces)
        sent = next(a for a in actions if isinstance(a, ev.ProposalSent))
        created = next(a for a in actions if isinstance(a, ev.PairingCreated))
        if name:
            self.journal.proposal_names[sent.proposal.id] = name
        self.pairing_waiters.expect(sent.proposal.id)
        await self._runner().run(actions)
        return PairingOffer(format_uri(created.uri), created.uri.expiry_timestamp or 0, sent.proposal.id)

    async def wait_for_session(self, proposal_id: int, timeout: float | None = None) -> SessionRecord:
        """The session a phone settled for this pairing; :class:`PairingFailed` if it rejected or expired."""
        return await self.pairing_waiters.wait(proposal_id, timeout)

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
        """The verified outcome of a signing request built from user input: pushed, answered, checked.

        Malformed input is :class:`MalformedRequest` before anything else, whatever the session's state.

        For a transaction, a chain RPC (``rpc_url``, else ``config.json``'s ``rpc`` for
        the chain) turns "a well-formed hash" into "found on chain, sent by the session account".
        ``on_sent`` is called once the request is on its way (its id and expiry), before the answer.
        """
        from walletsync.signatures import read_request

        wanted = read_request(message=message, typed_data=typed_data, tx=tx)  # bad input is said first
        record = self._active(ref)
        chain = chain_id or self._default_chain(record)
        account = account_for(record, chain)
        method, params = wanted.method, wanted.params(account)
        outcome = await self._request(
            record, method, params, chain_id=chain, timeout=timeout, expiry=expiry, on_sent=on_sent
        )
        if method == "eth_sendTransaction" and outcome.ok:  # config.json is read only when there is a lookup to make
            rpc_url = rpc_url or configured_rpc(self.home, chain)
            if rpc_url:
                outcome, verified = await check_on_chain(outcome, rpc_url, account, self.db, self.journal)
                self._broadcast([verified])
        return outcome

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
        via: dict[str, Any] | None = None,
    ) -> RequestOutcome:
        """Push a raw ``method``/``params`` request and wait for the phone's answer, verified where it can be.

        The policies judge it first (:mod:`walletsync.service.policies`): :class:`PolicyRefused` (audited with its
        rule) and nothing pushed when one refuses it. ``via`` says who asked (the signer bridge's client: its
        address, its User-Agent): the request's audit row carries it.
        """
        return await self._request(
            self._active(ref),
            method,
            params,
            chain_id=chain_id,
            timeout=timeout,
            expiry=expiry,
            on_sent=on_sent,
            via=via,
        )

    async def _request(
        self,
        record: SessionRecord,
        method: str,
        params: Any,
        *,
        chain_id: str | None,
        timeout: float | None,
        expiry: int,
        on_sent: Callable[[ev.RequestSent], None] | None,
        via: dict[str, Any] | None = None,
    ) -> RequestOutcome:
        record = await self._ready(record)
        chain = chain_id or self._default_chain(record, method)
        return await self.policies.guarded(
            record,
            chain,
            method,
            params,
            expiry,
            lambda sent: self._push(
                record, chain, method, params, timeout=timeout, expiry=expiry, on_sent=sent, via=via
            ),
            on_sent,
        )

    async def _push(
        self,
        record: SessionRecord,
        chain: str,
        method: str,
        params: Any,
        *,
        timeout: float | None,
        expiry: int,
        on_sent: Callable[[ev.RequestSent], None],
        via: dict[str, Any] | None = None,
    ) -> RequestOutcome:
        """Push the request the policies let through and wait for its outcome."""
        try:
            actions = self.engine.request(record.topic, chain, method, params, self.clock(), expiry=expiry)
        except OutOfScope as exc:
            with self.db.transaction():
                self.journal.audit(
                    "request_refused_by_scope", record.topic, method=method, chain_id=chain, reason=str(exc)
                )
            raise
        sent = next(a for a in actions if isinstance(a, ev.RequestSent))
        if via:
            self.journal.request_via[(record.topic, sent.id)] = via
        events = self._events.listener()  # before the request goes out: its answer cannot come unheard
        try:
            await self._runner().run(actions)
            on_sent(sent)
            wait = timeout if timeout is not None else expiry + 5
            try:
                async with asyncio.timeout(wait):
                    return replace(await request_outcome(events, record.topic, sent.id, self._record), chain_id=chain)
            except TimeoutError:
                raise RequestTimeout(f"no answer from {record.name!r} within {wait:g} s") from None
        finally:
            self.journal.request_via.pop((record.topic, sent.id), None)  # journaled with the request, or never
            events.close()

    def _default_chain(self, record: SessionRecord, method: str | None = None) -> str:
        """The chain a request goes to when the user named none; refused (and audited) when only unasked ones exist."""
        try:
            return default_chain(record)
        except ChainNotRequested as exc:
            with self.db.transaction():
                self.journal.audit(
                    "request_refused_by_scope", record.topic, method=method, chain_id=None, reason=str(exc)
                )
            raise

    def requests(self, ref: str | None = None) -> list[RequestRecord]:
        """Signing requests sent to one session (or to all), oldest first, with their answers and verdicts."""
        return self.db.requests(self.resolve(ref).topic if ref else None)

    # --- lifecycle of a session ------------------------------------------------------------

    async def revoke(self, ref: str) -> SessionRecord:
        """The session, revoked: the phone is told it is over, then its key is forgotten.

        :class:`RevokedLocally` when the phone could not be told; :class:`SessionInactive` when it ended meanwhile.
        """
        record = self.resolve(ref)
        if record.status != "active":
            raise SessionInactive(f"session {record.name!r} is already {record.status}")
        await self.online()
        # a session paired (or ended) by another process since we last looked
        await self.store_sync.catch_up(self.runner)
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
                self.journal.audit("session_revoked", record.topic, code=6000, message=message)
        self._broadcast([ev.SessionDeleted(record.topic, 6000, "revoked locally", "self")])
        raise RevokedLocally(
            f"session {record.name!r} is marked revoked here, but its key is gone so the phone was not told; "
            "remove it on the phone too"
        )

    async def revoke_all(self) -> list[tuple[SessionRecord, WalletsyncError | None]]:
        """Every active session, each revoked as by :meth:`revoke` whatever the others gave: the session as it is after,
        and the error when its revoke failed (a user revoking everything wants every one tried)."""
        outcomes: list[tuple[SessionRecord, WalletsyncError | None]] = []
        for session in self.db.sessions(include_ended=False):
            try:
                outcomes.append((await self.revoke(session.topic), None))
            except WalletsyncError as exc:
                outcomes.append((self._record(session.topic), exc))
        return outcomes

    async def extend(self, ref: str) -> SessionRecord:
        """The session after asking the phone to extend its expiry."""
        record = await self._ready(self._active(ref))
        await self._runner().run(self.engine.extend(record.topic, self.clock()))
        return self._record(record.topic)

    async def ping(self, ref: str, timeout: float = 30.0) -> tuple[SessionRecord, float]:
        """Ping the phone; returns the session and the round trip in seconds."""
        record = await self._ready(self._active(ref))
        started = time.monotonic()
        events = self._events.listener()  # before the ping goes out
        try:
            await self._runner().run(self.engine.ping(record.topic, self.clock()))
            try:
                async with asyncio.timeout(timeout):
                    await acknowledged(events, record.topic, "wc_sessionPing")
            except TimeoutError:
                raise RequestTimeout(
                    f"{record.name!r} did not answer the ping within {timeout:g} s (is the phone online?)"
                ) from None
        finally:
            events.close()
        return self._record(record.topic), time.monotonic() - started

    # --- the chain registry ---------------------------------------------------------------------

    def registry(self) -> Registry:
        """The chain registry as config.json has it now (bundled lists read once per process; cheap to call again)."""
        from walletsync.service.registry import load_registry  # imported by what reads chains, not every command

        return load_registry(self.home)

    def add_chain(
        self,
        chain_id: str,
        *,
        name: str | None = None,
        currency: str | None = None,
        decimals: int | None = None,
        explorers: list[str] | None = None,
        rpcs: list[str] | None = None,
    ) -> Chain:
        """The chain as it reads once added, or changed where a field is given (None keeps what it has)."""
        from walletsync.service.registry import add_chain

        return add_chain(
            self.home, chain_id, name=name, currency=currency, decimals=decimals, explorers=explorers, rpcs=rpcs
        )

    def remove_chain(self, chain_id: str) -> tuple[Chain, Chain | None]:
        """The user's chain removed, and the bundled one it falls back to (None for a chain of the user's own)."""
        from walletsync.service.registry import remove_chain

        return remove_chain(self.home, chain_id)

    def add_token(self, chain_id: str, address: str, *, symbol: str, decimals: int, name: str | None = None) -> Token:
        """The token added to the chain (over a bundled one at the same address)."""
        from walletsync.service.registry import add_token

        return add_token(self.home, chain_id, address, symbol=symbol, decimals=decimals, name=name)

    def remove_token(self, chain_id: str, address: str) -> Token:
        """The token the user had added, removed."""
        from walletsync.service.registry import remove_token

        return remove_token(self.home, chain_id, address)

    # --- audit ------------------------------------------------------------------------------------

    def audit_entries(self, ref: str | None = None) -> list[AuditEntry]:
        """The audit rows of one session (or all of them), oldest first."""
        return self.db.audit_entries(self.resolve(ref).topic if ref else None)

    def verify_audit(self) -> GroupAuditVerdict:
        """Whether the audit log's hash chain and its signed head are intact, and where they break if not;
        in a device group, also each other device's shared rows, checked against that device's key."""
        from walletsync.service.backup_import import restored_devices

        own = verify_stored(self.db, self.secrets.identity.public_key)
        cards = self.group.cards_ever()
        restored = restored_devices(self.db, self.secrets.identity.public_key)  # this device's old selves
        keys = {d: r.signing_public for d, r in restored.items()}
        keys |= {d: c.signing_public for d, c in cards.items() if d != self.group.keys.id}
        devices = verify_members(self.db, keys, self.device_names())
        return GroupAuditVerdict(own.ok, own.entries, own.first_bad, tuple(devices))
