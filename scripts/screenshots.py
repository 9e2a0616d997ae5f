"""Write screenshots/*.svg from the same fixtures as the snapshot tests: `.venv/bin/python scripts/screenshots.py`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.app.fakes import NOW, FakeCompanion, session  # noqa: E402
from walletsync.app import build_app  # noqa: E402


async def sessions_screen() -> None:
    companion = FakeCompanion([
        session(1, "phone"),
        session(2, "ledger", expiry=NOW + 42 * 60, chains=("eip155:1", "eip155:137")),
        session(3, "old", status="revoked"),
    ])
    app = build_app(companion)
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.pause()
        app.save_screenshot(filename="sessions.svg", path=str(REPO / "screenshots"))


if __name__ == "__main__":
    asyncio.run(sessions_screen())
    print("wrote screenshots/sessions.svg")
