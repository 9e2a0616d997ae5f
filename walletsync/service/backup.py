"""Backups of a data dir (``walletsync backup``): what goes into the vault, and bringing it back.

What goes in is everything needed to come back on another machine, as it is kept:

- the device secrets: the identity seed (the relay client id the sessions' phones know, and the key that
  signs the audit log, so the log still verifies after a restore) and the storage key (which opens the
  keys sealed inside the database);
- the whole database, copied by SQLite in one consistent step: the sessions with their sealed keys and
  local names, pairings, requests, policy budgets, the watch list, the device group's rows and keys, and
  the audit log with its signed head;
- ``config.json`` and ``policies.json`` byte for byte (the policy file's attestation is its hash in the
  audit log). ``config.json``'s ``keyring_file`` is left out: it names a file on the old machine.

The vault (:mod:`walletsync.vault`) seals all of it; nothing of it is in clear in the file.

Restore goes into a data dir with no database only: one that has one is refused and left as it is, never
merged, so neither side can lose anything (restore into a new ``--data-dir`` instead). The database is
written under a temporary name, its audit log checked and given "restored from backup made on … by …",
and renamed into place last, after the files and the secrets: an error before that leaves no database, so
the data dir is as fresh as before and the restore can simply be run again.

That brings the backed-up device back, same identity: right when it is gone for good and its device group (if
any) with it. While the group lives, restore it as a new device instead (:mod:`walletsync.service.backup_import`,
``Companion.restore_backup``): this device keeps its own identity, takes the sessions and state, and joins the group.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from walletsync import audit
from walletsync.errors import WalletsyncError
from walletsync.paths import data_dir as resolve_data_dir
from walletsync.paths import open_private
from walletsync.service.audit_check import verify_stored
from walletsync.service.config import Config, configured_keyring_file, remember_keyring_file
from walletsync.service.policy_file import FILE_NAME as POLICY_FILE
from walletsync.store.copies import database_bytes, write_database
from walletsync.store.db import Database
from walletsync.store.keys import DeviceSecrets, InvalidSecrets, OsKeyring, PassphraseFile
from walletsync.vault import (
    ShareSpec,
    open_with_passphrase,
    open_with_shares,
    read_header,
    seal,
)

BACKUP_PASSPHRASE_ENV = "WALLETSYNC_BACKUP_PASSPHRASE"
CONTENT_FORMAT = "walletsync-backup"
CONTENT_VERSION = 1
DATABASE = "walletsync.db"
FILES = ("config.json", POLICY_FILE)
"""The data dir's files a backup keeps besides the database (relay.log and lock files are not worth keeping)."""
_FORGOTTEN_SETTINGS = ("keyring_file",)


class BackupError(WalletsyncError):
    """A backup cannot be made, read or restored; the message says why and what to do."""

    code = "backup_error"


class BackupFileError(BackupError):
    """The backup file cannot be read: missing, unreadable, or larger than any backup."""

    code = "backup_input"


MAX_FILE = 512 * 1024 * 1024
"""Bytes of a backup file read at most (a data dir with 10,000 sessions and their audit log is a few MiB)."""


def read_backup_file(path: Path) -> bytes:
    """A backup file's bytes (blocking: off the event loop in the app); :class:`BackupFileError` saying why not."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE + 1)
    except OSError as exc:
        raise BackupFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE:
        raise BackupFileError(f"{path} is larger than any walletsync backup ({MAX_FILE} bytes)")
    return data


class RestoreRefused(BackupError):
    """The data dir already holds walletsync data: restore never merges into it (nothing was changed)."""

    code = "restore_refused"


@dataclass(frozen=True)
class Backup:
    """A backup's content, opened. Holds the device secrets: never log it (``repr`` shows no key)."""

    created_at: int
    device: str
    """The client id of the device that made it."""
    made_by: str
    """The name that device went by (its name in the device group, else its host's name)."""
    secrets: DeviceSecrets = field(repr=False)
    database: bytes = field(repr=False)
    files: dict[str, bytes] = field(repr=False)


