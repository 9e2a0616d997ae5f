"""A backup brought into this device as a new device: this device's identity, the backed-up device's state.

Restoring the old identity (:func:`walletsync.service.backup.restore`) makes this machine *be* the backed-up
device: fine when that device is gone for good, wrong while its device group lives (two devices with one key).
Here this device keeps its own identity (its relay client id, its audit key) and takes in the backup's state:

- the sessions with their keys (opened with the backup's storage key, sealed again with this device's), their
  pairings, requests and verdicts, the replay memory of their topics (so what the old device sent and handled is
  not taken again for the phone speaking), policy budgets, the watch list, and ``config.json`` (merged, this
  machine's settings win) and ``policies.json``;
- not the device group's keys and rows: this device is no member until it joins (``walletsync devices join``);
- the old device's audit log as the old device's rows (``remote_audit``, as a member's shared rows are kept),
  checked with its key before anything is written. This device's own log then says ``restored_from_backup``
  with when and by whom the backup was made, the old device's id and its signing key: signed by this device,
  the key is how ``audit verify`` goes on checking the old rows, and names whose they are.

The policy file is attested again in this device's log when the old log's newest attestation named it (it was in
force there): a restored file keeps its limits, an unattested one stays refused.

Only into a **fresh** device: one whose database holds no row but caches, which is what opening a companion on a
new data dir leaves (the schema, and the device's new secrets in its key store) — and pairing offers no phone took,
which the app's first screen (where its restore choice is) makes at once. Anything else is refused
(:class:`RestoreRefused`) and nothing is changed. The rows go in one transaction, after the files (undone on any
error), so an error leaves the device as fresh as it was.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from walletsync.audit import AuditEntry
from walletsync.service.audit_check import verify_stored
from walletsync.service.backup import (
    DATABASE,
    Backup,
    BackupError,
    RestoredHere,
    RestoreRefused,
    restore_files,
    undo_files,
    write_backup_database,
)
from walletsync.service.journal import Journal
from walletsync.service.policy_file import ATTESTED
from walletsync.service.policy_file import FILE_NAME as POLICY_FILE
from walletsync.store.db import Database
from walletsync.sync.ids import device_id

RESTORED = "restored_from_backup"
COPIED = (
    "sessions",
    "pairings",
    "requests",
    "replay_seen",
    "replay_clock",
    "budget_uses",
    "watched",
)
"""The backup's tables taken as they are (proposals belong to a QR shown on the old machine; the ``group_*`` tables
to the old device's membership; the audit log goes to ``remote_audit``)."""


_HELD = {
    "sessions": "sessions",
    "pairings": "pairings",
    "proposals": "pairings",
    "requests": "requests",
    "audit": "audit rows",
    "audit_head": "audit rows",
    "remote_audit": "audit rows",
    "watched": "watched addresses",
    "budget_uses": "policy budgets",
    "replay_seen": "messages handled",
    "replay_clock": "messages handled",
}
"""What a table holding rows is called when a restore is refused."""


@dataclass(frozen=True)
class RestoredDevice:
    """A device whose backup was restored here: its audit rows are kept as its own, checked with its key."""

    id: str
    name: str
    signing_public: bytes


@contextmanager
def opened(backup: Backup) -> Iterator[Database]:
    """The backup's database, open in a temporary dir with its storage key (closed and removed after)."""
    with tempfile.TemporaryDirectory(prefix="walletsync-restore-") as scratch:
        path = Path(scratch) / DATABASE
        write_backup_database(backup.database, path)
        db = Database(path, backup.secrets.storage_key)
        try:
            yield db
        finally:
            db.close()


def group_of(backup: Backup) -> str | None:
    """The device group the backed-up device was in (its id), if any."""
    with opened(backup) as db:
        row = db.group()
    return None if row is None else row.group_id


def member_id(backup: Backup) -> str:
    """The backed-up device's id in its device group (what ``walletsync devices revoke`` takes)."""
    return device_id(backup.secrets.identity.public_key)


