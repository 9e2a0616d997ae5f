"""The wire table of the Sign methods: each one's publish tag, TTL and prompt flag, and the protocol's lifetimes.

Kept apart from the engine so the relay and the loopback can name the handshake tags
(``wc_proposeSession`` / ``wc_approveSession`` publish with them) without importing the state
machine. Values follow SDK 2.25 (reference §4.2).
"""

from __future__ import annotations

from dataclasses import dataclass

PROPOSAL_TTL = 300
SESSION_TTL = 7 * 24 * 3600
REQUEST_TTL = 900
MIN_REQUEST_EXPIRY, MAX_REQUEST_EXPIRY = 300, 7 * 24 * 3600
RELAY = {"protocol": "irn"}
"""The relay protocol a proposal and a settle name (the only one there is)."""

SESSION_PROPOSE_TAG = 1100
"""``wc_sessionPropose`` on the pairing topic (the relay's ``wc_proposeSession`` publishes with it)."""
SESSION_PROPOSE_RESPONSE_TAG = 1101
"""The wallet's answer to a proposal, on the pairing topic (first publish of ``wc_approveSession``)."""
SESSION_SETTLE_TAG = 1102
"""``wc_sessionSettle`` on the session topic (second publish of ``wc_approveSession``)."""


@dataclass(frozen=True)
class Opts:
    """Publish options of one direction of a method (SDK 2.25, reference §4.2)."""

    tag: int
    ttl: int
    prompt: bool = False


# method -> (request opts, response opts). Rejects of a proposal use 1120 (user) / 1121 (invalid).
OUTBOUND: dict[str, tuple[Opts, Opts]] = {
    "wc_pairingDelete": (Opts(1000, 86400), Opts(1001, 86400)),
    "wc_pairingPing": (Opts(1002, 30), Opts(1003, 30)),
    "wc_sessionPropose": (Opts(SESSION_PROPOSE_TAG, 300, True), Opts(SESSION_PROPOSE_RESPONSE_TAG, 300)),
    "wc_sessionSettle": (Opts(SESSION_SETTLE_TAG, 300), Opts(1103, 300)),
    "wc_sessionUpdate": (Opts(1104, 86400), Opts(1105, 86400)),
    "wc_sessionExtend": (Opts(1106, 86400), Opts(1107, 86400)),
    "wc_sessionRequest": (Opts(1108, REQUEST_TTL, True), Opts(1109, REQUEST_TTL)),
    "wc_sessionEvent": (Opts(1110, 300, True), Opts(1111, 300)),
    "wc_sessionDelete": (Opts(1112, 86400), Opts(1113, 86400)),
    "wc_sessionPing": (Opts(1114, 86400), Opts(1115, 86400)),
}
PROPOSAL_REJECT = Opts(1120, 300)
PROPOSAL_AUTO_REJECT = Opts(1121, 300)
UNSUPPORTED_ON_PAIRING = Opts(0, 86400)
