"""The budgets in the store: reserved, spent or released rows, read through their request's answer, kept 24 h."""

from __future__ import annotations

import sqlite3

from walletsync.decode.model import NATIVE
from walletsync.policy.evaluate import DAY
from walletsync.protocol.state import PendingRequest
from walletsync.store.db import MIGRATIONS, Database

KEY = bytes(32)
TOPIC = "ab" * 32
NOW = 1_700_000_000
AMOUNT = {("eip155:1", NATIVE): 6 * 10**16, ("eip155:1", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"): 2**255}


def test_rows_keep_exact_amounts_and_end_as_settled(tmp_path):
    db = Database(tmp_path / "w.db", KEY)
    with db.transaction():
        spent, released, waiting = (db.add_use(TOPIC, NOW, NOW + 300, AMOUNT) for _ in range(3))
        db.settle_use(spent, "spent")
        db.settle_use(released, "released")
        db.settle_use(spent, "released")  # a settled row stays as it was settled
    uses = db.uses_since(NOW - DAY)
    assert [u.state for u in uses] == ["spent", "released", "reserved"]
    assert all(u.amounts == AMOUNT for u in uses) and waiting


def test_an_unsettled_row_is_read_through_its_requests_answer(tmp_path):
    """The sending process ended before it settled: the answer any process journaled decides."""
    db = Database(tmp_path / "w.db", KEY)
    with db.transaction():
        ids = [db.add_use(TOPIC, NOW, NOW + 300, AMOUNT) for _ in range(4)]
        for request_id, use in enumerate(ids, start=1):
            db.attach_use(use, request_id, NOW + 310)
            db.save_request(PendingRequest(TOPIC, request_id, "wc_sessionRequest", "outgoing", NOW + 310), now=NOW)
        db.finish_request(TOPIC, 1, status="answered", now=NOW, result="0x1")
        db.finish_request(TOPIC, 2, status="late", now=NOW, result="0x1")
        db.finish_request(TOPIC, 3, status="rejected", now=NOW, error={"code": 5000, "message": "no"})
    uses = db.uses_since(NOW - DAY)
    assert [u.state for u in uses] == ["spent", "spent", "released", "reserved"]
    assert uses[3].expiry == NOW + 310


def test_rows_older_than_the_window_are_pruned(tmp_path):
    db = Database(tmp_path / "w.db", KEY)
    with db.transaction():
        db.add_use(TOPIC, NOW - DAY, NOW, AMOUNT)
        db.add_use(TOPIC, NOW - DAY + 1, NOW, AMOUNT)
        assert db.prune_uses(NOW) == 1
    assert [u.at for u in db.uses_since(0)] == [NOW - DAY + 1]


def test_a_store_of_the_previous_schema_gains_the_budgets(tmp_path):
    path = tmp_path / "w.db"
    with sqlite3.connect(path) as old:
        for number, script in enumerate(MIGRATIONS[:5]):  # the steps before the budgets
            old.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number + 1};\nCOMMIT;")
    db = Database(path, KEY)
    assert db._db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    with db.transaction():
        db.add_use(TOPIC, NOW, NOW + 300, AMOUNT)
    assert db.latest_audit("policy_attested") is None
