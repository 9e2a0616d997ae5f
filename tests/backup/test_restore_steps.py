"""Restore's steps in this process: an error leaves the fresh data dir as it was; a key file gets the identity."""

from __future__ import annotations

import base64
import json

import pytest

from walletsync.service import Config, backup
from walletsync.store.db import Database
from walletsync.store.keys import DeviceSecrets, PassphraseFile

PASSPHRASE = "backup passphrase"


@pytest.fixture
def made(tmp_path):
    """A backup of a data dir with a policy file and a config.json that names a key file on the old machine."""
    home = tmp_path / "old"
    home.mkdir()
    (home / "policies.json").write_bytes(b'{"version": 1}\n')
    (home / "config.json").write_text(
        json.dumps({"keyring_file": "/old/machine/keys.json", "project_id": "a-project-id-value"})
    )
    secrets = DeviceSecrets.generate()
    db = Database(home / "walletsync.db", secrets.storage_key)
    try:
        result = backup.create(home, db, secrets, tmp_path / "b.wsbackup", passphrase=PASSPHRASE, spec=None)
    finally:
        db.close()
    data = result.file.read_bytes()
    for secret in (secrets.identity_seed, secrets.storage_key):
        for form in (secret, secret.hex().encode(), base64.b64encode(secret)[:40]):
            assert form not in data
    for clear in (b"SQLite format", b"project_id", b"a-project-id-value", b"version", b"/old/machine"):
        assert clear not in data
    return backup.read(data, passphrase=PASSPHRASE), secrets


def test_the_old_machine_key_file_setting_is_not_carried(made):
    opened, secrets = made
    assert opened.secrets == secrets and opened.files["policies.json"] == b'{"version": 1}\n'
    assert json.loads(opened.files["config.json"]) == {"project_id": "a-project-id-value"}
    assert "storage_key" not in repr(opened) and secrets.storage_key.hex() not in repr(opened)


def test_a_failure_storing_the_secrets_leaves_nothing_restored(made, tmp_path, monkeypatch):
    opened, _ = made
    monkeypatch.delenv("WALLETSYNC_PASSPHRASE", raising=False)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "config.json").write_text('{"relay": "ws://mine"}')
    config = Config(data_dir=str(fresh), keyring_file=str(tmp_path / "keys.json"))
    with pytest.raises(backup.BackupError, match="WALLETSYNC_PASSPHRASE"):
        backup.restore(config, opened)
    assert sorted(p.name for p in fresh.iterdir()) == ["config.json"]
    assert (fresh / "config.json").read_text() == '{"relay": "ws://mine"}'


def test_a_key_file_receives_the_identity_and_config_merges_with_this_machine_winning(made, tmp_path, monkeypatch):
    opened, secrets = made
    monkeypatch.setenv("WALLETSYNC_PASSPHRASE", "new device passphrase")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "config.json").write_text('{"project_id": "mine"}')
    keys = tmp_path / "keys.json"
    restored = backup.restore(Config(data_dir=str(fresh), keyring_file=str(keys)), opened, now=1_700_000_000)
    assert restored.home == fresh and restored.group is None
    assert PassphraseFile(keys, "new device passphrase").load() == secrets
    settings = json.loads((fresh / "config.json").read_text())
    assert settings["project_id"] == "mine" and settings["keyring_file"] == str(keys.resolve())
    db = Database(fresh / "walletsync.db", secrets.storage_key)
    try:
        last = db.last_audit()
        assert last.kind == "restored_from_backup" and last.data["made_by"] == opened.made_by
        assert last.ts == 1_700_000_000_000
    finally:
        db.close()
    with pytest.raises(backup.RestoreRefused, match="already has walletsync data"):
        backup.restore(Config(data_dir=str(fresh)), opened)
