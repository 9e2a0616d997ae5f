"""Sync messages that must not be applied: from a device that is no member, truncated, replayed, malformed.

Each is refused with a typed error and audited, and nothing of it lands; what is good in the same batch
still does. (The envelope's own refusals are covered byte by byte in tests/sync/test_envelope.py; here
the device group applies them as the service does.)
"""

from __future__ import annotations

import os

from walletsync.protocol.crypto import b64decode, b64encode
from walletsync.service.devices import DeviceGroup
from walletsync.service.group_sync import GroupSync
from walletsync.store.db import Database
from walletsync.store.secrets import DeviceSecrets
from walletsync.sync import envelope
from walletsync.sync.changes import Change, Write, canonical, device_entity
from walletsync.sync.clock import Stamp
from walletsync.sync.keys import DeviceKeys, EpochKey

NOW = 1_800_000_000.0


def member_and_group(tmp_path):
    """This device (a group founded, another device B added) and B's keys."""
    db = Database(tmp_path / "walletsync.db", os.urandom(32))
    group = DeviceGroup(db, DeviceSecrets(os.urandom(32), os.urandom(32)), lambda: NOW, os.urandom)
    group.found("laptop")
    b = DeviceKeys(os.urandom(32))
    group.add(b.card("desk"))
    audits: list[tuple[str, dict]] = []
    sync = GroupSync(db, group, lambda kind, **data: audits.append((kind, data)), lambda: NOW, os.urandom)
    (epoch, key), *_ = db.epoch_keys().items()
    return db, sync, b, EpochKey(epoch, key), audits


def change_from(sender: DeviceKeys, seq: int, name: str) -> dict:
    stamp = Stamp(int(NOW * 1000) - 1000, seq, sender.id)
    change = Change(sender.id, seq, stamp, (Write(device_entity(sender.id), "name", "set", name),))
    return {"t": "change", "change": change.to_json()}


def sealed(key: EpochKey, sender: DeviceKeys, seq: int, body: dict) -> str:
    return envelope.seal_b64(key, sender, seq, canonical(body).encode(), os.urandom)


def test_a_good_change_lands_once_however_often_it_is_replayed(tmp_path):
    db, sync, b, key, audits = member_and_group(tmp_path)
    message = sealed(key, b, 1, change_from(b, 1, "office"))
    sync.apply([message, message])
    sync.apply([message])
    assert sync.state().get(device_entity(b.id), "name") == "office"
    assert sync.state().vector == {b.id: 1}
    assert not [a for a in audits if a[0] == "sync_message_refused"]


def test_a_device_that_is_no_member_is_refused_and_audited_and_the_rest_lands(tmp_path):
    db, sync, b, key, audits = member_and_group(tmp_path)
    stranger = DeviceKeys(os.urandom(32))  # it holds the data key (say, a revoked device), but is no member
    forged = sealed(key, stranger, 1, change_from(stranger, 1, "evil"))
    good = sealed(key, b, 1, change_from(b, 1, "office"))
    sync.apply([forged, good])
    assert sync.state().get(device_entity(stranger.id), "name") is None
    assert sync.state().get(device_entity(b.id), "name") == "office"
    (refused,) = [data for kind, data in audits if kind == "sync_message_refused"]
    assert refused["code"] == "unknown_sender"


def test_truncated_tampered_and_foreign_messages_are_refused(tmp_path):
    db, sync, b, key, audits = member_and_group(tmp_path)
    good = sealed(key, b, 1, change_from(b, 1, "office"))
    raw = b64decode(good)
    flipped = bytearray(raw)
    flipped[-5] ^= 1
    other_group = sealed(EpochKey(key.epoch, os.urandom(32)), b, 1, change_from(b, 1, "other"))
    sync.apply([b64encode(raw[:40]), b64encode(bytes(flipped)), other_group, "not base64!"])
    assert sync.state().vector == {}
    codes = [data["code"] for kind, data in audits if kind == "sync_message_refused"]
    assert len(codes) == 4 and set(codes) <= {"truncated", "undecryptable", "malformed"}


def test_a_change_relayed_under_another_devices_name_is_refused(tmp_path):
    db, sync, b, key, audits = member_and_group(tmp_path)
    someone = DeviceKeys(os.urandom(32))
    relayed = sealed(key, b, 1, change_from(someone, 1, "not mine"))  # B sends a change it did not make
    sync.apply([relayed])
    assert sync.state().vector == {}
    assert [data["code"] for kind, data in audits if kind == "sync_message_refused"] == ["malformed"]


async def test_concurrent_revokes_are_healed_by_one_rekey_no_revoked_device_holds(tmp_path):
    """A revokes X while B revokes Y: each new key reached the other revoked device. The member with the
    lowest id issues a rekey; the epoch then in use is one only A and B hold."""
    (tmp_path / "a").mkdir()
    db_a, sync_a, b_keys, key, audits = member_and_group(tmp_path / "a")
    x, y = DeviceKeys(os.urandom(32)), DeviceKeys(os.urandom(32))
    sync_a.group.add(x.card("x"))
    sync_a.group.add(y.card("y"))
    db_b = Database(tmp_path / "b.db", os.urandom(32))
    group_b = DeviceGroup(db_b, DeviceSecrets(b_keys.seed, os.urandom(32)), lambda: NOW, os.urandom)
    group_b.install(sync_a.group.welcome(sync_a.state().to_snapshot()), "desk")
    sync_b = GroupSync(db_b, group_b, lambda kind, **data: None, lambda: NOW, os.urandom)

    with db_a.transaction():
        entry_a, _ = sync_a.group.revoke(x.id)
    with db_b.transaction():
        entry_b, _ = group_b.revoke(y.id)
    message_from = {
        "a": sealed(key, sync_a.group.keys, 0, {"t": "entry", "entry": entry_a.to_json()}),
        "b": sealed(key, b_keys, 0, {"t": "entry", "entry": entry_b.to_json()}),
    }
    lowest = min(("a", sync_a), ("b", sync_b), key=lambda pair: pair[1].me)
    other = "b" if lowest[0] == "a" else "a"
    replies = lowest[1].apply([message_from[other]])
    assert lowest[1].rekey in replies  # the lowest id heals it, once
    for reply in replies:
        await reply()
    membership = lowest[1].group.membership
    assert membership is not None and not membership.needs_rekey()
    current = membership.current_epoch()
    assert current is not None
    wrapped_to = set(membership.entry(current.entry).wraps)
    assert wrapped_to == {sync_a.me, sync_b.me}  # neither X nor Y can read the group now
    assert lowest[1].current_key().epoch == current.number
