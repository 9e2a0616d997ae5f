"""Named app states for snapshot tests and screenshots: one definition, two uses.

Each module here lists its scenes in ``SCENES``; ``tests/app/test_snapshots.py`` pins every
scene as an SVG snapshot and ``scripts/screenshots.py`` writes the same states to
``screenshots/<name>.svg``. A scene builds its app from fixed fakes (fixed keys, clock and
URI) and may drive it with Pilot before the picture is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from textual.app import App
from textual.pilot import Pilot


@dataclass(frozen=True)
class Scene:
    name: str
    description: str  # what a person sees: the snapshot test's claim
    build: Callable[[], App]
    size: tuple[int, int] = (120, 30)
    steps: Callable[[Pilot], Awaitable[None]] | None = None


def all_scenes() -> list[Scene]:
    from tests.app.scenes import audit, pairing, request, sessions

    return [*sessions.SCENES, *request.SCENES, *pairing.SCENES, *audit.SCENES]
