"""The restore's audit row says in words which backup it came from; the old device's name is data."""

from __future__ import annotations

from nacl.signing import SigningKey

from walletsync import audit
from walletsync.app.format import audit_details
from walletsync.service.audit_words import headline

KEY = SigningKey(bytes(range(32)))


def entry(kind: str, **data):
    return audit.append(None, kind=kind, session=None, data=data, ts=0, key=KEY)


def test_a_restore_says_when_and_by_whom_the_backup_was_made():
    row = entry("restored_from_backup", made_at=1_764_622_800, made_by="laptop", device="ab" * 32)
    assert headline(row) == "restored from backup made on 2025-12-01 21:00 UTC by 'laptop'"
    assert headline(entry("backup_made", holders=["passphrase", "shares"])) == (
        "backup made, opened by its passphrase or shares"
    )
    assert headline(entry("session_renamed", old="a", new="b")) is None


def test_the_old_devices_name_is_shown_as_data_in_the_app():
    row = entry("restored_from_backup", made_at=0, made_by="evil\x1b[2J[b]x[/b]")
    shown = audit_details(row)
    assert "\x1b" not in shown and shown.startswith("restored from backup made on 1970-01-01 00:00 UTC by 'evil\\x1b")