@dataclass(frozen=True)
class BackupMade:
    """A backup just written, for ``backup create``: the shares are shown once and then forgotten."""

    file: Path
    created_at: int
    shares: list[list[str]] | None = field(repr=False)
    threshold: int | None
    """The shares needed (one group), or the groups needed (several)."""
    groups: tuple[tuple[int, int], ...] = ()
    """With several groups: each one's (shares needed, shares)."""

    def to_json(self) -> dict[str, Any]:
        """The ``backup create --json`` document: ``shares`` flat when there is one group; with several, a list per
        group, and ``groups`` says what each needs."""
        shares: list[Any] | None = None
        if self.shares is not None:
            shares = self.shares[0] if len(self.shares) == 1 else self.shares
        document = {
            "file": str(self.file),
            "created_at": self.created_at,
            "shares": shares,
            "threshold": self.threshold,
        }
        if len(self.groups) > 1:
            document["groups"] = [{"threshold": t, "shares": n} for t, n in self.groups]
        return document

    def rule(self) -> str:
        """How many shares restore it, in words: ``any 2 of the 3 shares``, or group by group."""
        if len(self.groups) <= 1:
            return f"any {self.threshold} of the {sum(len(group) for group in self.shares or [])} shares"
        each = "; ".join(f"group {i}: {t} of its {n}" for i, (t, n) in enumerate(self.groups, start=1))
        return f"{self.threshold} of the {len(self.groups)} groups, each with enough of its own shares ({each})"

    def labels(self) -> list[str]:
        """Each share's name, in order: ``share 2 of 3``, or ``share 2 of 3 in group 1 of 2``."""
        groups = self.shares or []
        if len(groups) <= 1:
            total = sum(len(group) for group in groups)
            return [f"share {n} of {total}" for n in range(1, total + 1)]
        return [
            f"share {n} of {len(group)} in group {g} of {len(groups)}"
            for g, group in enumerate(groups, start=1)
            for n in range(1, len(group) + 1)
        ]


@dataclass(frozen=True)
class BackupCheck:
    """What ``backup verify`` found inside: who made it when, what it holds, and whether its audit log is intact."""

    created_at: int
    device: str
    made_by: str
    sessions: int
    audit_entries: int
    audit_ok: bool
    files: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.audit_ok,
            "created_at": self.created_at,
            "device": self.device,
            "made_by": self.made_by,
            "sessions": self.sessions,
            "audit_entries": self.audit_entries,
            "files": list(self.files),
        }


def gather(home: Path, db: Database, secrets: DeviceSecrets, now: int, made_by: str | None = None) -> bytes:
    """The content of a backup of ``home`` made ``now`` (unix s): JSON, sealed by the caller."""
    files = {}
    for name in FILES:
        with contextlib.suppress(FileNotFoundError):
            raw = (home / name).read_bytes()
            files[name] = _without_machine_settings(raw) if name == "config.json" else raw
    group = db.group()
    document = {
        "format": CONTENT_FORMAT,
        "version": CONTENT_VERSION,
        "created_at": now,
        "device": secrets.client_id,
        "made_by": made_by or (group.device_name if group is not None else socket.gethostname()),
        "secrets": _b64(secrets.to_bytes()),
        "database": _b64(database_bytes(db)),
        "files": {name: _b64(raw) for name, raw in files.items()},
    }
    return json.dumps(document, sort_keys=True).encode("utf-8")


def create(
    home: Path,
    db: Database,
    secrets: DeviceSecrets,
    output: Path,
    *,
    passphrase: str | None,
    spec: ShareSpec | None,
    now: int | None = None,
) -> BackupMade:
    """Seal a backup of ``home`` into ``output`` (never over an existing file). The caller audits ``backup_made``
    (with :func:`holders_of`), so the backup holds every row before it."""
    made_at = int(time.time()) if now is None else now
    try:
        sealed = seal(gather(home, db, secrets, made_at), random=os.urandom, passphrase=passphrase, spec=spec)
    except ValueError as exc:
        raise BackupError(f"cannot make this backup: {exc}") from None
    _write_new(output, sealed.data)
    threshold = None if spec is None else (spec.groups[0][0] if len(spec.groups) == 1 else spec.group_threshold)
    return BackupMade(output, made_at, sealed.shares, threshold, () if spec is None else spec.groups)


def read(
    data: bytes,
    *,
    passphrase: str | None = None,
    shares: Sequence[str] | None = None,
    share_passphrase: str = "",
) -> Backup:
    """Open a backup file's bytes with its passphrase or its shares; a ``VaultError`` or :class:`BackupError`."""
    if shares is not None:
        content = open_with_shares(data, shares, share_passphrase)
    elif passphrase is not None:
        content = open_with_passphrase(data, passphrase)
    else:
        raise BackupError("a backup opens with its passphrase or its shares")
    return _parse(content)


def holders(data: bytes) -> tuple[bool, bool]:
    """Whether the backup opens with a passphrase, and whether with shares (its header says; nothing is opened)."""
    header, _body = read_header(data)
    return header.passphrase is not None, header.shares is not None


def share_set(data: bytes) -> int | None:
    """The identifier of the SLIP-39 share set that opens the backup (every share of it carries it), if any."""
    held = read_header(data)[0].shares
    return None if held is None else held.identifier


