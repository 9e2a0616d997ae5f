"""Names for selectors decoding does not decode, from a bundled subset of ethereum-lists/4bytes (MIT).

A name is only a hint (four bytes collide, and anyone can register a signature): a call so named is still
"unknown", with its ``unknown_function`` warning. ``data/README.md`` says where the list came from.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def _names() -> dict[str, str]:
    text = resources.files("walletsync.decode").joinpath("data/selectors.tsv").read_text(encoding="utf-8")
    names = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            hex_selector, signature = line.split("\t")[:2]
            names["0x" + hex_selector] = signature
    return names


def name_of(selector: str) -> str | None:
    """The signature the bundled list gives ``selector`` (``0x3593564c``), or None."""
    return _names().get(selector.lower())
