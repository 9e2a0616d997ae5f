"""Checking the audit log as the store holds it: its hash chain, and the signed head that shows no row was cut off."""

from __future__ import annotations

from walletsync.audit import AuditVerdict, verify, verify_head
from walletsync.store.db import Database


def verify_stored(db: Database, public_key: bytes) -> AuditVerdict:
    """Whether the audit log's hash chain and its signed head are intact, and where they break if not."""
    head = db.audit_head()
    entries = db.audit_entries()
    if head is not None and not verify_head(head[0], head[1], head[2], public_key):
        return AuditVerdict(False, len(entries), {"seq": head[0], "reason": "the signed head of the log was edited"})
    return verify(entries, public_key, head=(head[0], head[1]) if head else None)
