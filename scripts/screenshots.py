"""Write screenshots/<scene>.svg for every scene the snapshot tests pin: `.venv/bin/python scripts/screenshots.py`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.app.scenes import Scene, all_scenes  # noqa: E402


async def shoot(scene: Scene) -> None:
    app = scene.build()
    async with app.run_test(size=scene.size) as pilot:
        await pilot.pause()
        if scene.steps is not None:
            await scene.steps(pilot)
            await pilot.pause()
        app.save_screenshot(filename=f"{scene.name}.svg", path=str(REPO / "screenshots"))


async def main(names: list[str]) -> None:
    for scene in all_scenes():
        if not names or scene.name in names:
            await shoot(scene)
            print(f"wrote screenshots/{scene.name}.svg")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
