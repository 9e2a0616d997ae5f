"""The QR `walletsync pair` prints in text mode decodes back to the URI, as a phone camera would read it."""

from __future__ import annotations

import zxingcpp
from PIL import Image

from walletsync.qr import FULL, LOWER, UPPER, half_block_rows, qr_matrix, terminal_qr

URI = "wc:9df7ceabd1efee9db9191cfcd158269c69e739f313ad73799d10b4247c227f96@2?expiryTimestamp=1795456073&relay-protocol=irn&symKey=cc47d54cfe02ead49a04dd42d74ce9af4e412d815247104735a9bad788eba84c"


def decode(lines: list[str], scale: int = 6) -> list[str]:
    """Glyph foreground = dark module, cell background = light; each cell is two pixels tall."""
    width = max(len(line) for line in lines)
    image = Image.new("L", (width * scale, len(lines) * 2 * scale), 255)
    for y, line in enumerate(lines):
        for x, char in enumerate(line):
            for half, dark in ((0, char in (FULL, UPPER)), (1, char in (FULL, LOWER))):
                if dark:
                    image.paste(0, (x * scale, (2 * y + half) * scale, (x + 1) * scale, (2 * y + half + 1) * scale))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False)
    return [result.text for result in found]  # QR codes only: a run of modules can pass for another barcode


def test_half_block_qr_decodes_to_the_uri():
    assert decode(half_block_rows(qr_matrix(URI, quiet_zone=4))) == [URI]
    assert decode(half_block_rows(qr_matrix(URI, quiet_zone=2))) == [URI]


def test_coloured_terminal_qr_is_black_on_white_and_decodes():
    text = terminal_qr(URI, color=True, quiet_zone=2)
    lines = text.splitlines()
    assert all(line.startswith("\x1b[30;107m") and line.endswith("\x1b[0m") for line in lines)
    assert decode([line[len("\x1b[30;107m") : -len("\x1b[0m")] for line in lines]) == [URI]


def test_qr_is_version_8_at_level_l():
    """A 187-char WalletConnect URI stays at 49 modules: 57 columns with the quiet zone, as RECIPES.md measured."""
    matrix = qr_matrix(URI, quiet_zone=4)
    assert len(matrix) == len(matrix[0]) == 49 + 8
    assert len(half_block_rows(matrix)) == 29
