"""The tamper-evident audit chain: each row names its predecessor's hash and is signed by the device.

Rows form a hash chain (``prev_hash`` is the sha256 of the previous row's
canonical bytes and its signature) and each row carries an Ed25519 signature, by
the device key held in the OS keyring, over its own canonical bytes. Without that
key nobody can edit, delete or reorder a row unnoticed; :func:`verify` names the
first row where the chain stops adding up.

Because the chain covers every signature, an intact chain whose newest row (and
signed head) verifies proves every row: :func:`verify` checks that first, one
sha256 per row, and checks each row's own signature only to name what broke (or
for rows linked by the earlier chain, which left signatures out).

A hash chain alone cannot tell that rows were cut off its *tail*. The caller
therefore keeps a signed head (:func:`sign_head`) next to the rows, updated in
the same transaction as each append, and passes it to :func:`verify`.

This module is pure: the caller reads the clock, holds the key and persists rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from walletsync.errors import WalletsyncError

GENESIS = "0" * 64
HEAD_CONTEXT = b"walletsync audit head\x00"  # keeps a head signature from passing as a row's

KINDS = frozenset(
    {
        "pairing_offered",
        "proposal_sent",
        "proposal_approved",
        "proposal_rejected",
        "proposal_expired",
        "session_settled",
        "session_updated",
        "session_scope_widened",
        "session_extended",
        "session_renamed",
        "session_revoked",
        "session_deleted_by_peer",
        "session_expired",
        "request_pushed",
        "request_answered",
        "request_rejected",
        "request_expired",
        "response_late",
        "signature_verified",
        "signature_mismatch",
        "request_refused_by_scope",
        "request_refused_by_policy",
        "bridge_refused",
        "bridge_reads",
        "transaction_altered",
        "policy_attested",
        "ping_answered",
        "event_received",
        "link_offered",
        "link_message_refused",
        "link_second_device_refused",
        "link_refused",
        "link_ended",
        "device_linked",
        "device_joined",
        "sync_message_refused",
        "device_added",
        "device_revoked",
        "device_renamed",
        "group_rekeyed",
        "backup_made",
        "restored_from_backup",
        "watch_added",
        "watch_changed",
        "watch_removed",
    }
)

_HASH_HEX = re.compile(r"[0-9a-f]{64}")
_SIGNATURE_HEX = re.compile(r"[0-9a-f]{128}")


class InvalidAuditEntry(WalletsyncError, ValueError):
    """The caller asked to log something the audit chain cannot hold (a bug, not tampering)."""

    code = "invalid_audit_entry"


class DeviceKey(Protocol):
    """Anything holding the device key, such as :class:`walletsync.protocol.relay_auth.RelayIdentity`."""

    def sign(self, data: bytes) -> bytes: ...


def _canonical_json(value: Any) -> bytes:
    """Compact, key-sorted UTF-8 JSON; text with lone surrogates falls back to ASCII escapes."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode(
            "ascii"
        )


