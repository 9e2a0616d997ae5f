"""Scenes of the session detail and request screens: one session with a few requests and its audit trail."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from eth_abi import encode
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent, TextArea

from tests.app.fakes import ADDRESS, NOW, FakeCompanion, session
from tests.app.scenes import Scene, sessions_shown, until_shown
from walletsync.app import build_app
from walletsync.app.screens.detail import SessionDetailScreen
from walletsync.app.screens.modals import SendAnywayScreen
from walletsync.app.screens.policy_form import PolicyFormScreen
from walletsync.app.screens.request import RequestScreen
from walletsync.audit import AuditEntry
from walletsync.policy.evaluate import UNLIMITED_APPROVAL, Refusal
from walletsync.policy.model import NativeCap, Policies, Policy, TokenCap
from walletsync.service import PolicyRefused, RequestOutcome
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


USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
SPENDER = "0x1111111254EEB25477B68fb85Ed929f73A960582"
APPROVAL = json.dumps(
    {
        "to": USDC,
        "value": "0x0",
        "data": "0x095ea7b3" + encode(["address", "uint256"], [SPENDER, 2**256 - 1]).hex(),
    }
)
"""approve(spender, 2**256 - 1) on USDC: an unlimited approval."""
REFUSED = PolicyRefused(
    Refusal(
        UNLIMITED_APPROVAL,
        f"an unlimited approval of USDC 0xA0b8…eB48 for {SPENDER}: the session's policy does not allow unlimited "
        "approvals (ask for an exact amount, or set the policy with --allow-unlimited-approvals)",
        TOPIC,
    )
)
POLICIES = Policies(
    all=Policy(max_requests_per_hour=60),
    sessions={
        TOPIC: Policy(
            chains=frozenset({"eip155:1", "eip155:137"}),
            native_caps=(NativeCap("eip155:1", "0.1"),),
            token_caps=(TokenCap("eip155:1", USDC, "USDC", 6, "500"),),
            recipients=frozenset({SPENDER}),
        )
    },
    names={TOPIC: "phone"},
)


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


def with_policy(fake: FakeCompanion, refusal: PolicyRefused | None = None) -> FakeCompanion:
    """The fake with :data:`POLICIES` in force (``refusal``: what Send meets)."""
    fake.policies, fake.refusal = POLICIES, refusal
    return fake


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


async def open_policy_form(pilot: Pilot) -> None:
    """The detail's p: the session's policy as a form, prefilled."""
    await open_detail(pilot)
    await until_shown(pilot, SessionDetailScreen, lambda screen: screen.policy is not None)
    await pilot.press("p")
    await until_shown(pilot, PolicyFormScreen, lambda screen: True)
    await _still(pilot)


async def previewed(pilot: Pilot, draft: dict[str, str]) -> None:
    """Until the request screen shows what ``draft`` would do (decoded a moment after the last keystroke)."""
    await until_shown(
        pilot, RequestScreen, lambda screen: screen.previewed is not None and screen.previewed[0] == draft
    )


async def open_request(pilot: Pilot) -> None:
    await sessions_shown(pilot)
    await pilot.press("s")
    await pilot.pause()
    await pilot.press(*"hello phone")
    await previewed(pilot, {"message": "hello phone"})
    await _still(pilot)


async def draft_approval(pilot: Pilot) -> None:
    await sessions_shown(pilot)
    await pilot.press("s")
    await until_shown(pilot, RequestScreen)
    screen = pilot.app.screen
    screen.query_one(TabbedContent).active = "kind-tx"
    screen.query_one("#tx-input", TextArea).text = APPROVAL
    await previewed(pilot, {"tx": APPROVAL})
    await _still(pilot)


async def asked_twice(pilot: Pilot) -> None:
    await draft_approval(pilot)
    await pilot.press("ctrl+s")
    await until_shown(pilot, SendAnywayScreen)


async def refused(pilot: Pilot) -> None:
    await asked_twice(pilot)
    await pilot.press("y")
    async with asyncio.timeout(5):
        while not pilot.app.screen.query_one("#request-status", Static).has_class("-refused"):
            await pilot.pause(0.01)
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
        "Polygon (eip155:137), personal_sign, its two accounts); its Policy: 'no policy' for this session and for all, "
        '"p sets it here" and the command that sets one; four requests on Ethereum (eip155:1), newest first — waiting '
        "with a 4:30 countdown, verified with "
        "the recovered address, failed with the mismatch reason, rejected with the phone's message — and the audit "
        "trail newest first (chain_id=Ethereum (eip155:1) in its pushed requests). Footer: ? Keys, s New request, t Serve to tools, a Audit log, p Set policy, esc Back.",
        lambda: build_app(companion()),
        size=(120, 44),
        steps=open_detail,
    ),
    Scene(
        "request-compose",
        'The new-request screen for "phone": the chain picker on Ethereum (eip155:1), the "Send to phone" button, the '
        'Message / Typed data / Transaction tabs with "hello phone" typed as the message and, under it, what it would '
        "do: Sign a message (11 bytes of text): 'hello phone' on Ethereum (eip155:1), no warning; nothing sent yet.",
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
    Scene(
        "session-detail-policy",
        'The detail of session "phone" with its Policy section: this session allows the chains Ethereum (eip155:1) '
        "and Polygon (eip155:137), at most 0.1 ETH a day on Ethereum (eip155:1), at most 500 USDC 0xA0b8…eB48 a day "
        "on Ethereum, recipients 0x1111111254EEB25477B68fb85Ed929f73A960582 only, unlimited approvals refused; all "
        'sessions: at most 60 requests an hour, unlimited approvals refused; "p sets it here", the policy set command, '
        '"x clears it". Footer: ? Keys, s New request, t Serve to tools, a Audit log, p Set policy, x Clear policy, esc Back.',
        lambda: build_app(with_policy(companion())),
        size=(120, 56),
        steps=open_detail,
    ),
    Scene(
        "policy-form",
        'p on the detail of "phone": the dialog "Policy of \'phone\'" over it, each field labelled with its policy set '
        "option and prefilled with the session's policy — Chains eip155:1, eip155:137; Methods empty; Max native per "
        "day eip155:1=0.1; Max token per day eip155:1:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48=500; Recipients "
        "0x1111111254EEB25477B68fb85Ed929f73A960582; Max requests per hour empty; Allow unlimited approvals unticked "
        '— and the buttons "Save (^s)" and "Cancel (esc)"; the Chains field has the focus.',
        lambda: build_app(with_policy(companion())),
        size=(120, 50),
        steps=open_policy_form,
    ),
    Scene(
        "request-decoded-warning",
        "An unlimited USDC approval drafted as a transaction: under the editor, what it would do (Approve "
        "unlimited USDC 0xA0b8…eB48 for the spender, on Ethereum (eip155:1), its effect) and the "
        'warning in amber; Send opened "Look twice before the phone is asked" listing the unlimited_approval '
        'warning, with "Send anyway (y)" and "Cancel (n)" (focused).',
        lambda: build_app(companion()),
        size=(120, 40),
        steps=asked_twice,
    ),
    Scene(
        "request-refused",
        "The same approval, sent anyway, refused by the session's policy before the phone saw it: in red, "
        '"Refused by your policy: unlimited_approval — an unlimited approval of USDC 0xA0b8…eB48 for 0x1111…: the '
        'session\'s policy does not allow unlimited approvals (…)" and "The phone never saw this request."; the '
        "draft and its decoding are still there.",
        lambda: build_app(with_policy(companion(), REFUSED)),
        size=(120, 40),
        steps=refused,
    ),
]
