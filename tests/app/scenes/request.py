"""Scenes of the session detail and request screens: one session with a few requests and its audit trail."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual.pilot import Pilot
from textual.widgets import Static

from tests.app.fakes import ADDRESS, NOW, FakeCompanion, session
from tests.app.scenes import Scene, sessions_shown, until_shown
from walletsync.app import build_app
from walletsync.app.screens.detail import SessionDetailScreen
from walletsync.audit import AuditEntry
from walletsync.service import RequestOutcome
from walletsync.store.db import RequestRecord

PHONE = replace(session(1, "phone", chains=("eip155:1", "eip155:137")), last_ping=NOW - 120)
TOPIC = PHONE.topic
SIGNATURE = "0x" + "5a" * 32 + "6b" * 32 + "1c"
MESSAGE = "0x" + b"hello phone".hex()
VERIFIED = {"verified": True, "recovered": ADDRESS, "account": ADDRESS, "reason": "signed by the session account"}
MISMATCH = "0x1111111111111111111111111111111111111111"
FAILED = {
    "verified": False,
    "recovered": MISMATCH,
    "account": ADDRESS,
    "reason": f"signature mismatch: signed by {MISMATCH}, not by the session account",
}


def request(n: int, status: str, ago: int, **answer) -> RequestRecord:
    return RequestRecord(
        topic=TOPIC,
        id=1000 + n,
        method=answer.pop("method", "personal_sign"),
        params=[MESSAGE, ADDRESS],
        chain_id="eip155:1",
        expiry=NOW - ago + 300,
        status=status,
        result=answer.get("result"),
        error=answer.get("error"),
        verdict=answer.get("verdict"),
        created_at=NOW - ago,
        answered_at=None if status == "pending" else NOW - ago + 20,
    )


def entry(seq: int, ago: int, kind: str, **data) -> AuditEntry:
    return AuditEntry(seq, (NOW - ago) * 1000, kind, TOPIC, data, f"{seq:02x}" * 32, "00" * 64)


def companion(outcome: RequestOutcome | None = None) -> FakeCompanion:
    fake = FakeCompanion([PHONE, session(2, "ledger")])
    fake.sent_requests = (
        request(1, "rejected", 3 * 3600, error={"code": 5000, "message": "User rejected."}),
        request(2, "answered", 2 * 3600, result=SIGNATURE, verdict=FAILED),
        request(3, "answered", 600, result=SIGNATURE, verdict=VERIFIED),
        request(4, "pending", 30),
    )
    fake.session_audit = (
        entry(1, 86400, "session_settled", name="phone", accounts=[f"eip155:1:{ADDRESS}"]),
        entry(2, 3 * 3600, "request_pushed", id=1001, method="personal_sign", chain_id="eip155:1"),
        entry(3, 3 * 3600 - 20, "request_rejected", id=1001, code=5000, message="User rejected."),
        entry(4, 600, "request_pushed", id=1003, method="personal_sign", chain_id="eip155:1"),
        entry(5, 580, "signature_verified", id=1003, recovered=ADDRESS, reason="signed by the session account"),
        entry(6, 120, "ping_answered"),
    )
    fake.outcome = outcome
    return fake


def answered(**answer) -> RequestOutcome:
    return RequestOutcome(PHONE, 42, "personal_sign", **answer)


async def _still(pilot: Pilot) -> None:
    """No blinking cursors: the picture must not depend on when it is taken."""
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()


async def open_detail(pilot: Pilot) -> None:
    await sessions_shown(pilot)
    await pilot.press("enter")
    await until_shown(pilot, SessionDetailScreen, lambda screen: screen.record is not None)


async def open_request(pilot: Pilot) -> None:
    await sessions_shown(pilot)
    await pilot.press("s")
    await pilot.pause()
    await pilot.press(*"hello phone")
    await _still(pilot)


async def send(pilot: Pilot, state: str) -> None:
    await open_request(pilot)
    await pilot.press("ctrl+s")
    async with asyncio.timeout(5):
        while not pilot.app.screen.query_one("#request-status", Static).has_class(f"-{state}"):
            await pilot.pause(0.01)
    await _still(pilot)


SCENES = [
    Scene(
        "session-detail",
        'The detail of session "phone": peer "Phone Wallet · https://phone.example", status active, expires in '
        "6d 01h, last ping 2m ago, 1 pending request, its topic; the eip155 scopes (chains Ethereum (eip155:1) and "
        "Polygon (eip155:137), personal_sign, its two accounts); four requests on Ethereum (eip155:1), newest first — waiting with a 4:30 countdown, verified with "
        "the recovered address, failed with the mismatch reason, rejected with the phone's message — and the audit "
        "trail newest first (chain_id=Ethereum (eip155:1) in its pushed requests). Footer: ? Keys, s New request, a Audit log, esc Back.",
        lambda: build_app(companion()),
        size=(120, 44),
        steps=open_detail,
    ),
    Scene(
        "request-compose",
        'The new-request screen for "phone": the chain picker on Ethereum (eip155:1), the "Send to phone" button, the '
        'Message / Typed data / Transaction tabs with "hello phone" typed as the message; nothing sent yet.',
        lambda: build_app(companion()),
        steps=open_request,
    ),
    Scene(
        "request-waiting",
        'After sending: "Waiting for the phone… approve or reject personal_sign on the phone." and '
        '"Expires in 5:00" in amber; the Send button is disabled.',
        lambda: build_app(companion()),
        steps=lambda pilot: send(pilot, "waiting"),
    ),
    Scene(
        "request-verified",
        'The phone signed: "Verified — signed by the session account" in green, the recovered address equal to '
        "the session account, and the signature.",
        lambda: build_app(companion(answered(result=SIGNATURE, verdict=VERIFIED))),
        steps=lambda pilot: send(pilot, "verified"),
    ),
    Scene(
        "request-rejected",
        'The phone said no: "Rejected on the phone: User rejected. (code 5000)", shown muted as a rejection, not as '
        "an error; the draft is still there to send again.",
        lambda: build_app(companion(answered(error={"code": 5000, "message": "User rejected."}))),
        steps=lambda pilot: send(pilot, "rejected"),
    ),
]
