"""The journal's audit rows stay one verifiable chain whoever appends them.

The journal remembers the row it appended last, so the next append need not read it back; if that memory
were trusted when another process sharing the data dir appended since, or when the transaction holding
the row was rolled back, the next row would link to a row that is not there, and `audit verify` would
report an edit nobody made. Each ``Database`` here stands for one process (its own SQLite connection).
"""

from __future__ import annotations

import os

import pytest

from walletsync.protocol.engine import SignEngine
from walletsync.service.audit_check import verify_stored
from walletsync.service.journal import Journal
from walletsync.service.scopes import METADATA
from walletsync.store.db import Database
from walletsync.store.keys import DeviceSecrets

TOPIC = "ab" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


@pytest.fixture
def processes(tmp_path):
    """Two journals on one data dir's database, as two walletsync processes would have them."""
    secrets = DeviceSecrets.generate()
    clock = Clock()
    dbs = [Database(tmp_path / "walletsync.db", secrets.storage_key) for _ in range(2)]
    journals = [Journal(db, SignEngine(METADATA, os.urandom), secrets, clock) for db in dbs]
    yield journals, secrets
    for db in dbs:
        db.close()


def append(journal: Journal, kind: str = "ping_answered") -> None:
    with journal.db.transaction():
        journal.audit(kind, TOPIC)


def test_rows_appended_in_turn_by_two_processes_form_one_chain(processes):
    (mine, theirs), secrets = processes
    append(mine)
    append(mine)
    append(theirs)  # after this, the row `mine` remembers is no longer the newest
    append(mine)
    with mine.db.transaction():
        mine.audit_rows([("request_answered", TOPIC, {"id": 1}), ("signature_verified", TOPIC, {"id": 1})])
    append(theirs)
    verdict = verify_stored(mine.db, secrets.identity.public_key)
    assert verdict.ok and verdict.entries == 7, verdict.first_bad
    head = mine.db.audit_head()
    assert head is not None and head[0] == 7


def test_a_row_rolled_back_is_not_linked_to(processes):
    """The row this journal appended last was rolled back, and another process appended a row with its seq."""
    (mine, theirs), secrets = processes
    append(mine)
    with pytest.raises(RuntimeError), mine.db.transaction():
        mine.audit("session_expired", TOPIC)
        raise RuntimeError("the step failed after journaling")
    append(theirs, "session_updated")  # the same seq as the row rolled back, other content
    append(mine)
    verdict = verify_stored(mine.db, secrets.identity.public_key)
    assert verdict.ok and verdict.entries == 3, verdict.first_bad
    assert [e.kind for e in mine.db.audit_entries()] == ["ping_answered", "session_updated", "ping_answered"]
