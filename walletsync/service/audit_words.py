"""A few audit rows said in words, where their key=value data would hide what happened (a restore: from which
backup, made when and by whom). The rest are shown by their kind and data as they are."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: `walletsync chains` and other commands that build the parser load no crypto
    from walletsync.audit import AuditEntry


def headline(entry: AuditEntry) -> str | None:
    """``restored from backup made on 2026-12-01 21:00 UTC by 'laptop'``, or None for a row said by its data. The
    name is the old device's own: whoever shows the line escapes it."""
    data = entry.data
    if entry.kind == "restored_from_backup" and isinstance(data.get("made_at"), int):
        made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(data["made_at"]))
        by = f" by '{data['made_by'][:64]}'" if isinstance(data.get("made_by"), str) else ""
        return f"restored from backup made on {made}{by}"
    if entry.kind == "backup_made" and isinstance(data.get("holders"), list):
        holders = " or ".join(str(h) for h in data["holders"]) or "nothing"
        return f"backup made, opened by its {holders[:40]}"
    return None
