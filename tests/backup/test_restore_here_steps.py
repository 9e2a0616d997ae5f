"""Restoring as a new device, in this process: an error half way leaves the fresh device as it was; then the old
device's rows verify with its key under its name."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.app.conftest import answer_next_request, approve
from tests.pypeer import TEST_ADDRESS
from walletsync.service import Companion, Config, backup
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


async def test_a_running_companion_restored_into_signs_with_the_same_phone_at_once(start_relay, tmp_path):
    """The app's path: a fresh device already started (online), the backup restored into it, a signature asked at
    once: the engine took the sessions in without a restart, and the phone answers the new device."""
    relay = start_relay("memory")
    old = await Companion.open(Config(data_dir=str(tmp_path / "old"), relay=relay.url))
    await old.start()
    offer = await old.pair()
    wallet = await approve(relay.url, offer.uri)
    try:
        session = await old.wait_for_session(offer.proposal_id, timeout=20)
        old.create_backup(tmp_path / "b.wsbackup", passphrase=PASSPHRASE, spec=None)
        await old.close()
        made = backup.read((tmp_path / "b.wsbackup").read_bytes(), passphrase=PASSPHRASE)

        new = await Companion.open(Config(data_dir=str(tmp_path / "new"), relay=relay.url))
        await new.start()
        try:
            await new.online()
            assert new.restore_backup(made).sessions == 1
            signing = asyncio.create_task(new.sign(session.topic, message="on the new device", timeout=20))
            await answer_next_request(wallet)
            outcome = await signing
            assert outcome.ok and outcome.to_json()["recovered"].lower() == TEST_ADDRESS.lower()
            assert new.secrets.client_id != made.device
        finally:
            await new.close()
    finally:
        await wallet.close()