def check(backup: Backup) -> BackupCheck:
    """Open the backed-up database in a temporary dir and check it: its sessions and its audit log."""
    with tempfile.TemporaryDirectory(prefix="walletsync-verify-") as scratch:
        path = Path(scratch) / DATABASE
        write_backup_database(backup.database, path)
        db = Database(path, backup.secrets.storage_key)
        try:
            verdict = verify_stored(db, backup.secrets.identity.public_key)
            sessions = len(db.sessions())
        finally:
            db.close()
    return BackupCheck(
        backup.created_at,
        backup.device,
        backup.made_by,
        sessions,
        verdict.entries,
        verdict.ok,
        tuple(sorted(backup.files)),
    )


@dataclass(frozen=True)
class Restored:
    """Where a backup came back, and the device group its device was in (its id), if any.

    The restored data dir is that device, same identity: the old one must not run beside it (restore as a new device
    instead: :mod:`walletsync.service.backup_import`)."""

    home: Path
    group: str | None


@dataclass(frozen=True)
class RestoredHere:
    """A backup brought into this device as a new device (:meth:`Companion.restore_backup`)."""

    sessions: int
    """How many sessions came back (active ones)."""
    made_at: int
    """When the backup was made (unix s)."""
    made_by: str
    """The name of the device that made it (peer-ish text: show it as data)."""
    old_device: str
    """That device's client id."""
    group: str | None
    """The device group it was in (its id), if any: then offer to join it, as a new device."""


