"""What the screens look like, pinned as SVG snapshots (fixed sessions, fixed clock)."""

from __future__ import annotations

from tests.app.fakes import NOW, FakeCompanion, session
from walletsync.app import build_app


def test_sessions_screen(snap_compare):
    """A person sees the session table with three rows — an active phone (first row highlighted, 6 days left),
    an active two-chain wallet expiring in 42 minutes, and a revoked one with no countdown — the key bindings
    in the footer, and "local relay ws://127.0.0.1:8765 · link up" in the status bar."""
    companion = FakeCompanion([
        session(1, "phone"),
        session(2, "ledger", expiry=NOW + 42 * 60, chains=("eip155:1", "eip155:137")),
        session(3, "old", status="revoked"),
    ])
    assert snap_compare(build_app(companion), terminal_size=(120, 24))
