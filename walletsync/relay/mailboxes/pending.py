"""A topic's undelivered messages as a sorted list of ``(expires_at, id)``: the mailbox limit in O(log n).

Shared by the memory and SQLite stores. Messages usually arrive with the same
TTL, so a new key nearly always goes at the end (append) and the oldest is
usually the first to be delivered.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

_AFTER_ANY_ID = "\U0010ffff"  # sorts after every hex id: (t, _AFTER_ANY_ID) follows every (t, id)


class Pending:
    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: list[tuple[int, str]] = []

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, expires_at: int, message_id: str) -> None:
        keys, key = self.keys, (expires_at, message_id)
        if not keys or keys[-1] < key:
            keys.append(key)
        else:
            insort(keys, key)

    def remove(self, expires_at: int, message_id: str) -> None:
        keys, key = self.keys, (expires_at, message_id)
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            del keys[i]

    def count(self, now_ms: int) -> int:
        """How many are unexpired at ``now_ms`` (``expires_at > now_ms``)."""
        return len(self.keys) - bisect_right(self.keys, (now_ms, _AFTER_ANY_ID))

    def drop_expired(self, now_ms: int) -> None:
        del self.keys[: bisect_right(self.keys, (now_ms, _AFTER_ANY_ID))]
