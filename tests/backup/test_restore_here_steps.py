"""Restoring as a new device, in this process: an error half way leaves the fresh device as it was; then the old
device's rows verify with its key under its name."""

from __future__ import annotations

import json

import pytest

from walletsync.service import Companion, backup
from walletsync.service.journal import Journal
from walletsync.store.db import Database, Watched
from walletsync.store.keys import DeviceSecrets
from walletsync.sync.ids import device_id

PASSPHRASE = "backup passphrase"
ADDRESS = "0x" + "11" * 20


@pytest.fixture
def opened(tmp_path):
    """A backup of a device with a watched address, two audit rows and a policy file it never attested."""
    home = tmp_path / "old"
    home.mkdir()
    (home / "policies.json").write_bytes(b'{"version": 1}\n')
    secrets = DeviceSecrets.generate()
    db = Database(home / "walletsync.db", secrets.storage_key)
    try:
        with db.transaction():
            db.put_watched(Watched(ADDRESS, "cold store", ("eip155:1",), 1))
            backup._audit(db, secrets, "backup_made", 1, holders=["passphrase"])
            backup._audit(db, secrets, "session_renamed", 2, old="a", new="b")
        made = backup.create(home, db, secrets, tmp_path / "b.wsbackup", passphrase=PASSPHRASE, spec=None)
    finally:
        db.close()
    return backup.read(made.file.read_bytes(), passphrase=PASSPHRASE)


@pytest.fixture
def fresh(tmp_path):
    home = tmp_path / "fresh"
    home.mkdir()
    (home / "config.json").write_text('{"relay": "ws://mine"}')
    secrets = DeviceSecrets.generate()
    companion = Companion(home, Database(home / "walletsync.db", secrets.storage_key), secrets, None)
    yield companion
    companion.db.close()


def test_an_error_half_way_changes_nothing_then_the_old_rows_verify_as_the_old_devices(opened, fresh, monkeypatch):
    def broken(self, rows):
        raise RuntimeError("the disk is full")

    with monkeypatch.context() as patched:
        patched.setattr(Journal, "audit_rows", broken)
        with pytest.raises(RuntimeError):
            fresh.restore_backup(opened)
    assert fresh.db.tables_holding_rows() == []
    assert not (fresh.home / "policies.json").exists()
    assert (fresh.home / "config.json").read_text() == '{"relay": "ws://mine"}'

    restored = fresh.restore_backup(opened)
    assert (restored.sessions, restored.made_by, restored.old_device, restored.group) == (
        0,
        opened.made_by,
        opened.device,
        None,
    )
    old = device_id(opened.secrets.identity.public_key)
    assert [w.label for w in fresh.watched()] == ["cold store"]
    assert json.loads((fresh.home / "config.json").read_text())["relay"] == "ws://mine"
    assert [e.kind for _, e in fresh.db.remote_audit_entries()] == ["backup_made", "session_renamed"]
    [row] = [e for e in fresh.audit_entries() if e.kind == "restored_from_backup"]
    assert row.data["old_device_id"] == old and row.data["made_at"] == opened.created_at
    assert not any(e.kind == "policy_attested" for e in fresh.audit_entries())  # never in force: not now either
    verdict = fresh.verify_audit().to_json()
    mine = fresh.devices()[0].name
    shown = opened.made_by if opened.made_by != mine else f"{opened.made_by} (old)"  # told apart from this device
    assert verdict["ok"] is True and [(d["device"], d["name"], d["ok"]) for d in verdict["devices"]] == [
        (old, shown, True)
    ]
    assert {r.device_name for r in fresh.group_audit() if not r.this_device} == {shown}

    with pytest.raises(backup.RestoreRefused):  # no longer fresh
        fresh.restore_backup(opened)
