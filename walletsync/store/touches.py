"""What a write transaction changed that the device group shares, so it can record it before COMMIT."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Touches:
    """The :class:`~walletsync.store.db.Database` bookkeeping of touched sessions, requests and audit rows."""

    touched: set[tuple[str, str]]
    """``(kind, key)`` pairs the open transaction changed: ``session``/topic, ``request``/topic/id, ``audit``/seq,
    ``watch``/address (lower-case)."""
    _quiet: int = 0

    def touch(self, kind: str, key: str) -> None:
        """Mark ``kind``/``key`` as changed by this transaction (unless inside :meth:`quietly`)."""
        if not self._quiet:
            self.touched.add((kind, key))

    @contextmanager
    def quietly(self) -> Iterator[None]:
        """Changes made inside are not marked: the device group's projection of what a member shared
        (sharing it back would only echo it)."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1
