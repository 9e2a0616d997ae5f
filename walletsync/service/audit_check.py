"""Checking the audit log as the store holds it: its hash chain, and the signed head that shows no row was cut off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walletsync.audit import AuditEntry, AuditVerdict, verify, verify_head
from walletsync.store.db import Database


def verify_stored(db: Database, public_key: bytes) -> AuditVerdict:
    """Whether the audit log's hash chain and its signed head are intact, and where they break if not."""
    head = db.audit_head()
    entries = db.audit_entries()
    if head is not None and not verify_head(head[0], head[1], head[2], public_key):
        return AuditVerdict(False, len(entries), {"seq": head[0], "reason": "the signed head of the log was edited"})
    return verify(entries, public_key, head=(head[0], head[1]) if head else None)


@dataclass(frozen=True)
class GroupAuditVerdict(AuditVerdict):
    """This device's verdict, plus one per other device whose rows the group shared (``devices``)."""

    devices: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if self.devices:
            out["devices"] = list(self.devices)
            out["ok"] = self.ok and all(d["ok"] for d in self.devices)
        return out


def verify_members(db: Database, signing_keys: dict[str, bytes], names: dict[str, str]) -> list[dict[str, Any]]:
    """Each other device's shared rows checked against its own key: a chain nobody could have forged.

    Rows still on their way (a gap at the end) are not an error; a gap in the middle or a row that
    does not verify is. A device this one does not know (no key) is reported as unverifiable.
    """
    by_device: dict[str, list[AuditEntry]] = {}
    for device, entry in db.remote_audit_entries():
        by_device.setdefault(device, []).append(entry)
    verdicts = []
    for device, entries in sorted(by_device.items()):
        key = signing_keys.get(device)
        if key is None:
            verdict = AuditVerdict(False, len(entries), {"seq": None, "reason": "no key known for this device"})
        else:
            verdict = verify(entries, key)
        verdicts.append({"device": device, "name": names.get(device, device[:12]), **verdict.to_json()})
    return verdicts
