"""The app reads the store from thread workers while the event loop writes it: one connection, one user at a time."""

from __future__ import annotations

import os
import threading

import pytest

from walletsync.store.db import Database

ROW = """INSERT INTO sessions (topic, name, pairing_topic, self_public_key, peer_public_key, controller_public_key,
         peer_metadata, namespaces, required_namespaces, optional_namespaces, expiry, is_controller, acknowledged,
         created_at) VALUES ('ab', 'desk', 'cd', '', '', '', '{}', '{}', '{}', '{}', 0, 0, 1, 0)"""


class RolledBack(Exception):
    pass


def test_a_read_from_another_thread_never_sees_a_transaction_that_is_rolled_back(tmp_path):
    """A thread worker listing sessions while the loop's transaction is still open waits for it to end, so it
    never shows a session that the transaction then rolls back (it used to read the uncommitted row)."""
    db = Database(tmp_path / "walletsync.db", os.urandom(32))
    inside, seen = threading.Event(), []
    reader = threading.Thread(target=lambda: (inside.wait(), seen.append([s.topic for s in db.sessions()])))
    reader.start()
    with pytest.raises(RolledBack):
        with db.transaction() as conn:
            conn.execute(ROW)
            inside.set()
            reader.join(timeout=0.5)  # it cannot finish while the transaction is open: it waits for the lock
            raise RolledBack
    reader.join(timeout=10)
    assert seen == [[]]
    db.close()
