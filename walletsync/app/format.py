"""How the screens write times, accounts and chains: plain functions, no widgets."""

from __future__ import annotations

import json
from urllib.parse import urlsplit
from typing import Any

from rich.text import Text

from walletsync.audit import AuditEntry
from walletsync.store.db import RequestRecord, SessionRecord


def expires_in(seconds: float) -> str:
    seconds = int(seconds)
    if seconds <= 0:
        return "expired"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}:{secs:02d}"


def ago(seconds: float | None) -> str:
    """How long ago, coarsely ("just now", "42s ago", "2m ago", "3h ago", "2d ago"); "—" for never."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


def is_waiting(request: RequestRecord, now: float) -> bool:
    """Sent, unanswered, and the phone may still answer in time."""
    return request.status == "pending" and request.expiry > now


def short_account(account: str) -> str:
    address = account.split(":")[-1]
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


def session_chains(record: SessionRecord) -> list[str]:
    chains = {":".join(a.split(":")[:2]) for a in record.accounts}
    for namespace in record.namespaces.values():
        chains.update(namespace.get("chains", []))
    return sorted(chains)


def chains_of(record: SessionRecord) -> str:
    return ", ".join(session_chains(record))


def clip(text: str, width: int) -> Text:
    """Plain text (peer data is never markup), cut to fit a table column; the audit export has it all."""
    return Text(text if len(text) <= width else text[: width - 1] + "…")


def audit_details(entry: AuditEntry) -> str:
    return ", ".join(f"{key}={value if isinstance(value, str) else json.dumps(value)}" for key, value in entry.data.items())


def phone_data(data: Any, width: int = 80) -> str:
    """A phone event's payload on one line (e.g. the new accounts), cut to ``width``."""
    text = data if isinstance(data, str) else json.dumps(data)
    return text if len(text) <= width else text[: width - 1] + "…"


def site_of(url: str) -> str:
    """The host a peer claims to be (``https://app.example/x`` → ``app.example``): what a table has room for."""
    host = urlsplit(url).hostname if "://" in url else None
    return host or url
