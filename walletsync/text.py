"""Peer text as data: the one way a string a phone (or a relay) chose reaches a screen.

A phone picks its name, url, accounts, chains, error messages and results. Printed
as they are, an ESC starts a terminal escape sequence (retitle, clear the screen,
hide the next line), a newline forges a line of our own output, and a bidi control
reorders what follows it. :func:`shown` writes every such character as a visible
escape (``\\x1b``, ``\\n``, ``\\u202e``) and leaves everything else alone;
:func:`unshown` inverts it, so two different strings never look the same.

Escape where text meets a terminal (CLI text, error lines, the app); stored values
and ``--json`` output keep the exact string.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from itertools import repeat
from typing import Any

ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Controls (C0, DEL, C1), format characters (zero-width, bidi, BOM, …), lone surrogates, line/paragraph separators."""
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPE = re.compile(r"\\(?:[\\nrt]|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")
_LOOKS_ESCAPED = re.compile(r"\\(?:[nrt]|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")
ELLIPSIS = "…"


def is_escaped(ch: str) -> bool:
    """True for a character :func:`shown` writes as an escape."""
    return unicodedata.category(ch) in ESCAPED_CATEGORIES


def _escape(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shown(value: Any, width: int | None = None) -> str:
    """``value`` (``str()`` of it if not a string) safe to print, clipped to ``width`` terminal cells if given.

    Printable text is unchanged; a backslash is doubled only where it would
    otherwise read as the start of an escape, so the result stays reversible.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable() and "\\" not in text:  # the common case: nothing to escape
        return text if width is None or len(text) <= width else clip(text, width)  # ASCII: a cell per character
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == "\\":
            following = text[i + 1 : i + 2]
            doubled = following == "\\" or (following != "" and is_escaped(following)) or _LOOKS_ESCAPED.match(text, i)
            out.append("\\\\" if doubled else "\\")
        elif is_escaped(ch):
            out.append(_escape(ch))
        else:
            out.append(ch)
    result = "".join(out)
    return result if width is None else clip(result, width)


def unshown(text: str) -> str:
    """The string :func:`shown` was given (for a result it did not clip)."""

    def original(match: re.Match[str]) -> str:
        escape = match.group()
        if escape[1] in "\\nrt":
            return {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}[escape[1]]
        return chr(int(escape[2:], 16))

    return _ESCAPE.sub(original, text)


def cell_width(ch: str) -> int:
    """Terminal cells one character takes: 0 for combining and format marks, 2 for wide East Asian ones."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cells(text: str) -> int:
    """Terminal cells ``text`` takes (``len`` counts a wide character as one)."""
    if text.isascii():  # every ASCII character takes one cell (what cell_width says of each): the common case, fast
        return len(text)
    rest = text.translate(_NOT_ASCII)  # mostly ASCII ("0xab16a96D…"): look only at the others
    return len(text) - len(rest) + sum(cell_width(ch) for ch in rest)


_NOT_ASCII = dict.fromkeys(range(128))


def clip(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` cells, ending in "…" when something was cut."""
    if cells(text) <= width:
        return text
    kept, used = [], cell_width(ELLIPSIS)
    for ch in text:
        used += cell_width(ch)
        if used > width:
            break
        kept.append(ch)
    return "".join(kept) + ELLIPSIS if width > 0 else ""


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` cells (``str.ljust`` miscounts wide characters)."""
    return text + " " * max(0, width - cells(text))


def aligned(rows: Sequence[Sequence[str]], gap: str = "  ") -> list[str]:
    """``rows`` (as long as each other, a cell at least) as lines: each cell :func:`pad`-ded to its column's widest,
    ``gap`` between cells, trailing spaces cut.

    Column by column: a column of ASCII cells (a cell per character) is measured and padded by ``str``'s own
    methods, and any other column measures each distinct cell once, so that a table of thousands of rows costs
    little more than joining it. The lines are those of padding every cell with :func:`pad`.
    """
    padded: list[Iterable[str]] = []
    for column in zip(*rows):
        if all(map(str.isascii, column)):
            padded.append(map(str.ljust, column, repeat(max(map(len, column)))))
        else:
            sizes = {cell: cells(cell) for cell in set(column)}
            width = max(sizes.values())
            padded.append([cell + " " * (width - sizes[cell]) for cell in column])
    return list(map(str.rstrip, map(gap.join, zip(*padded))))
