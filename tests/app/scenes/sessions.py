"""Scenes of the sessions screen."""

from __future__ import annotations

from tests.app.fakes import NOW, FakeCompanion, session
from tests.app.scenes import Scene, sessions_shown
from walletsync.app import build_app


def three_sessions() -> FakeCompanion:
    return FakeCompanion(
        [
            session(1, "phone"),
            session(2, "ledger", expiry=NOW + 42 * 60, chains=("eip155:1", "eip155:137")),
            session(3, "old", status="revoked"),
        ]
    )


SCENES = [
    Scene(
        "sessions",
        "The session table with three rows — an active phone (first row highlighted, 6 days left), an active "
        "two-chain wallet expiring in 42 minutes, and a revoked one with no countdown — with Pending and Last ping "
        'columns, the key bindings (enter details, r, d, e, p, s, a, n, v) in the footer, and "local relay ws://127.0.0.1:8765 · link up" in the status bar.',
        lambda: build_app(three_sessions()),
        size=(120, 24),
        steps=sessions_shown,
    ),
]
