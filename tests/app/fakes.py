"""A companion stand-in with fixed sessions, devices and a fixed clock, for deterministic snapshots."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path

from walletsync.chains.user import Additions
from walletsync.decode.model import RequestWarning, Undecodable
from walletsync.names import local_name
from walletsync.policy.model import ALL, Policies
from walletsync.service import (
    AuditEntry,
    AuditVerdict,
    BackupAge,
    BalanceRow,
    Companion,
    CompanionAPI,
    DeviceGroupError,
    DeviceRecord,
    Event,
    LinkOffer,
    PairingOffer,
    PolicyRefused,
    PolicyStatus,
    PolicyView,
    Registry,
    RelayChoice,
    RequestOutcome,
    RequestPreview,
    RequestRecord,
    RestoredHere,
    SessionRecord,
    ShareSpec,
    Status,
    Watched,
    backup,
    read_request,
)
from walletsync.service import events as ev
from walletsync.service.group_sync import SyncStatus

NOW = 1_800_000_000
SHARES = [
    # SLIP-39's test vector 23 ("Basic sharing 2-of-3 (256 bits)", tests/vault/vectors): public words, no secret
    "humidity disease academic always aluminum jewelry energy woman receiver strategy amuse duckling lying evidence "
    "network walnut tactics forget hairy rebound impulse brother survive clothes stadium mailman rival ocean reward "
    "venture always armed unwrap",
    "humidity disease academic agency actress jacket gross physics cylinder solution fake mortgage benefit public "
    "busy prepare sharp friar change work slow purchase ruler again tricycle involve viral wireless mixture anatomy "
    "desert cargo upgrade",
]
"""The shares the fake's backups are split into: two of one set, both needed."""
OTHER_SET_SHARE = (
    # test vector 45: a valid share of another set
    "western apart academic always artist resident briefing sugar woman oven coding club ajar merit pecan answer "
    "prisoner artist fraction amount desktop mild false necklace muscle photo wealthy alpha category unwrap spew "
    "losing making"
)
URI = "wc:7f6e504bfad60b485450578e05678ed3e8e8c4751d3c6160be17160d63ec90f9@2?relay-protocol=irn&symKey=587d5484ce2a2a6ee3ba1962fdd7e8588e06200c46823bd18fbd67def96ad303&expiryTimestamp=1800000300"
ADDRESS = "0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"
LINK_URI = "walletsync:link?v=1&secret=BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY&relay=ws://127.0.0.1:8765&expires=1800000300"
"""A well-formed link for the fake's relay, valid until NOW + 300 (its secret is fixed: it links nothing)."""


def session(
    n: int,
    name: str,
    status: str = "active",
    *,
    expiry: int = NOW + 6 * 86400 + 3600,
    chains: tuple[str, ...] = ("eip155:1",),
) -> SessionRecord:
    return SessionRecord(
        topic=f"{n:02d}" * 32,
        name=name,
        peer={"name": f"{name.title()} Wallet", "url": f"https://{name}.example"},
        namespaces={
            "eip155": {
                "chains": list(chains),
                "accounts": [f"{c}:{ADDRESS}" for c in chains],
                "methods": ["personal_sign"],
                "events": [],
            }
        },
        expiry=expiry,
        status=status,
        created_at=NOW - 3600,
        last_seen=None,
        last_ping=None,
        pairing_topic=f"{n + 50:02d}" * 32,
        is_controller=False,
    )


def device(
    n: int,
    name: str,
    *,
    this: bool = False,
    linked: int = NOW - 2 * 86400,
    seen: int | None = NOW - 90,
    status: str = "in sync",
) -> DeviceRecord:
    """A member of the fake group; its id is ``n`` repeated (32 hex digits)."""
    return DeviceRecord(
        name, f"{n:02x}" * 16, this, linked, NOW if this else seen, "this device" if this else status, 0
    )


def this_device() -> DeviceRecord:
    return device(1, "desk", this=True, linked=NOW - 9 * 86400)