@dataclass(frozen=True)
class AuditEntry:
    """One signed row of the audit log. ``data`` never holds secrets: rows are exported in clear.

    A row is a value: its canonical bytes and hash are computed once, on first use, so never change ``data``
    in place (make a new row with :func:`dataclasses.replace`).
    """

    seq: int
    ts: int
    kind: str
    session: str | None
    data: dict
    prev_hash: str
    signature: str

    def _signed_fields(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "session": self.session,
            "data": self.data,
            "prev_hash": self.prev_hash,
        }

    def canonical(self) -> bytes:
        """The bytes that are hashed and signed: every field except the signature."""
        canonical: bytes | None = self.__dict__.get("_canonical")
        if canonical is None:
            canonical = _canonical_json(self._signed_fields())
            object.__setattr__(self, "_canonical", canonical)
        return canonical

    def hash(self) -> str:
        """What the next row's ``prev_hash`` names: the sha256 of the canonical bytes, a newline and the signature."""
        hash_hex: str | None = self.__dict__.get("_hash")
        if hash_hex is None:
            signature = str(self.signature).encode("utf-8", "replace")
            hash_hex = hashlib.sha256(self.canonical() + b"\n" + signature).hexdigest()
            object.__setattr__(self, "_hash", hash_hex)
        return hash_hex

    def tip(self) -> tuple[int, str]:
        """``(seq, hash)``: what the next row links to, and what the signed head names."""
        return self.seq, self.hash()

    def unsigned_hash(self) -> str:
        """The link an earlier build wrote (the canonical bytes alone): still accepted, with every signature checked."""
        return hashlib.sha256(self.canonical()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """One ``audit export`` line: the row, its signature and its hash."""
        return {
            **self._signed_fields(),
            "signature": self.signature,
            "hash": self.hash(),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> AuditEntry:
        """Rebuild a row from :meth:`to_json` output; values are not judged here, :func:`verify` does that."""
        fields = ("seq", "ts", "kind", "session", "data", "prev_hash", "signature")
        if not isinstance(obj, dict) or any(name not in obj for name in fields):
            raise InvalidAuditEntry(f"an audit row needs the fields {', '.join(fields)}")
        return cls(**{name: obj[name] for name in fields})


def append(
    previous: AuditEntry | tuple[int, str] | None,
    *,
    kind: str,
    session: str | None,
    data: dict,
    ts: int,
    key: DeviceKey,
) -> AuditEntry:
    """The signed row that follows ``previous`` (``None`` starts the chain); the caller persists it.

    ``previous`` is the newest row, or its ``(seq, hash)`` when the caller already has them (it appended
    that row itself), which spares reading it back and encoding it again.
    ``data`` must be JSON-serializable and must never contain secrets (keys,
    symKeys, seeds): the log is shown and exported in clear. It is stored as it
    will read back from JSON (tuples become lists, keys become strings).
    """
    if kind not in KINDS:
        raise InvalidAuditEntry(f"unknown audit kind {kind!r}")
    if session is not None and not isinstance(session, str):
        raise InvalidAuditEntry(f"audit session must be a topic string or None, got {type(session).__name__}")
    if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
        raise InvalidAuditEntry(f"audit ts must be unix milliseconds, got {ts!r}")
    if not isinstance(data, dict):
        raise InvalidAuditEntry(f"audit data must be a dict, got {type(data).__name__}")
    try:
        data = json.loads(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidAuditEntry(f"audit data for {kind} is not JSON-serializable: {exc}") from None
    seq, prev_hash = previous.tip() if isinstance(previous, AuditEntry) else previous or (0, GENESIS)
    entry = AuditEntry(seq=seq + 1, ts=ts, kind=kind, session=session, data=data, prev_hash=prev_hash, signature="")
    # signed here, before the row is handed out; the signature is not part of the canonical bytes kept with it
    object.__setattr__(entry, "signature", bytes(key.sign(entry.canonical())).hex())
    return entry


@dataclass(frozen=True)
class AuditVerdict:
    """What ``audit verify`` reports: ``first_bad`` is ``{"seq": n, "reason": "..."}`` or ``None``."""

    ok: bool
    entries: int
    first_bad: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_bad": self.first_bad}


def _malformed(entry: AuditEntry) -> str | None:
    """Why a row cannot have been written by :func:`append`, or ``None``."""
    if not isinstance(entry.seq, int) or isinstance(entry.seq, bool) or entry.seq < 1:
        return "seq is not a positive integer"
    if not isinstance(entry.ts, int) or isinstance(entry.ts, bool):
        return "ts is not an integer"
    if not isinstance(entry.kind, str):
        return "kind is not a string"
    if entry.session is not None and not isinstance(entry.session, str):
        return "session is not a string"
    if not isinstance(entry.data, dict):
        return "data is not an object"
    if not isinstance(entry.prev_hash, str) or not _HASH_HEX.fullmatch(entry.prev_hash):
        return "prev_hash is not 64 lowercase hex digits"
    if not isinstance(entry.signature, str) or not _SIGNATURE_HEX.fullmatch(entry.signature):
        return "signature is not 128 lowercase hex digits"
    return None


def _signed_by(key: VerifyKey, entry: AuditEntry) -> bool:
    try:
        key.verify(entry.canonical(), bytes.fromhex(entry.signature))
        return True
    except (BadSignatureError, TypeError, ValueError):
        return False


def _verify_key(public_key: bytes) -> VerifyKey:
    if not isinstance(public_key, (bytes, bytearray)) or len(public_key) != 32:
        raise InvalidAuditEntry("the audit public key must be 32 bytes (the device's Ed25519 key)")
    return VerifyKey(bytes(public_key))


def _missing(first: int, last: int) -> str:
    return f"row {first}" if first == last else f"rows {first}-{last}"


def _problem(entries: Sequence[AuditEntry], index: int, key: VerifyKey) -> str | None:
    """The first thing wrong with row ``index`` given that every row before it checked out."""
    entry = entries[index]
    malformed = _malformed(entry)
    if malformed:
        return f"edited: {malformed}"
    if not _signed_by(key, entry):
        return "edited: the row's content no longer matches its signature"
    previous = entries[index - 1] if index else None
    expected = previous.seq + 1 if previous else 1
    if entry.seq < expected:
        assert previous is not None  # expected > 1 only after a previous row
        return f"reordered: row {entry.seq} comes after row {previous.seq}"
    if entry.seq > expected:
        later = {e.seq for e in entries[index + 1 :] if not _malformed(e) and _signed_by(key, e)}
        skipped = [seq for seq in range(expected, entry.seq) if seq in later]
        if skipped:
            return f"reordered: row {entry.seq} comes before row {skipped[0]}"
        return f"{_missing(expected, entry.seq - 1)} missing (deleted)"
    if entry.prev_hash not in ((previous.hash(), previous.unsigned_hash()) if previous else (GENESIS,)):
        link = f"row {previous.seq}" if previous else "the start of the log"
        return f"prev_hash does not match {link}: reordered or a row before it was removed"
    return None


def verify(
    entries: Sequence[AuditEntry],
    public_key: bytes,
    head: tuple[int, str] | None = None,
) -> AuditVerdict:
    """Check the chain in stored order; name the first row that was edited, deleted or reordered.

    ``head`` is the caller's ``(last_seq, last_hash)`` whose signature it has
    checked with :func:`verify_head`; without it, rows cut from the end go unseen.
    Rows after the head are accepted (the head proves "at least up to here").
    """
    key = _verify_key(public_key)
    count = len(entries)
    if _intact(entries, key, head):
        return AuditVerdict(True, count, None)
    for index in range(count):
        reason = _problem(entries, index, key)
        if reason:
            seq = entries[index].seq
            return AuditVerdict(False, count, {"seq": seq if type(seq) is int else None, "reason": reason})
    if head is not None:
        head_seq, head_hash = head
        last_seq = entries[-1].seq if entries else 0
        if last_seq < head_seq:
            removed = "all rows were removed" if not entries else f"rows after {last_seq} were removed"
            return AuditVerdict(
                False, count, {"seq": last_seq + 1, "reason": f"{removed} (the signed head is row {head_seq})"}
            )
        at_head = next((e for e in entries if e.seq == head_seq), None)
        if at_head is not None and head_hash not in (at_head.hash(), at_head.unsigned_hash()):
            return AuditVerdict(
                False, count, {"seq": head_seq, "reason": f"row {head_seq} does not match the signed head (rewritten)"}
            )
    return AuditVerdict(True, count, None)


def _intact(entries: Sequence[AuditEntry], key: VerifyKey, head: tuple[int, str] | None) -> bool:
    """Every row well formed, numbered from 1 and linked to the one before by :meth:`AuditEntry.hash`, the newest
    row signed by ``key`` and the head (if any) on the chain: then every row is as signed (the chain covers each
    signature). False says only "look closer", never where."""
    link, seq, hashes = GENESIS, 0, {}
    for entry in entries:
        seq += 1
        if entry.seq != seq or entry.prev_hash != link or _malformed(entry):
            return False
        link = hashes[seq] = entry.hash()
    if entries and not _signed_by(key, entries[-1]):
        return False
    if head is not None and (seq < head[0] or (head[0] > 0 and hashes.get(head[0]) != head[1])):
        return False
    return True


def _head_bytes(seq: int, hash_hex: str) -> bytes:
    return HEAD_CONTEXT + f"{seq}:{hash_hex}".encode("ascii")


def sign_head(last_entry: AuditEntry, key: DeviceKey) -> str:
    """Hex signature over ``(seq, hash)`` of the newest row; store it beside the rows on each append."""
    return bytes(key.sign(_head_bytes(last_entry.seq, last_entry.hash()))).hex()


def verify_head(seq: int, hash: str, signature: str, public_key: bytes) -> bool:
    """Whether a stored head was signed by the device key; ``False`` (never an exception) for junk."""
    try:
        if not isinstance(seq, int) or isinstance(seq, bool):
            return False
        if not _SIGNATURE_HEX.fullmatch(signature) or not _HASH_HEX.fullmatch(hash):
            return False
        VerifyKey(bytes(public_key)).verify(_head_bytes(seq, hash), bytes.fromhex(signature))
        return True
    except (BadSignatureError, TypeError, ValueError):
        return False
