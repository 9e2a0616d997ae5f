"""What signing a ``personal_sign`` message would do: nothing on chain; the text is shown as it is."""

from __future__ import annotations

from walletsync.chains.model import Lookup
from walletsync.decode.model import Decoded
from walletsync.decode.words import chain_ref

SHOWN = 120
"""Characters of the message the summary quotes (``Decoded.tree`` has all of it)."""


def decode_message(message: bytes, chain_id: str, lookup: Lookup) -> Decoded:
    """``message`` (the bytes ``personal_sign`` signs) as text when it is UTF-8, else as hex; no effects, no
    warnings: a plain message moves nothing (typed data and transactions are where permits hide)."""
    try:
        text = message.decode("utf-8")
        shown, kind = text, "text"
    except UnicodeDecodeError:
        shown, kind = "0x" + message.hex(), "bytes"
    quoted = shown if len(shown) <= SHOWN else shown[: SHOWN - 1] + "…"
    summary = f"Sign a message ({len(message)} bytes of {kind}): {quoted!r}"
    tree = {"name": "message", "type": kind, "value": shown}
    return Decoded("message", summary, chain_ref(chain_id, lookup), tree=tree)