class FakeCompanion:
    """Just what the screens read: relay, link status, clock, sessions, events; it never talks to a phone.

    Linking is scripted: ``link_code`` (the code and the other device's name) is shown once a link is
    offered or pasted, the user's answer is awaited, then ``link_error`` is raised (the other side said
    no, the link expired) or the link succeeds with ``linked_device``. Without ``link_code`` a shown
    link waits for ever (or ends with ``link_error``). The group's own changes happen in memory:
    ``rename_device`` and ``revoke_device`` (ending the fake sessions when asked; ``revoked`` records
    each call), ``sync_now`` reports ``pending`` changes not yet confirmed. Revoking a session only marks it.
    """

    relay = RelayChoice("ws://127.0.0.1:8765", "local")
    link_status = Status("online")
    link_code: tuple[str, str] | None = None
    link_error: Exception | None = None

    def __init__(self, sessions: list[SessionRecord], devices: list[DeviceRecord] | None = None) -> None:
        self._sessions = sessions
        self.group = list(devices) if devices is not None else [this_device()]
        self.joined_with: tuple[str, str | None] | None = None  # what join_group was given: (uri, name)
        self.founded = False  # linked or joined here: in a group even if the others were revoked since
        self.revoked: list[tuple[str, bool]] = []  # what revoke_device was given: (device id, end_sessions)
        self.revoked_sessions: list[str] = []  # the topics revoke was given
        self.pending = 0

    def clock(self) -> float:
        return NOW

    additions = Additions()
    """The user's chains and tokens: the fake's registry is the bundled one with these."""

    def registry(self) -> Registry:
        return Registry(self.additions)

    def sessions(self, limit: int | None = None) -> list[SessionRecord]:
        return list(self._sessions[:limit])

    async def pair(
        self,
        *,
        chains: Iterable[str] = (),
        methods: Iterable[str] = (),
        events: Iterable[str] = (),
        name: str | None = None,
    ) -> PairingOffer:
        return PairingOffer(URI, NOW + 300, 1)

    async def wait_for_session(self, proposal_id: int, timeout: float | None = None) -> SessionRecord:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    # --- requests and one session's trail (detail + request screens) ---
    sent_requests: tuple[RequestRecord, ...] = ()
    session_audit: tuple[AuditEntry, ...] = ()
    outcome: RequestOutcome | None = None  # what sign() answers; None: the phone never answers

    # --- what a request would do, and the policies (request + detail screens) ---
    policy_file = Path("/home/user/.local/share/walletsync/policies.json")
    policies = Policies()
    policy_problem: str | None = None  # the file's state: None is attested
    policy_warned: tuple[RequestWarning, ...] = ()  # what the policies add to every decoded request
    refusal: PolicyRefused | None = None  # what sign() raises before anything is sent; None: the policies let it go
    decoded: list[str] = []  # the drafts preview() was given, as their kind and text

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
        """The real decoder on the draft (at NOW, on ``chain_id`` or Ethereum), plus ``policy_warned``."""
        from walletsync.service.decoding import decode_user_request

        wanted = read_request(message=message, typed_data=typed_data, tx=tx)
        self.decoded = [*self.decoded, wanted.method]
        record = next(s for s in self._sessions if s.topic == ref)
        chain = chain_id or "eip155:1"
        try:
            decoded = decode_user_request(wanted, chain, self.registry(), now=NOW)
        except Undecodable as exc:
            return RequestPreview(record, chain, wanted.method, None, exc)
        return RequestPreview(record, chain, wanted.method, decoded.warned(*self.policy_warned))

    def policy(self, ref: str | None = None) -> PolicyView:
        record = next((s for s in self._sessions if s.topic == ref), None) if ref else None
        digest = "ab" * 32
        status = PolicyStatus(self.policy_file, digest, digest, self.policy_problem, self.policies)
        return PolicyView(
            status, record, {s.topic: s.name for s in self._sessions if s.topic in self.policies.sessions}
        )

    def set_policy(self, ref: str | None, **limits) -> PolicyView:
        """The limits read as the service reads them (its errors), put in force unless ``policy_problem``."""
        from walletsync.protocol.namespaces import granted_chains
        from walletsync.service import PolicyUnattested
        from walletsync.service.policy_input import policy_from_input

        chains = [c for s in self._sessions if ref in (None, s.topic) for c in granted_chains(s.namespaces)]
        policy = policy_from_input(self.registry(), chains, **limits)
        if self.policy_problem is not None:
            raise PolicyUnattested(self.policy_problem)
        self.policies = self.policies.with_policy(ref or ALL, policy)
        return self.policy(ref)

    def clear_policy(self, ref: str | None = None, *, all_sessions: bool = False) -> PolicyView:
        if ref is None and not all_sessions:
            self.policies = Policies()
        else:
            self.policies = self.policies.with_policy(ref if ref else ALL, None)
        return self.policy(ref)

    def requests(self, ref: str | None = None) -> list[RequestRecord]:
        return [r for r in self.sent_requests if ref in (None, r.topic)]

    def audit_entries(self, ref: str | None = None) -> list[AuditEntry]:
        return [e for e in self.session_audit if ref in (None, e.session)]

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
        """``refusal`` if set; else request 42 goes out (5 minutes to answer), then ``outcome`` comes back, or
        nothing ever does."""
        if self.refusal is not None:
            raise self.refusal
        if on_sent is not None:
            on_sent(ev.RequestSent(ref, 42, chain_id or "eip155:1", "personal_sign", [], NOW + 300))
        if self.outcome is None:
            await asyncio.Event().wait()
        assert self.outcome is not None
        return self.outcome

    # --- the whole log (audit screen): session_audit holds every row ---
    def verify_audit(self) -> AuditVerdict:
        return AuditVerdict(True, len(self.session_audit), None)

    async def events(self) -> AsyncIterator[Event]:
        await asyncio.Event().wait()
        yield ev.StoreChanged()  # pragma: no cover

    # --- your devices ---
    def devices(self) -> list[DeviceRecord]:
        return list(self.group)

    async def _compare(self, show_code: Callable[[str, str], None], confirm: Callable[[], Awaitable[bool]]) -> None:
        """Show the scripted code, await the answer, end as scripted (LinkRefused when the user said no)."""
        from walletsync.sync.link import LinkRefused

        if self.link_code is None:
            if self.link_error is not None:
                raise self.link_error
            await asyncio.Event().wait()
        assert self.link_code is not None
        show_code(*self.link_code)
        if not await confirm():
            raise LinkRefused("the codes did not match (or you said no)")
        if self.link_error is not None:
            raise self.link_error

    async def link_device(
        self,
        *,
        on_offer: Callable[[LinkOffer], None],
        show_code: Callable[[str, str], None],
        confirm: Callable[[], Awaitable[bool]],
    ) -> DeviceRecord:
        on_offer(LinkOffer(LINK_URI, NOW + 300))
        await self._compare(show_code, confirm)
        assert self.link_code is not None
        linked = device(len(self.group) + 1, self.link_code[1], linked=NOW, seen=None, status="not heard from")
        self.group.append(linked)
        self.founded = True
        return linked

    async def join_group(
        self,
        uri: str,
        *,
        show_code: Callable[[str, str], None],
        confirm: Callable[[], Awaitable[bool]],
        name: str | None = None,
    ) -> list[DeviceRecord]:
        self.joined_with = (uri, name)
        await self._compare(show_code, confirm)
        assert self.link_code is not None
        me = self.group[0]
        self.group = [
            DeviceRecord(name or me.name, me.id, True, NOW, NOW, "this device", 0),
            device(9, self.link_code[1], linked=NOW - 30 * 86400, seen=None, status="not heard from"),
        ]
        self.founded = True
        return self.devices()

    @property
    def in_group(self) -> bool:
        return self.founded or len(self.group) > 1

    def _member(self, ref: str) -> DeviceRecord:
        found = [d for d in self.group if ref in (d.id, d.name)]
        if not found:
            raise DeviceGroupError(f"no device of the group is named {ref!r}")
        return found[0]

    def rename_device(self, ref: str, name: str) -> DeviceRecord:
        member = self._member(ref)
        renamed = replace(member, name=local_name(name))
        self.group = [renamed if d.id == member.id else d for d in self.group]
        return renamed

    async def revoke_device(self, ref: str, *, end_sessions: bool = False) -> tuple[DeviceRecord, list[SessionRecord]]:
        member = self._member(ref)
        self.revoked.append((member.id, end_sessions))
        self.group = [d for d in self.group if d.id != member.id]
        if not end_sessions:
            return member, []
        active = {s.topic for s in self._sessions if s.status == "active"}
        self._sessions = [replace(s, status="revoked") if s.topic in active else s for s in self._sessions]
        return member, [s for s in self._sessions if s.topic in active]

    async def sync_now(self, timeout: float = 15.0) -> SyncStatus:
        return SyncStatus(self.devices(), self.pending)

    # --- what a phone would have to answer: the fake has no phone (revoking only marks the session) ---
    def rename(self, ref: str, name: str) -> SessionRecord:
        raise NotImplementedError("the fake companion renames nothing")

    async def revoke(self, ref: str) -> SessionRecord:
        """Marks the session revoked (no phone to tell); ``revoked_sessions`` records each topic."""
        revoked = replace(next(s for s in self._sessions if s.topic == ref), status="revoked")
        self._sessions = [revoked if s.topic == ref else s for s in self._sessions]
        self.revoked_sessions.append(ref)
        return revoked

    async def extend(self, ref: str) -> SessionRecord:
        raise NotImplementedError("the fake companion has no phone to ask")

    async def ping(self, ref: str, timeout: float = 30.0) -> tuple[SessionRecord, float]:
        raise NotImplementedError("the fake companion has no phone to ping")

    # --- balances: ``cached`` shown at once, ``fresh`` once read (a refresh waits on ``balances_gate`` if set) ---

    cached: list[BalanceRow] = []
    fresh: list[BalanceRow] = []
    balances_gate: asyncio.Event | None = None
    refreshes = 0

    def cached_balances(self) -> list[BalanceRow]:
        return list(self.cached)

    async def balances(self, *, refresh: bool = False) -> list[BalanceRow]:
        if self.balances_gate is not None:
            await self.balances_gate.wait()
        self.refreshes += 1
        return list(self.fresh)

    def watched(self) -> list[Watched]:
        return []

    def watch(self, address: str, *, label: str | None = None, chains: Iterable[str] | None = None) -> Watched:
        return Watched(address, label, tuple(chains or ("eip155:1",)), NOW)

    def unwatch(self, ref: str) -> Watched:
        raise NotImplementedError("the fake companion watches nothing")

    # --- backups: made in memory (``made`` records each order; the shares are SHARES), restored from a real file ---

    age = BackupAge(NOW - 3 * 86400, False)  # made three days ago, nothing changed since: no line under the table
    made: list[tuple[Path, bool, ShareSpec | None]] = []  # (output, with a passphrase, spec)
    backup_gate: threading.Event | None = None  # set: create_backup (in a worker's thread) waits until it is set
    restore_group: str | None = None  # the group the restored backup's device was in
    restored_sessions: tuple[SessionRecord, ...] = ()  # the sessions a restore brings back

    def backup_age(self) -> BackupAge:
        return self.age

    def create_backup(
        self, output: Path, *, passphrase: str | None, spec: ShareSpec | None, made_by: str | None = None
    ) -> backup.BackupMade:
        """Records the order; with shares, the backup's shares are :data:`SHARES` (whatever N and T were asked)."""
        if self.backup_gate is not None:
            self.backup_gate.wait(timeout=20)
        self.made = [*self.made, (output, passphrase is not None, spec)]
        self.age = BackupAge(NOW, False)
        return backup.BackupMade(output, NOW, [list(SHARES)] if spec is not None else None, 2 if spec else None)

    def restore_backup(self, opened: backup.Backup) -> RestoredHere:
        """Refused (as the façade does) once this fake has sessions; else ``restored_sessions`` come back."""
        if self._sessions:
            raise backup.RestoreRefused("this device is not fresh: it has sessions")
        self._sessions = list(self.restored_sessions)
        return RestoredHere(len(self._sessions), opened.created_at, opened.made_by, opened.device, self.restore_group)


def _both_fit(fake: FakeCompanion, real: Companion) -> tuple[CompanionAPI, CompanionAPI]:
    """Never called: mypy checks here that the fake and the real companion both have the shape the screens use."""
    return fake, real