def restore_here(home: Path, db: Database, journal: Journal, backup: Backup) -> RestoredHere:
    """Bring ``backup`` into the fresh device open on ``home``/``db`` (see the module's docstring)."""
    _check_fresh(db)
    old = member_id(backup)
    with opened(backup) as source:
        if not verify_stored(source, backup.secrets.identity.public_key).ok:
            raise BackupError("the backup's audit log does not verify: it was not restored")
        group = source.group()
        tables = {table: source.rows_to_copy(table) for table in COPIED}
        old_rows = source.audit_entries()
        attested = source.latest_audit(ATTESTED)
    policy = backup.files.get(POLICY_FILE)
    policy_sha256 = None if policy is None else hashlib.sha256(policy).hexdigest()
    in_force = attested is not None and attested.data.get("sha256") == policy_sha256
    columns, rows = tables["sessions"]
    active = sum(1 for row in rows if row[columns.index("status")] == "active")
    written = restore_files(home, backup.files)
    try:
        with db.transaction():
            _check_fresh(db)  # again, inside: another process on this data dir may have written meanwhile
            for table, (columns, rows) in tables.items():
                db.insert_copied(table, columns, rows)
            for entry in old_rows:
                db.add_remote_audit(old, entry, _entry_text(entry))
            journal.audit(
                RESTORED,
                None,
                made_at=backup.created_at,
                made_by=backup.made_by,
                device=backup.device,
                old_device_id=old,
                old_signing_key=backup.secrets.identity.public_key.hex(),
                sessions=active,
            )
            if in_force:  # the old device's limits stay in force here; an unattested file stays refused
                journal.audit(ATTESTED, None, sha256=policy_sha256, by="restore")
    except BaseException:
        undo_files(written)
        raise
    return RestoredHere(
        sessions=active,
        made_at=backup.created_at,
        made_by=backup.made_by,
        old_device=backup.device,
        group=None if group is None else group.group_id,
    )


OFFERED_ONLY = frozenset({"audit", "audit_head", "pairings", "proposals", "replay_seen", "replay_clock"})
"""The tables a pairing offer that no phone took fills (the app's first screen offers one at once)."""
OFFER_KINDS = frozenset({"pairing_offered", "proposal_sent", "proposal_rejected", "proposal_expired"})
"""The audit rows such offers leave."""


def _check_fresh(db: Database) -> None:
    """Refuse a device that holds anything but caches — and pairing offers no phone took: the app's first screen
    shows one at once, and its restore choice is on that screen (the offer's rows stay, harmless)."""
    held = db.tables_holding_rows()
    if held and set(held) <= OFFERED_ONLY:
        if all(entry.kind in OFFER_KINDS for entry in db.audit_entries()):
            return
    if held:
        what = ", ".join(dict.fromkeys(_HELD.get(t, "a device group" if t.startswith("group_") else t) for t in held))
        raise RestoreRefused(
            f"this device already holds walletsync data ({what}): a backup is restored only into a fresh data dir "
            "(--data-dir DIR, or $WALLETSYNC_HOME); nothing was changed"
        )


def restored_devices(db: Database, public_key: bytes) -> dict[str, RestoredDevice]:
    """The devices whose backups were restored here, by id, from this device's own ``restored_from_backup`` rows
    (signed by ``public_key``, this device's key: a row that does not verify names no one)."""
    found: dict[str, RestoredDevice] = {}
    key = VerifyKey(public_key)
    for entry in db.audit_of_kind(RESTORED):
        try:
            key.verify(entry.canonical(), bytes.fromhex(entry.signature))
        except (BadSignatureError, TypeError, ValueError):
            continue
        device, name, signing = (entry.data.get(k) for k in ("old_device_id", "made_by", "old_signing_key"))
        if isinstance(device, str) and isinstance(name, str) and isinstance(signing, str):
            try:
                found[device] = RestoredDevice(device, name, bytes.fromhex(signing))
            except ValueError:
                continue
    return found


def _entry_text(entry: AuditEntry) -> str:
    """A row as the device group keeps another member's (its JSON, keys sorted): the same text either way."""
    document: dict[str, Any] = entry.to_json()
    return json.dumps(document, sort_keys=True)