def restore(config: Config, backup: Backup, *, now: int | None = None) -> Restored:
    """Bring ``backup`` back into the data dir ``config`` names. :class:`RestoreRefused` if it already has a
    database; a ``DeviceSecretsError`` if the secrets cannot be stored (nothing restored then)."""
    home = resolve_data_dir(config.data_dir)
    target = home / DATABASE
    if target.exists():
        raise RestoreRefused(
            f"{home} already has walletsync data: restore never merges into it; restore into a new data dir "
            "(--data-dir DIR, or $WALLETSYNC_HOME) and keep both"
        )
    keyring_file = configured_keyring_file(config, home)
    if keyring_file is not None and keyring_file.exists():
        raise RestoreRefused(f"the key file {keyring_file} already holds a device's keys: name a new one")
    restored_at = int(time.time()) if now is None else now
    staged = home / f".{DATABASE}.restore-{os.urandom(6).hex()}"
    written: list[tuple[Path, bytes | None]] = []
    try:
        write_backup_database(backup.database, staged)
        db = Database(staged, backup.secrets.storage_key)
        try:
            verdict = verify_stored(db, backup.secrets.identity.public_key)
            if not verdict.ok:
                raise BackupError("the backup's audit log does not verify: it was not restored")
            group = db.group()
            with db.transaction():
                _audit(
                    db,
                    backup.secrets,
                    "restored_from_backup",
                    restored_at,
                    made_at=backup.created_at,
                    made_by=backup.made_by,
                    device=backup.device,
                )
        finally:
            db.close()
        written = restore_files(home, backup.files)
        _store_secrets(home, keyring_file, config, backup.secrets)
        os.replace(staged, target)
        written = []
    finally:
        undo_files(written)
        for leftover in (staged, staged.with_name(staged.name + "-wal"), staged.with_name(staged.name + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return Restored(home, None if group is None else group.group_id)


def shares_from_lines(lines: Iterable[str]) -> list[str]:
    """Shares from a file or stdin: one per line; blank lines and ``#`` comments skipped."""
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def holders_of(passphrase: str | None, spec: ShareSpec | None) -> list[str]:
    return [name for name, held in (("passphrase", passphrase is not None), ("shares", spec is not None)) if held]


def _audit(db: Database, secrets: DeviceSecrets, kind: str, now: int, **data: Any) -> None:
    newest = db.last_audit()
    entry = audit.append(
        newest.tip() if newest is not None else None,
        kind=kind,
        session=None,
        data=data,
        ts=now * 1000,
        key=secrets.identity,
    )
    db.add_audit([entry], audit.sign_head(entry, secrets.identity))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _without_machine_settings(raw: bytes) -> bytes:
    try:
        settings = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(settings, dict) or not any(k in settings for k in _FORGOTTEN_SETTINGS):
        return raw
    kept = {k: v for k, v in settings.items() if k not in _FORGOTTEN_SETTINGS}
    return (json.dumps(kept, indent=2) + "\n").encode("utf-8")


def _parse(content: bytes) -> Backup:
    def damaged(problem: str) -> BackupError:
        return BackupError(f"the backup opened but its content is not what walletsync writes ({problem})")

    try:
        document = json.loads(content)
    except (UnicodeDecodeError, ValueError):
        raise damaged("not JSON") from None
    if not isinstance(document, dict) or document.get("format") != CONTENT_FORMAT:
        raise damaged("no walletsync-backup format")
    if document.get("version") != CONTENT_VERSION:
        raise BackupError(
            f"this backup's content is version {document.get('version')!r}; this walletsync reads {CONTENT_VERSION}"
        )
    try:
        created_at, device, made_by = document["created_at"], document["device"], document["made_by"]
        if not isinstance(created_at, int) or not isinstance(device, str) or not isinstance(made_by, str):
            raise damaged("created_at, device or made_by")
        files = document["files"]
        if not isinstance(files, dict) or not set(files) <= set(FILES):
            raise damaged("unknown files")
        return Backup(
            created_at,
            device,
            made_by,
            DeviceSecrets.from_bytes(base64.b64decode(document["secrets"], validate=True)),
            base64.b64decode(document["database"], validate=True),
            {name: base64.b64decode(raw, validate=True) for name, raw in files.items()},
        )
    except (KeyError, TypeError, binascii.Error, InvalidSecrets):
        raise damaged("a field is missing or malformed") from None


def write_backup_database(data: bytes, path: Path) -> None:
    """The backup's database image as a new file at ``path``; :class:`BackupError` if it is not one."""
    try:
        write_database(data, path)
    except WalletsyncError as exc:
        raise BackupError(f"the backup's database cannot be restored: {exc}") from None


def _write_new(path: Path, data: bytes) -> None:
    """``data`` into a new file at ``path`` (0600), whole or not at all; never over an existing file."""
    path = path.expanduser()
    temp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    try:
        fd = open_private(temp, os.O_WRONLY | os.O_EXCL)
        with open(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            raise BackupError(f"{path} already exists: choose another file (-o FILE)") from None
        except OSError:  # no hard links here (some synced cloud folders): checked, then renamed
            if path.exists():
                raise BackupError(f"{path} already exists: choose another file (-o FILE)") from None
            os.replace(temp, path)
    except OSError as exc:
        raise BackupError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def restore_files(home: Path, files: dict[str, bytes]) -> list[tuple[Path, bytes | None]]:
    """The backed-up files, each over none already there except ``config.json``, whose settings are merged (the
    data dir's own win: they are this machine's). Returns what each file held before (None: nothing), to undo."""
    written: list[tuple[Path, bytes | None]] = []
    try:
        for name, raw in files.items():
            written.append(_restore_file(home, name, raw))
    except BaseException:
        undo_files(written)
        raise
    return written


def undo_files(written: list[tuple[Path, bytes | None]]) -> None:
    """Put back what :func:`restore_files` replaced (a file it created is removed)."""
    for path, before in reversed(written):
        with contextlib.suppress(OSError):
            if before is None:
                path.unlink()
            else:
                path.write_bytes(before)


def _restore_file(home: Path, name: str, raw: bytes) -> tuple[Path, bytes | None]:
    path = home / name
    before = path.read_bytes() if path.exists() else None
    if name == "config.json" and before is not None:
        try:
            mine = json.loads(before)
            theirs = json.loads(raw)
        except ValueError:
            raise RestoreRefused(f"{path} is not valid JSON: fix or remove it, then restore again") from None
        if isinstance(mine, dict) and isinstance(theirs, dict):
            raw = (json.dumps({**theirs, **mine}, indent=2) + "\n").encode("utf-8")
    elif before is not None and before != raw:
        raise RestoreRefused(f"{path} already exists: restore into a new data dir (--data-dir DIR)")
    temp = home / f".{name}.restore-{os.urandom(6).hex()}"
    try:
        fd = open_private(temp, os.O_WRONLY | os.O_EXCL)
        with open(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return path, before


def _store_secrets(home: Path, keyring_file: Path | None, config: Config, secrets: DeviceSecrets) -> None:
    """The restored identity where this data dir keeps its keys: the key file chosen for it, else the OS keyring."""
    if keyring_file is None:
        OsKeyring(home).save(secrets)
        return
    passphrase = config.passphrase or os.environ.get("WALLETSYNC_PASSPHRASE")
    if not passphrase:
        raise BackupError(
            f"restoring into the key file {keyring_file} needs its new passphrase in $WALLETSYNC_PASSPHRASE"
        )
    if not PassphraseFile(keyring_file, passphrase).create(secrets):
        raise RestoreRefused(f"the key file {keyring_file} already holds a device's keys: name a new one")
    remember_keyring_file(home, keyring_file)
