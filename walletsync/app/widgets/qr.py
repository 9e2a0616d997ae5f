"""The pairing QR as half blocks, black on white whatever the theme.

A phone camera wants dark modules on a light background with a light quiet zone;
a dark theme must not invert it. So every QR cell carries explicit RGB colours
(not theme variables, not ANSI names a terminal could remap). The quiet zone is
4 modules, 2 when space is tight; below that the widget asks for a bigger
terminal instead of drawing a QR no camera can read.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from walletsync.qr import half_block_rows, qr_matrix

DARK_ON_LIGHT = Style(color="#000000", bgcolor="#ffffff")
QUIET_ZONES = (4, 2)


@lru_cache(maxsize=8)
def _rows(uri: str, quiet_zone: int) -> tuple[str, ...]:
    return tuple(half_block_rows(qr_matrix(uri, quiet_zone=quiet_zone)))


def forget_drawn() -> None:
    """Drop the QR rows kept for redrawing (a recovery share's among them, once its screen closes)."""
    _rows.cache_clear()


class QrCode(Widget):
    """Shows ``uri`` as a QR centred in the widget's area (give it room, e.g. ``height: 1fr``)."""

    DEFAULT_CSS = """
    QrCode { width: 1fr; height: 1fr; min-height: 1; }
    """

    uri: reactive[str] = reactive("", layout=True)

    def __init__(
        self, uri: str = "", *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.set_reactive(QrCode.uri, uri)

    def get_content_width(self, container, viewport) -> int:
        """With ``width: auto``: as wide as the QR with its full quiet zone (the text beside it gets the rest)."""
        return len(_rows(self.uri, QUIET_ZONES[0])[0]) if self.uri else 0

    def layout_rows(self) -> tuple[str, ...] | None:
        """The half-block rows that fit the current size, or None when even a 2-module quiet zone does not."""
        width, height = self.size
        for zone in QUIET_ZONES:
            rows = _rows(self.uri, zone)
            if len(rows[0]) <= width and len(rows) <= height:
                return rows
        return None

    def needed_terminal(self) -> tuple[int, int]:
        """A terminal size (columns, rows) that shows the QR with the current layout around it.

        The width never shrinks below the current one: text around the QR would
        wrap onto more lines and the row count would no longer hold.
        """
        rows = _rows(self.uri, QUIET_ZONES[-1])
        screen_w, screen_h = self.app.size
        width, height = self.size
        return max(screen_w, screen_w - width + len(rows[0])), screen_h - height + len(rows)

    def too_small_message(self) -> str:
        w, h = self.needed_terminal()
        return f"Make the terminal at least {w}×{h} to show the QR — or copy the URI below"

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        blank = self.rich_style
        if not self.uri or width <= 0:
            return Strip.blank(width, blank)
        rows = self.layout_rows()
        if rows is None:
            lines = textwrap.wrap(self.too_small_message(), max(width, 1))
            top = max((height - len(lines)) // 2, 0)
            text = lines[y - top] if 0 <= y - top < len(lines) else ""
            return Strip([Segment(text.center(width)[:width], blank)], width)
        top, left = (height - len(rows)) // 2, (width - len(rows[0])) // 2
        if not 0 <= y - top < len(rows):
            return Strip.blank(width, blank)
        row = rows[y - top]
        right = width - left - len(row)
        return Strip([Segment(" " * left, blank), Segment(row, DARK_ON_LIGHT), Segment(" " * right, blank)], width)
