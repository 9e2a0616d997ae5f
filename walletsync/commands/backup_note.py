"""How old the newest backup is, said in one line: under ``walletsync sessions`` (stderr) and in ``backup status``.

Said only when there is something to keep: no line at all when the backup is up to date, or when there is
neither a backup nor a session. Never part of ``--json`` output (scripts read ``backup status --json``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from walletsync.service.backup_facade import BackupAge

MAKE = "walletsync backup create"


def ago(then: int, now: float) -> str:
    """``12 days ago``, ``3 hours ago``, ``less than an hour ago`` (a clock set back reads as just now)."""
    seconds = max(0, int(now) - then)
    for unit, size in (("day", 86400), ("hour", 3600)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "less than an hour ago"


def backup_note(age: BackupAge, *, has_sessions: bool, now: float | None = None) -> str | None:
    """The line to show, or None when there is nothing worth saying (``has_sessions``: a live session exists)."""
    now = time.time() if now is None else now
    if age.made_at is None:
        return f"no backup yet: {MAKE}" if has_sessions else None
    if not age.changed_since:
        return None
    return f"last backup made {ago(age.made_at, now)}, changes since: {MAKE}"


def status_text(age: BackupAge, now: float | None = None) -> str:
    """What ``backup status`` says: the same facts as the note, with the date."""
    now = time.time() if now is None else now
    if age.made_at is None:
        return f"no backup made yet: {MAKE}"
    made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(age.made_at))
    text = f"newest backup made {made} ({ago(age.made_at, now)})"
    if age.changed_since:
        return text + f"; changes since then are not in it: {MAKE}"
    return text + "; nothing worth keeping has changed since"
