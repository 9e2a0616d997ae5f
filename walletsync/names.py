"""Local session names: the user's own words for a session, which a phone can neither forge nor imitate.

A phone chooses its metadata name; the local name is what the user reads to decide
which session signs. So a local name is NFKC-normalised, trimmed, with runs of
spaces made one; it holds no control, format (zero-width, bidi), separator or
invisible filler character, and is at most :data:`MAX_CELLS` terminal cells wide.
Two names *look the same* when their :func:`skeleton` match (case, width variants,
invisible marks and the common Cyrillic/Greek look-alikes of Latin letters folded):
a live session's name cannot be taken by one that looks the same.

A name the user typed is refused with :class:`BadName`; a name derived from the
phone's is cleaned instead (:func:`derived_name`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from walletsync.errors import WalletsyncError
from walletsync.text import cell_width, cells

MAX_CELLS = 64
MAX_CHARS = 2 * MAX_CELLS
"""Code points at most, whatever their width: combining marks stacked on one letter are not a name."""
FALLBACK = "phone"

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5\u2800")
"""Letters and marks that draw nothing (Hangul fillers, combining grapheme joiner, Khmer inherent vowels, braille blank)."""
_SPACES = re.compile(r"\s+")
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic (and the Latin script g)
        "а": "a",
        "с": "c",
        "ԁ": "d",
        "е": "e",
        "һ": "h",
        "і": "i",
        "ј": "j",
        "ӏ": "l",
        "о": "o",
        "р": "p",
        "ԛ": "q",
        "ѕ": "s",
        "ԝ": "w",
        "х": "x",
        "у": "y",
        "ү": "y",
        "ѵ": "v",
        "ԍ": "g",
        "ɡ": "g",
        # Greek
        "α": "a",
        "ο": "o",
        "ρ": "p",
        "ν": "v",
        "ι": "i",
        "υ": "u",
        "χ": "x",
        "κ": "k",
        "ϲ": "c",
        "ϳ": "j",
    }
)


class BadName(WalletsyncError):
    """A name the user gave cannot be a local session name; the message says why."""

    code = "bad_name"


def _refused(ch: str) -> bool:
    return unicodedata.category(ch) in _REFUSED_CATEGORIES or ch in _FILLERS


def _invisible(ch: str) -> bool:
    """Drawn as nothing (or as a variation of the letter before): ignored when comparing names."""
    code = ord(ch)
    return _refused(ch) or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or 0x180B <= code <= 0x180F


def typed_name(text: str) -> str:
    """A name as typed to find a session (``revoke Café``), normalised as names are kept: NFKC, spaces collapsed."""
    return _normal(text)


def _normal(text: str) -> str:
    """NFKC, one space between words, nothing around them, no mark left over to land on what precedes the name."""
    name = _SPACES.sub(" ", unicodedata.normalize("NFKC", text))
    start = next(
        (i for i, ch in enumerate(name) if not (ch == " " or unicodedata.category(ch).startswith("M"))), len(name)
    )
    return name[start:].rstrip()


def local_name(text: str, what: str = "session") -> str:
    """The name the user typed (``--name``, rename) for a ``what`` (a session, a device), normalised;
    :class:`BadName` says what is wrong with it."""
    for i, ch in enumerate(text):
        if _refused(ch):
            described = unicodedata.name(
                ch, "a control character" if unicodedata.category(ch) == "Cc" else "an invisible character"
            )
            raise BadName(
                f"a {what} name cannot contain U+{ord(ch):04X} ({described}) at position {i + 1}: "
                "use visible characters on one line"
            )
    name = _normal(text)
    if cells(name) == 0:
        raise BadName(f"a {what} name must be 1–64 characters wide: this one is empty")
    if cells(name) > MAX_CELLS or len(name) > MAX_CHARS:
        raise BadName(f"a {what} name must be 1–64 characters wide: this one is {cells(name)}")
    return name


def _cut(name: str, width: int) -> str:
    """The longest start of ``name`` that fits ``width`` cells (no "…": NFKC would make it "...")."""
    used = 0
    for i, ch in enumerate(name):
        used += cell_width(ch)
        if used > width:
            return name[:i].rstrip()
    return name


def derived_name(peer_name: Any) -> str:
    """A local name from the phone's own name: its refused characters dropped, clipped; "phone" if nothing is left."""
    text = peer_name if isinstance(peer_name, str) else ""
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    name = _cut(_normal("".join(ch for ch in text if not _refused(ch)))[:MAX_CHARS], MAX_CELLS)
    return name if cells(name) > 0 else FALLBACK


def with_suffix(name: str, n: int) -> str:
    """``name (n)``, the name clipped so the whole still fits :data:`MAX_CELLS`."""
    suffix = f" ({n})"
    return _cut(name, MAX_CELLS - len(suffix)) + suffix


def skeleton(name: str) -> str:
    """What ``name`` looks like, for comparing: equal skeletons mean a reader cannot tell the names apart."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    text = "".join(ch for ch in text if not _invisible(ch)).translate(_LOOKALIKES)
    return _SPACES.sub(" ", text).strip()


def looks_the_same(a: str, b: str) -> bool:
    return skeleton(a) == skeleton(b)
