"""Pairing QR codes as half-block text: two modules per character cell, dark on light.

The matrix comes from the ``qrcode`` package (error correction L keeps a
WalletConnect URI at version 8: 49 modules). Both the CLI and the app draw it
from :func:`qr_matrix`, so what is tested is what is shown.
"""

from __future__ import annotations

UPPER, LOWER, FULL, EMPTY = "▀", "▄", "█", " "


def qr_matrix(text: str, *, quiet_zone: int = 4) -> list[list[bool]]:
    """Module matrix (True = dark) with ``quiet_zone`` light modules around it."""
    import qrcode  # with PIL behind it: not before a QR is drawn (the app paints its first frame without)
    from qrcode.constants import ERROR_CORRECT_L

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_L, border=quiet_zone)
    code.add_data(text)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def half_block_rows(matrix: list[list[bool]]) -> list[str]:
    """Rows of characters where the glyph's *foreground* marks dark modules (draw fg dark, bg light)."""
    rows = matrix + ([[False] * len(matrix[0])] if len(matrix) % 2 else [])
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2]):
        lines.append("".join(FULL if t and b else UPPER if t else LOWER if b else EMPTY for t, b in zip(top, bottom)))
    return lines


def terminal_qr(text: str, *, color: bool, quiet_zone: int = 4) -> str:
    """The QR as terminal text: black on white with ANSI colours, or plain glyphs (dark = glyph) without."""
    lines = half_block_rows(qr_matrix(text, quiet_zone=quiet_zone))
    if color:
        lines = [f"\x1b[30;107m{line}\x1b[0m" for line in lines]
    return "\n".join(lines)
