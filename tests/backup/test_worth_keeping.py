"""What counts as a change worth keeping, how old the newest backup is, and how that is said."""

from __future__ import annotations

import pytest

from walletsync import audit
from walletsync.commands.backup_note import ago, backup_note, status_text
from walletsync.service.backup_facade import BackupAge, BackupMethods
from walletsync.service.worth_keeping import BACKUP_KINDS, NOT_WORTH_KEEPING, WORTH_KEEPING
from walletsync.store.db import Database
from walletsync.store.keys import DeviceSecrets

DAY = 86400
NOW = 1_764_633_600


def test_every_audit_kind_is_decided_once():
    assert WORTH_KEEPING.isdisjoint(NOT_WORTH_KEEPING)
    assert WORTH_KEEPING | NOT_WORTH_KEEPING == audit.KINDS, "a new audit kind: say whether it is worth a backup"
    assert set(BACKUP_KINDS) <= NOT_WORTH_KEEPING and "bridge_reads" in NOT_WORTH_KEEPING


class _Here(BackupMethods):
    """The façade's backup half over a real database (the rest of the Companion is not needed for its age)."""

    def __init__(self, db: Database, secrets: DeviceSecrets) -> None:
        self.db, self.secrets = db, secrets

    def log(self, kind: str, at: int, **data) -> None:
        newest = self.db.last_audit()
        entry = audit.append(
            newest.tip() if newest else None,
            kind=kind,
            session=None,
            data=data,
            ts=at * 1000,
            key=self.secrets.identity,
        )
        with self.db.transaction():
            self.db.add_audit([entry], audit.sign_head(entry, self.secrets.identity))


@pytest.fixture
def here(tmp_path):
    secrets = DeviceSecrets.generate()
    db = Database(tmp_path / "walletsync.db", secrets.storage_key)
    yield _Here(db, secrets)
    db.close()


def test_reads_pings_and_refusals_are_not_changes_a_backup_misses(here):
    assert here.backup_age() == BackupAge(None, False)
    for kind in ("bridge_reads", "ping_answered", "request_refused_by_policy", "pairing_offered"):
        here.log(kind, NOW)
    assert here.backup_age() == BackupAge(None, False)
    here.log("session_settled", NOW, name="desk")
    assert here.backup_age() == BackupAge(None, True)

    here.log("backup_made", NOW + 10, holders=["passphrase"])
    assert here.backup_age() == BackupAge(NOW + 10, False)
    for kind in ("bridge_reads", "ping_answered", "event_received", "session_expired", "request_expired"):
        here.log(kind, NOW + 20)
    assert here.backup_age() == BackupAge(NOW + 10, False)
    here.log("policy_attested", NOW + 30)
    assert here.backup_age() == BackupAge(NOW + 10, True)
    here.log("backup_made", NOW + 40, holders=["shares"])
    assert here.backup_age() == BackupAge(NOW + 40, False)
    here.log("watch_removed", NOW + 50)
    assert here.backup_age() == BackupAge(NOW + 40, True)


def test_a_restored_data_dir_counts_the_backup_it_came_from(here):
    """Its rows came from a backup the user holds: that backup's date, and changes after the restore."""
    here.log("session_settled", NOW - 5 * DAY)
    here.log("restored_from_backup", NOW, made_at=NOW - 3 * DAY, made_by="old laptop", device="ab" * 32)
    assert here.backup_age() == BackupAge(NOW - 3 * DAY, False)
    here.log("session_renamed", NOW + 1)
    assert here.backup_age() == BackupAge(NOW - 3 * DAY, True)
    here.log("backup_made", NOW + 2)
    assert here.backup_age() == BackupAge(NOW + 2, False)


def test_the_note_is_said_only_when_there_is_something_to_keep():
    assert backup_note(BackupAge(None, False), has_sessions=False, now=NOW) is None
    assert backup_note(BackupAge(None, True), has_sessions=False, now=NOW) is None
    assert backup_note(BackupAge(None, True), has_sessions=True, now=NOW) == "no backup yet: walletsync backup create"
    assert backup_note(BackupAge(NOW - 12 * DAY, False), has_sessions=True, now=NOW) is None
    assert (
        backup_note(BackupAge(NOW - 12 * DAY - 5, True), has_sessions=True, now=NOW)
        == "last backup made 12 days ago, changes since: walletsync backup create"
    )


def test_ages_and_the_status_line_agree():
    assert [ago(NOW - s, NOW) for s in (0, 3599, 3600, 7300, DAY, 2 * DAY + 1)] == [
        "less than an hour ago",
        "less than an hour ago",
        "1 hour ago",
        "2 hours ago",
        "1 day ago",
        "2 days ago",
    ]
    assert ago(NOW + 100, NOW) == "less than an hour ago"  # a clock set back
    assert status_text(BackupAge(None, False), NOW) == "no backup made yet: walletsync backup create"
    made = BackupAge(NOW - 12 * DAY, True)
    assert status_text(made, NOW) == (
        "newest backup made 2025-11-20 00:00 UTC (12 days ago); changes since then are not in it: "
        "walletsync backup create"
    )
    assert status_text(BackupAge(NOW, False), NOW).endswith(
        "(less than an hour ago); nothing worth keeping has changed since"
    )
