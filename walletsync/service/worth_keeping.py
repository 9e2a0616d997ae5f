"""Which audit rows are changes worth keeping in a backup, and which are not: one list, decided kind by kind.

A backup brings back the sessions (keys, names, expiry, scope), the policies, the device group's rows and keys, the
watch list and the audit log. A row counts when restoring the newest backup would lose what it records: state that
changed (a session settled, renamed, extended, ended; a policy attested; a device linked, renamed, revoked; the
watch list) or
something done with the user's authority (a request answered or rejected on the phone, a transaction altered).

Rows that change nothing a restore would miss do not count: reads (``bridge_reads``), pings, the phone's events,
attempts that were refused or expired (a proposal, a request, a link, a peer's sync message), offers nobody took,
and the backup rows themselves. A session's expiry is written down already, so its ``session_expired`` row is no
loss either. tests/backup/test_worth_keeping.py checks that every kind :mod:`walletsync.audit` knows is in exactly
one of the two lists, so a new kind cannot be forgotten.
"""

from __future__ import annotations

WORTH_KEEPING = frozenset(
    {
        "proposal_approved",
        "session_settled",
        "session_updated",
        "session_scope_widened",
        "session_extended",
        "session_renamed",
        "session_revoked",
        "session_deleted_by_peer",
        "request_answered",
        "request_rejected",
        "signature_mismatch",
        "transaction_altered",
        "policy_attested",
        "device_linked",
        "device_joined",
        "device_added",
        "device_revoked",
        "device_renamed",
        "group_rekeyed",
        "watch_added",
        "watch_changed",
        "watch_removed",
    }
)
"""Audit kinds whose rows a restore of an older backup would lose."""

NOT_WORTH_KEEPING = frozenset(
    {
        "pairing_offered",
        "proposal_sent",
        "proposal_rejected",
        "proposal_expired",
        "session_expired",
        "request_pushed",
        "request_expired",
        "response_late",
        "signature_verified",
        "request_refused_by_scope",
        "request_refused_by_policy",
        "bridge_refused",
        "bridge_reads",
        "ping_answered",
        "event_received",
        "link_offered",
        "link_message_refused",
        "link_second_device_refused",
        "link_refused",
        "link_ended",
        "sync_message_refused",
        "backup_made",
        "restored_from_backup",
    }
)
"""Audit kinds that record reads, attempts, expiries or the backups themselves: no change to keep."""

BACKUP_KINDS = ("backup_made", "restored_from_backup")
"""Rows that mark a backup holding everything before them: one made here, or the one this data dir came from."""
