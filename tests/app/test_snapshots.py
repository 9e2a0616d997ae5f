"""What the screens look like, pinned as SVG snapshots of the scenes in tests/app/scenes (fixed fakes and clock)."""

from __future__ import annotations

import pytest

from tests.app.scenes import all_scenes


@pytest.mark.parametrize("scene", all_scenes(), ids=lambda s: s.name)
def test_scene(scene, snap_compare):
    """A person sees what ``scene.description`` says (review the SVG when it changes)."""
    assert snap_compare(scene.build(), terminal_size=scene.size, run_before=scene.steps)
