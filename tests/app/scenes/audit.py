"""Scenes of the audit screen: a short log of two sessions, before and after checking the chain."""

from __future__ import annotations

import asyncio

from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.app.fakes import ADDRESS, NOW, FakeCompanion, session
from tests.app.scenes import Scene, sessions_shown
from walletsync.app import build_app
from walletsync.app.screens.audit import AuditScreen
from walletsync.audit import AuditEntry

PHONE, LEDGER = session(1, "phone"), session(2, "ledger")
PAIRING = "51" * 32


def entry(seq: int, ago: int, kind: str, topic: str | None, **data) -> AuditEntry:
    return AuditEntry(seq, (NOW - ago) * 1000, kind, topic, data, f"{seq:02x}" * 32, "00" * 64)


def logged() -> FakeCompanion:
    fake = FakeCompanion([PHONE, LEDGER])
    fake.session_audit = (
        entry(1, 7200, "pairing_offered", None, pairing_topic=PAIRING, expires_at=NOW - 6900),
        entry(2, 7200, "proposal_sent", None, proposal_id=1700000000000001),
        entry(3, 7150, "proposal_approved", PHONE.topic, proposal_id=1700000000000001),
        entry(4, 7150, "session_settled", PHONE.topic, name="Phone Wallet", accounts=[f"eip155:1:{ADDRESS}"]),
        entry(5, 7000, "session_renamed", PHONE.topic, old="Phone Wallet", new="phone"),
        entry(6, 3600, "session_settled", LEDGER.topic, name="ledger", accounts=[f"eip155:1:{ADDRESS}"]),
        entry(7, 600, "request_pushed", PHONE.topic, id=1001, method="personal_sign", chain_id="eip155:1"),
        entry(
            8,
            580,
            "signature_verified",
            PHONE.topic,
            id=1001,
            recovered=ADDRESS,
            reason="signed by the session account",
        ),
        entry(9, 120, "ping_answered", LEDGER.topic),
    )
    return fake


async def rows_shown(pilot: Pilot) -> None:
    """Until the log, read off the event loop, is in the table."""
    async with asyncio.timeout(5):
        while not (
            isinstance(pilot.app.screen, AuditScreen) and any(t.row_count for t in pilot.app.screen.query(DataTable))
        ):
            await pilot.pause(0.01)
    await pilot.pause()


async def open_log(pilot: Pilot) -> None:
    """The whole log, as the app-wide ``a`` opens it from any screen without a session table."""
    pilot.app.push_screen(AuditScreen(pilot.app.companion))  # type: ignore[attr-defined]
    await rows_shown(pilot)


async def audit_of_highlighted(pilot: Pilot) -> None:
    await sessions_shown(pilot)
    await pilot.press("a")
    await rows_shown(pilot)


async def verify(pilot: Pilot) -> None:
    await open_log(pilot)
    await pilot.press("v")
    verdict = pilot.app.screen.query_one("#audit-verdict")
    async with asyncio.timeout(5):
        while not verdict.has_class("-ok"):
            await pilot.pause(0.01)


SCENES = [
    Scene(
        "audit",
        "The audit log over the session list, unfiltered: nine rows newest first (#9 ping answered by ledger down to "
        "#1 pairing offered with no session), each with its UTC time, event, session name, short hash and a summary "
        'of its data; "All sessions" and "All events" filters above; footer ? Keys, v Verify chain, esc Back.',
        lambda: build_app(logged()),
        steps=open_log,
    ),
    Scene(
        "audit-session",
        'a on the session table: the log filtered to the highlighted session "phone" (the Session filter reads '
        '"phone"): rows #8, #7, #5, #4 and #3 only.',
        lambda: build_app(logged()),
        steps=audit_of_highlighted,
    ),
    Scene(
        "audit-verified",
        'The same log after v: "Chain intact: 9 entries, signed head matches" in green above the table.',
        lambda: build_app(logged()),
        steps=verify,
    ),
]
