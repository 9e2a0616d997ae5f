"""A companion stand-in with fixed sessions and a fixed clock, for deterministic snapshots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable

from walletsync.service import (
    AuditEntry,
    AuditVerdict,
    Companion,
    CompanionAPI,
    Event,
    PairingOffer,
    RelayChoice,
    RequestOutcome,
    RequestRecord,
    SessionRecord,
    Status,
)
from walletsync.service import events as ev

NOW = 1_800_000_000
URI = "wc:7f6e504bfad60b485450578e05678ed3e8e8c4751d3c6160be17160d63ec90f9@2?relay-protocol=irn&symKey=587d5484ce2a2a6ee3ba1962fdd7e8588e06200c46823bd18fbd67def96ad303&expiryTimestamp=1800000300"
ADDRESS = "0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"


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


class FakeCompanion:
    """Just what the screens read: relay, link status, clock, sessions, events; it never talks to a phone."""

    relay = RelayChoice("ws://127.0.0.1:8765", "local")
    link_status = Status("online")

    def __init__(self, sessions: list[SessionRecord]) -> None:
        self._sessions = sessions

    def clock(self) -> float:
        return NOW

    def sessions(self) -> list[SessionRecord]:
        return list(self._sessions)

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
        """Request 42 goes out (5 minutes to answer); then ``outcome`` comes back, or nothing ever does."""
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

    # --- what a phone would have to answer: the fake has no phone ---
    def rename(self, ref: str, name: str) -> SessionRecord:
        raise NotImplementedError("the fake companion renames nothing")

    async def revoke(self, ref: str) -> SessionRecord:
        raise NotImplementedError("the fake companion has no phone to tell")

    async def extend(self, ref: str) -> SessionRecord:
        raise NotImplementedError("the fake companion has no phone to ask")

    async def ping(self, ref: str, timeout: float = 30.0) -> tuple[SessionRecord, float]:
        raise NotImplementedError("the fake companion has no phone to ping")


def _both_fit(fake: FakeCompanion, real: Companion) -> tuple[CompanionAPI, CompanionAPI]:
    """Never called: mypy checks here that the fake and the real companion both have the shape the screens use."""
    return fake, real
