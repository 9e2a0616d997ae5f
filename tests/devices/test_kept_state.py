"""The shared state as the store keeps it (entity by entity) and how a member answers a hello.

A commit rewrites only what it touched, a failed transaction leaves no trace in memory or on disk,
another process's save is seen, and a state kept whole by an earlier version is read and kept anew.
A member answers a device a little behind with its changes, one far behind with a snapshot, and does
not repeat an answer that is on its way.
"""

from __future__ import annotations

import functools
import json
import os

import pytest

from tests.devices.test_hostile_sync import NOW, change_from, member_and_group, sealed
from walletsync.service.group_inbound import ANSWER_TTL, RESEND_AT_MOST
from walletsync.service.group_sync import GroupSync
from walletsync.service.shared_rows import device_name_write
from walletsync.store.db import Database
from walletsync.sync.changes import canonical, device_entity
from walletsync.sync.state import GroupState


def test_a_failed_transaction_leaves_the_state_as_it_was_in_memory_and_on_disk(tmp_path):
    db, sync, b, key, audits = member_and_group(tmp_path)
    sync.apply([sealed(key, b, 1, change_from(b, 1, "office"))])
    before = sync.state().snapshot_text()
    with pytest.raises(RuntimeError), db.transaction():
        sync.record([device_name_write(b.id, "garage")])
        raise RuntimeError("the rest of the caller's work failed")
    assert sync.state().get(device_entity(b.id), "name") == "office"
    assert sync.state().snapshot_text() == before
    with db.transaction():  # the next change takes the number the failed one did not keep
        sync.record([device_name_write(b.id, "garage")])
    assert sync.state().vector[sync.me] == 1


def test_another_process_saving_the_state_is_seen_here(tmp_path):
    db, sync, b, key, audits = member_and_group(tmp_path)
    sync.apply([sealed(key, b, 1, change_from(b, 1, "office"))])
    assert sync.state().get(device_entity(b.id), "name") == "office"  # now held in memory here
    other_db = Database(db.path, db._key)  # a second connection: another walletsync process on this data dir
    other = GroupSync(other_db, sync.group, audit, lambda: NOW, os.urandom)
    other.apply([sealed(key, b, 2, change_from(b, 2, "garage"))])
    assert sync.state().get(device_entity(b.id), "name") == "garage"
    assert sync.state().vector == {b.id: 2}
    other_db.close()


def test_a_state_kept_whole_by_an_earlier_version_is_read_and_kept_entity_by_entity(tmp_path):
    db, sync, b, key, audits = member_and_group(tmp_path)
    sync.apply([sealed(key, b, 1, change_from(b, 1, "office"))])
    whole = sync.state().snapshot_text()
    with db.transaction():  # what the version before this one kept: the whole snapshot in one row
        db._db.execute("DELETE FROM group_registers")
        db.save_group_state(whole.encode())
    fresh = GroupSync(db, sync.group, audit, lambda: NOW, os.urandom)
    assert fresh.state().snapshot_text() == whole
    with db.transaction():
        fresh.record([device_name_write(sync.me, "laptop 2")])
    kept = json.loads(db.group_state() or b"")
    assert set(kept) == {"v", "vector"}  # the vector alone now; the entities have rows of their own
    again = GroupSync(db, sync.group, audit, lambda: NOW, os.urandom).state()
    assert again.get(device_entity(b.id), "name") == "office"
    assert again.get(device_entity(sync.me), "name") == "laptop 2"


def audit(kind: str, **data: object) -> None:
    """Audits of the second view of a data dir go nowhere: the tests read the first one's."""


def hello_from(sync: GroupSync, sender, vector: dict[str, int]) -> dict:
    return {"t": "hello", "vector": vector, "heads": list(sync.group.membership.heads()), "at": int(NOW * 1000)}


def answers(replies) -> list[tuple[str, dict]]:
    return [(r.func.__name__, r.keywords) for r in replies if isinstance(r, functools.partial)]


def test_a_member_answers_a_little_behind_with_changes_far_behind_with_a_snapshot_and_not_twice(tmp_path):
    db, sync, b, key, audits = member_and_group(tmp_path)
    for n in range(RESEND_AT_MOST + 1):
        with db.transaction():
            sync.record([device_name_write(sync.me, f"laptop {n}")])
    mine = sync.state().vector[sync.me]
    ttl = min(ANSWER_TTL, sync.change_ttl)

    near = sync.apply([sealed(key, b, 0, hello_from(sync, b, {sync.me: mine - 3}))])
    assert answers(near) == [("publish_pending", {"since": mine - 3, "ttl": ttl})]
    again = sync.apply([sealed(key, b, 0, hello_from(sync, b, {sync.me: mine - 3}))])
    assert answers(again) == []  # the same answer is on its way

    far = sync.apply([sealed(key, b, 0, hello_from(sync, b, {}))])
    assert answers(far) == [("publish_snapshot", {"ttl": ttl})]
    assert answers(sync.apply([sealed(key, b, 0, hello_from(sync, b, {}))])) == []
    assert canonical(sync.state().vector)  # nothing of it was refused
    assert not [a for a in audits if a[0] == "sync_message_refused"]


def test_whats_kept_on_disk_is_the_state_in_memory(tmp_path):
    db, sync, b, key, audits = member_and_group(tmp_path)
    sync.apply([sealed(key, b, n, change_from(b, n, f"name {n}")) for n in range(1, 6)])
    with db.transaction():
        sync.record([device_name_write(sync.me, "laptop")])
    on_disk = GroupState.from_parts(
        json.loads(db.group_state() or b""), [json.loads(row) for row in db.group_registers()]
    )
    assert on_disk.snapshot_text() == sync.state().snapshot_text()
