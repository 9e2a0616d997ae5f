"""The relay's fast write path: the only code that touches websockets' internals.

Writing a frame with ``await ws.send()`` costs a task switch and a socket write per
frame; the relay instead encodes frames into the connection's protocol buffer and
writes each connection's frames once per turn of the loop (see ``RelayServer._send``).
That uses attributes websockets does not document (``protocol``, ``paused``,
``transport``, ``drain``), so it is only used on the websockets majors it was tested
with (:data:`TESTED_MAJORS`); on any other version the relay logs that once and sends
every frame through the public ``ws.send()`` instead (slower, same behaviour).
"""

from __future__ import annotations

import logging
from typing import Any

import websockets
from websockets.protocol import State

log = logging.getLogger("walletsync.relay")

TESTED_MAJORS = (17, 17)
"""websockets major versions (inclusive) the fast path was tested with: pyproject.toml allows only these"""
_NEEDS = ("protocol", "paused", "transport", "drain")
_OPEN = State.OPEN
_warned = False


def _major(version: str) -> int | None:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def fast_path_allowed(version: str | None = None) -> bool:
    """May the fast path be used with this websockets version? Says why not, once, at info."""
    global _warned
    version = websockets.__version__ if version is None else version  # type: ignore[attr-defined]  # set at import, not in __all__
    major = _major(version)
    ok = major is not None and TESTED_MAJORS[0] <= major <= TESTED_MAJORS[1]
    if not ok and not _warned:
        _warned = True
        low, high = TESTED_MAJORS
        log.info(
            "websockets %s is outside the tested %d–%d: the relay sends through ws.send() (slower)", version, low, high
        )
    return ok


def can_write_direct(ws: Any) -> bool:
    """Does this connection have the internals the fast path uses (on a tested websockets)?"""
    return fast_path_allowed() and all(hasattr(ws, name) for name in _NEEDS)


def is_open(ws: Any) -> bool:
    return ws.protocol.state is _OPEN


def paused(ws: Any) -> bool:
    """Has the transport asked for writes to stop (its buffer is above websockets' write limit)?"""
    paused: bool = ws.paused
    return paused


def buffer_frame(ws: Any, data: bytes) -> None:
    """Queue a text frame in the protocol's output buffer; :func:`flush` writes it out."""
    ws.protocol.send_text(data)


def buffered_bytes(ws: Any) -> int:
    """Bytes written to the socket's transport but not yet taken by the kernel."""
    transport = ws.transport
    return 0 if transport is None else transport.get_write_buffer_size()


async def drain(ws: Any) -> None:
    """Wait until the transport's buffer is below websockets' low-water mark."""
    await ws.drain()


def flush(ws: Any) -> None:
    """Write what :func:`buffer_frame` queued in one socket write (as websockets' ``send_data()`` does, joined)."""
    chunks = ws.protocol.data_to_send()
    transport = ws.transport
    if not chunks or transport.is_closing():
        return  # websockets flushed them itself meanwhile, or the connection is gone
    if b"" not in chunks:
        transport.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        return
    for data in chunks:  # an end of stream among them (not ours): as websockets' send_data() does
        if data:
            transport.write(data)
        elif transport.can_write_eof():
            try:
                transport.write_eof()
            except Exception:
                pass
        else:
            transport.close()
