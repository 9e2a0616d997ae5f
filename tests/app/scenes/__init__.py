"""Named app states for snapshot tests and screenshots: one definition, two uses.

Each module here lists its scenes in ``SCENES``; ``tests/app/test_snapshots.py`` pins every
scene as an SVG snapshot and ``scripts/screenshots.py`` writes the same states to
``screenshots/<name>.svg``. A scene builds its app from fixed fakes (fixed keys, clock and
URI) and may drive it with Pilot before the picture is taken.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textual.app import App
from textual.pilot import Pilot


@dataclass(frozen=True)
class Scene:
    name: str
    description: str  # what a person sees: the snapshot test's claim
    build: Callable[[], App]
    size: tuple[int, int] = (120, 30)
    steps: Callable[[Pilot], Awaitable[None]] | None = None


async def until_shown(pilot: Pilot, screen: type, ready=lambda screen: True) -> None:
    """Until a ``screen`` is on top and ``ready`` with what it reads off the event loop."""
    async with asyncio.timeout(5):
        while not (isinstance(pilot.app.screen, screen) and ready(pilot.app.screen)):
            await pilot.pause(0.01)
    await pilot.pause()


async def sessions_shown(pilot: Pilot) -> None:
    from walletsync.app.screens.sessions import SessionsScreen

    await until_shown(pilot, SessionsScreen, lambda screen: screen.records)


def all_scenes() -> list[Scene]:
    from tests.app.scenes import audit, backup, balances, devices, pairing, request, sessions, tools

    return [
        *sessions.SCENES,
        *request.SCENES,
        *pairing.SCENES,
        *audit.SCENES,
        *devices.SCENES,
        *balances.SCENES,
        *tools.SCENES,
        *backup.SCENES,
    ]
