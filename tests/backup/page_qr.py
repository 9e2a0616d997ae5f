"""A share page's QR code as a photo would give it: the HTML's inline SVG drawn into a PNG (or a JPEG)."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

SQUARE = re.compile(r"M(\d+),(\d+)H\d+V\d+H\d+z")


def svg_of(page_html: str) -> str:
    return page_html[page_html.index("<svg") : page_html.index("</svg>") + len("</svg>")]


def draw(svg: str, scale: int = 8) -> Image.Image:
    """The SVG's modules (qrcode's SvgPathImage: one ``M x,y H V H z`` square per dark module), drawn on white."""
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    image = Image.new("L", (size * scale, size * scale), 255)
    squares = SQUARE.findall(svg)
    assert squares, "no modules found in the SVG"
    for x, y in squares:
        image.paste(0, (int(x) * scale, int(y) * scale, (int(x) + 1) * scale, (int(y) + 1) * scale))
    return image


def photo(page: Path, out: Path, *, format: str = "PNG") -> Path:
    """``out``: the QR of the HTML page ``page`` as an image file."""
    draw(svg_of(page.read_text())).save(out, format=format)
    return out
