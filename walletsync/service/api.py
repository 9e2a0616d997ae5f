"""What a screen may ask of the companion: the :class:`CompanionAPI` Protocol.

:class:`~walletsync.service.companion.Companion` implements it, and so does the
test suite's fake (``tests/app/fakes.py``), so the app is typed against this and
snapshots run on the fake without a relay or a store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from walletsync.audit import AuditEntry, AuditVerdict
from walletsync.balances.model import Row
from walletsync.chains.registry import Registry
from walletsync.protocol.events import Event, RequestSent
from walletsync.service.devices import DeviceRecord
from walletsync.service.group_sync import SyncStatus
from walletsync.service.linking import Confirm, LinkOffer, ShowCode
from walletsync.service.outcomes import PairingOffer, RequestOutcome
from walletsync.service.policy_facade import PolicyView
from walletsync.service.preview import RequestPreview
from walletsync.service.relay_choice import RelayChoice
from walletsync.store.db import RequestRecord, SessionRecord, Watched
from walletsync.transport.client import Status

if TYPE_CHECKING:  # the backup code, the vault and shamir-mnemonic load when a backup is made or restored
    from walletsync.service.backup import Backup, BackupMade, RestoredHere
    from walletsync.service.backup_facade import BackupAge
    from walletsync.vault import ShareSpec


class CompanionAPI(Protocol):
    """The part of :class:`~walletsync.service.companion.Companion` the app uses."""

    @property
    def relay(self) -> RelayChoice | None:
        """The relay in use; None when opened offline."""

    @property
    def link_status(self) -> Status | None:
        """The relay connection's current state (None when opened offline)."""

    def clock(self) -> float:
        """Now, in seconds since the epoch, as the companion sees it."""

    def events(self) -> AsyncIterator[Event]:
        """Every event from now on."""

    def sessions(self, limit: int | None = None) -> list[SessionRecord]:
        """Every session in the store, ended ones included, oldest first (only the first ``limit`` if given)."""

    def requests(self, ref: str | None = None) -> list[RequestRecord]:
        """Signing requests sent to one session (or to all), oldest first."""

    def audit_entries(self, ref: str | None = None) -> list[AuditEntry]:
        """The audit rows of one session (or all of them), oldest first."""

    def verify_audit(self) -> AuditVerdict:
        """Whether the audit log is intact."""

    def registry(self) -> Registry:
        """The chain registry (names, currencies, explorer links) as config.json has it now."""

    def rename(self, ref: str, name: str) -> SessionRecord:
        """The session under its new local name."""

    async def pair(
        self,
        *,
        chains: Iterable[str] = ...,
        methods: Iterable[str] = ...,
        events: Iterable[str] = ...,
        name: str | None = None,
    ) -> PairingOffer:
        """A pairing URI to show; await :meth:`wait_for_session` with its proposal id."""

    async def wait_for_session(self, proposal_id: int, timeout: float | None = None) -> SessionRecord:
        """The session a phone settled for this pairing."""

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
        on_sent: Callable[[RequestSent], None] | None = None,
    ) -> RequestOutcome:
        """The phone's answer to a signing request, verified."""

    def preview(
        self,
        ref: str,
        *,
        message: str | None = None,
        typed_data: str | None = None,
        tx: str | None = None,
        chain_id: str | None = None,
        active: bool = False,
    ) -> RequestPreview:
        """What :meth:`sign` with the same arguments would ask the phone for on session ``ref``: the decoded request
        with the decoder's and the policies' warnings (or why it cannot be decoded), the refusal a policy would give
        it now, and why the session's scopes cannot carry it; sends, reserves and audits nothing. Raises what
        ``sign`` raises first for the same input (MalformedRequest, ChainNotRequested). Reads the database: call it
        off the event loop."""

    def policy(self, ref: str | None = None) -> PolicyView:
        """The policies in force for session ``ref`` (its own and the all-sessions one) and the policy file's state
        (attested or not, and if not, why every request is refused and what to run)."""

    def set_policy(
        self,
        ref: str | None,
        *,
        chains: Iterable[str] | None = None,
        methods: Iterable[str] | None = None,
        max_native_per_day: Iterable[str] = (),
        max_token_per_day: Iterable[str] = (),
        recipients: Iterable[str] | None = None,
        max_requests_per_hour: int | None = None,
        allow_unlimited_approvals: bool = False,
    ) -> PolicyView:
        """The view after replacing session ``ref``'s own policy (None: the all-sessions one) with exactly these
        limits, written and attested; checked as ``policy set`` checks them (PolicyFileError, BadAmount,
        UnknownToken), and PolicyUnattested when the file changed since it was attested."""

    def clear_policy(self, ref: str | None = None, *, all_sessions: bool = False) -> PolicyView:
        """The view after removing session ``ref``'s own policy (or the all-sessions one), written and attested;
        PolicyUnattested when the file changed since it was attested."""

    async def revoke(self, ref: str) -> SessionRecord:
        """The session after telling the phone it is over."""

    async def extend(self, ref: str) -> SessionRecord:
        """The session after asking the phone to extend it."""

    async def ping(self, ref: str, timeout: float = 30.0) -> tuple[SessionRecord, float]:
        """The session and the ping's round trip in seconds."""

    def devices(self) -> list[DeviceRecord]:
        """The device group's members (this device alone before any link), this device first."""

    async def link_device(
        self, *, on_offer: Callable[[LinkOffer], None], show_code: ShowCode, confirm: Confirm
    ) -> DeviceRecord:
        """The device that joined through the link shown with ``on_offer``, once both users confirmed the code."""

    async def join_group(
        self, uri: str, *, show_code: ShowCode, confirm: Confirm, name: str | None = None
    ) -> list[DeviceRecord]:
        """The group's devices once this device joined through the member's link ``uri`` (codes confirmed)."""

    @property
    def in_group(self) -> bool:
        """True when this device is in a device group (what it changes is shared with the other members)."""

    def rename_device(self, ref: str, name: str) -> DeviceRecord:
        """The device under its new name in the group (any member may rename any device; shared, audited)."""

    async def revoke_device(self, ref: str, *, end_sessions: bool = False) -> tuple[DeviceRecord, list[SessionRecord]]:
        """The device revoked, and the sessions ended with it (``end_sessions``) or kept open (else)."""

    async def sync_now(self, timeout: float = ...) -> SyncStatus:
        """The group's status after exchanging with every member online now."""

    def cached_balances(self) -> list[Row]:
        """The last figures read, at once (no RPC asked; each aged to now, stale once old); rows never read left out.
        Reads the database: call it off the event loop."""

    async def balances(self, *, refresh: bool = False) -> list[Row]:
        """Every balance row (live sessions' accounts, then watched addresses): fresh ones read now, the rest from the
        cache while still fresh (``refresh``: all read now). Never raises for an RPC's trouble: the rows say it."""

    def watched(self) -> list[Watched]:
        """Every watched address with its label and chains, in the order they were added."""

    def watch(self, address: str, *, label: str | None = None, chains: Iterable[str] | None = None) -> Watched:
        """The address as now watched (label and chains replaced where given); BadWatch, NameTaken."""

    def unwatch(self, ref: str) -> Watched:
        """The watched address ``ref`` (address or label), no longer watched; NotWatched."""

    def create_backup(
        self, output: Path, *, passphrase: str | None, spec: ShareSpec | None, made_by: str | None = None
    ) -> BackupMade:
        """A backup of this data dir written to ``output`` (never over a file) and audited; its shares are shown
        once. Derives a key with Argon2id (about a second) and reads the whole database: call it off the event
        loop."""

    def backup_age(self) -> BackupAge:
        """When the newest backup was made and whether a change worth keeping came after it (indexed reads of the
        audit log, one per kind worth keeping)."""

    def restore_backup(self, backup: Backup) -> RestoredHere:
        """Bring ``backup`` into this device, which must be fresh: RestoreRefused otherwise, nothing changed. This
        device keeps its own identity; the sessions come back usable with the phone."""
