"""Read what a Textual screen shows back as pixels, the way a phone camera would see the QR."""

from __future__ import annotations

from PIL import Image
from rich.color import Color
from rich.segment import Segment
from textual.app import App

UPPER, LOWER, FULL = "▀", "▄", "█"


def screen_cells(app: App) -> list[list[tuple[str, tuple[int, int, int], tuple[int, int, int]]]]:
    """Every cell of the current screen as (character, foreground RGB, background RGB), as composited."""
    rows = []
    for strip in app.screen._compositor.render_strips():
        row = []
        for segment in strip:
            row += _cells(segment)
        rows.append(row)
    return rows


def _rgb(color: Color | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(color.get_truecolor()) if color is not None else default  # type: ignore[return-value]


def _cells(segment: Segment) -> list:
    style = segment.style
    fg = _rgb(style.color if style else None, (255, 255, 255))
    bg = _rgb(style.bgcolor if style else None, (0, 0, 0))
    if style is not None and style.reverse:
        fg, bg = bg, fg
    return [(ch, fg, bg) for ch in segment.text]


def _dark(rgb: tuple[int, int, int]) -> bool:
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128


def pixels(app: App) -> list[list[bool]]:
    """Two vertical pixels per cell (True = dark), from each glyph and its fg/bg colours."""
    grid: list[list[bool]] = []
    for row in screen_cells(app):
        top, bottom = [], []
        for ch, fg, bg in row:
            t = fg if ch in (FULL, UPPER) else bg
            b = fg if ch in (FULL, LOWER) else bg
            top.append(_dark(t))
            bottom.append(_dark(b))
        grid += [top, bottom]
    return grid


def image(grid: list[list[bool]], scale: int = 4) -> Image.Image:
    height, width = len(grid), max(len(r) for r in grid)
    img = Image.new("L", (width * scale, height * scale), 255)
    for y, row in enumerate(grid):
        for x, dark in enumerate(row):
            if dark:
                img.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    return img


def decode_qr(app: App) -> list[str]:
    """Texts of the QR codes a strict camera (no inverted codes) reads off the screen."""
    import zxingcpp

    return [
        r.text
        for r in zxingcpp.read_barcodes(image(pixels(app)), formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False)
    ]


def screen_text(app: App) -> str:
    return "\n".join("".join(ch for ch, _, _ in row) for row in screen_cells(app))


def widget_text(app: App, selector: str) -> str:
    """What the screen shows inside one widget's region, row by row (text beside a QR stays apart from it)."""
    region = app.screen.query_one(selector).region
    rows = screen_cells(app)[region.y : region.bottom]
    return "\n".join("".join(ch for ch, _, _ in row[region.x : region.right]) for row in rows)
