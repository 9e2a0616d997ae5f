"""The engine's replay memory, shared by every process on the data dir: the envelopes and request ids handled,
and the newest update and event clocks, per topic. The first process to record a message handles it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from walletsync.protocol.state import ReplayMemory

if TYPE_CHECKING:
    from walletsync.store.db import _Serialized

REPLAY_PER_TOPIC = 500
"""Envelopes (and request ids) remembered per topic, as many as the engine keeps (``SEEN_PER_TOPIC``)."""
REPLAY_TRIM_EVERY = 64
"""A connection cuts a topic's memory back to :data:`REPLAY_PER_TOPIC` the first time it records there, then every
this many rows: cutting costs a sort of the topic's rows, too much for every message, and at most
``REPLAY_TRIM_EVERY`` rows more per process are kept meanwhile (more memory never lets a replay through)."""
REPLAY_KEEP_ENDED = 7 * 24 * 3600
"""How long the memory of a topic nothing uses any more is kept: the longest a relay holds a message."""
UPDATE_CLOCK = "wc_sessionUpdate"


class ReplayQueries:
    """The :class:`~walletsync.store.db.Database` methods on the ``replay_seen`` and ``replay_clock`` tables."""

    _db: _Serialized
    _untrimmed: dict[tuple[str, str], int]
    """Rows this connection recorded per ``(topic, kind)`` since it last cut them back (``Database`` starts it)."""

    def remember(self, changes: ReplayMemory, *, now: int) -> bool:
        """Record what an engine step added to its replay memory; call it inside that step's transaction.

        Returns False when any envelope or request id was already recorded: the message was
        handled before, by this process before a restart or by another one, and the step must
        not be journaled (nor answered) again. Inside ``BEGIN IMMEDIATE`` the insert is the
        atomic decider between processes.
        """
        fresh = True
        rows = [(t, "envelope", d) for t, ds in changes.seen.items() for d in ds]
        rows += [(t, "request", str(i)) for t, ids in changes.handled_ids.items() for i in ids]
        for topic, kind, key in rows:
            inserted = self._db.execute("INSERT OR IGNORE INTO replay_seen VALUES (?,?,?,?)", (topic, kind, key, now))
            fresh = fresh and inserted.rowcount > 0
        for topic, kind, _ in rows:
            added = self._untrimmed.get((topic, kind))
            if added is not None and added < REPLAY_TRIM_EVERY:
                self._untrimmed[(topic, kind)] = added + 1
                continue
            self._untrimmed[(topic, kind)] = 1
            self._db.execute(  # the newest REPLAY_PER_TOPIC stay: everything from the one before them goes
                """DELETE FROM replay_seen WHERE topic = ? AND kind = ? AND rowid <=
                   (SELECT rowid FROM replay_seen WHERE topic = ? AND kind = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)""",
                (topic, kind, topic, kind, REPLAY_PER_TOPIC),
            )
        clocks = [(t, UPDATE_CLOCK, ms) for t, ms in changes.last_update_ms.items()]
        clocks += [(t, f"event:{name}", ms) for (t, name), ms in changes.last_event_ms.items()]
        for topic, name, ms in clocks:
            self._db.execute(
                """INSERT INTO replay_clock VALUES (?,?,?,?)
                   ON CONFLICT (topic, name) DO UPDATE SET ms = MAX(ms, excluded.ms), at = excluded.at""",
                (topic, name, ms, now),
            )
        return fresh

    def replay_memory(self, topics: set[str]) -> ReplayMemory:
        """The replay memory of ``topics``, oldest first, for :meth:`SignEngine.restore`."""
        seen: dict[str, list[str]] = {}
        ids: dict[str, list[int]] = {}
        for topic, kind, key in self._db.execute("SELECT topic, kind, key FROM replay_seen ORDER BY rowid"):
            if topic in topics:
                if kind == "envelope":
                    seen.setdefault(topic, []).append(key)
                else:
                    ids.setdefault(topic, []).append(int(key))
        updates: dict[str, int] = {}
        events: dict[tuple[str, str], int] = {}
        for topic, name, ms in self._db.execute("SELECT topic, name, ms FROM replay_clock"):
            if topic in topics:
                if name == UPDATE_CLOCK:
                    updates[topic] = ms
                elif name.startswith("event:"):
                    events[(topic, name[6:])] = ms
        return ReplayMemory(
            {t: tuple(d) for t, d in seen.items()}, {t: tuple(i) for t, i in ids.items()}, updates, events
        )

    def purge_replay(self, *, now: int) -> None:
        """Forget the replay memory of topics nothing uses any more, once a relay can no longer hold their messages."""
        for table in ("replay_seen", "replay_clock"):
            self._db.execute(
                f"""DELETE FROM {table} WHERE at < ?
                    AND topic NOT IN (SELECT topic FROM sessions WHERE status = 'active')
                    AND topic NOT IN (SELECT topic FROM pairings)
                    AND topic NOT IN (SELECT session_topic FROM proposals WHERE session_topic IS NOT NULL)""",
                (now - REPLAY_KEEP_ENDED,),
            )
