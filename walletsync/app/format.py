"""How the screens write times, accounts and chains: plain functions, no widgets.

What a phone chose (names, urls, accounts, chains, messages, results) reaches a widget
only as :func:`plain` / :func:`clip` (a rich ``Text``: never parsed as markup) or as
:func:`walletsync.text.shown` text given to a widget with ``markup=False``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from rich.text import Text

from walletsync.service import AuditEntry, Registry, RequestRecord, SessionRecord
from walletsync.service.audit_words import headline
from walletsync.text import clip as clip_text
from walletsync.text import shown

PEER_CELLS = 32
"""The phone's own name, where it is shown beside the local one."""


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


def session_state(record: SessionRecord, now: float) -> str:
    """active, or how it ended: revoked (here), deleted (by the phone), expired (also when its expiry just passed)."""
    return "expired" if record.status == "active" and record.expiry <= now else record.status


ENDED_BY = {"revoked": "revoked", "deleted": "ended by the phone", "expired": "expired"}


def no_requests(record: SessionRecord, now: float) -> str | None:
    """Why no request can go to ``record``'s phone any more (safe to show), or None while it can."""
    state = session_state(record, now)
    if state == "active":
        return None
    return (
        f"'{shown(record.name)}' is {ENDED_BY.get(state, shown(state))}: its phone takes no more requests. "
        "Press n to pair the phone again."
    )


def is_waiting(request: RequestRecord, now: float) -> bool:
    """Sent, unanswered, and the phone may still answer in time."""
    return request.status == "pending" and request.expiry > now


def short_account(account: str) -> str:
    address = account.split(":")[-1]
    return shown(f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address)


def session_chains(record: SessionRecord) -> list[str]:
    chains = {":".join(a.split(":")[:2]) for a in record.accounts}
    for namespace in record.namespaces.values():
        chains.update(namespace.get("chains", []))
    return sorted(chains)


def chain_label(registry: Registry, chain_id: str, width: int | None = None) -> str:
    """``Polygon (eip155:137)``, or the id of a chain the registry does not know; escaped (a phone chose the id)."""
    return shown(registry.label(chain_id), width)


def first_chain(record: SessionRecord, registry: Registry, width: int = 18) -> str:
    """``Ethereum +1``: the session's first chain by its name alone (its id when the registry does not know it)
    and how many more — a table's room; the detail shows every chain with its id. Safe to show."""
    chains = session_chains(record)
    if not chains:
        return "—"
    more = f" +{len(chains) - 1}" if len(chains) > 1 else ""
    return shown(registry.name(chains[0]) or chains[0], width) + more


def plain(value: Any, width: int | None = None) -> Text:
    """Peer text for a widget: escaped, never markup, clipped to ``width`` cells if given."""
    return Text(shown(value, width))


def clip(text: str, width: int) -> Text:
    """Plain text (peer data is never markup), escaped and cut to fit a table column; the audit export has it all."""
    return plain(text, width)


def peer_name(record: SessionRecord, width: int = PEER_CELLS) -> str:
    """The phone's own name, escaped and clipped: shown apart from the local name, never as it."""
    return shown((record.peer or {}).get("name") or "?", width)


def fit(text: str, width: int) -> Text:
    """Text already safe to show (escaped, or ASCII JSON), cut to fit a table column."""
    return Text(clip_text(text, width))


def _value(value: Any) -> str:
    """A string escaped; anything else as JSON, whose default ASCII escapes already make it safe to show."""
    return shown(value) if isinstance(value, str) else json.dumps(value)


def audit_details(entry: AuditEntry, registry: Registry | None = None) -> str:
    """An audit row's data on one line, safe to show (give it to :func:`fit`); with a registry, its chain by name.
    A row said in words (a restore: from which backup) says them first."""
    said = headline(entry)
    return (f"{shown(said)}: " if said else "") + ", ".join(
        f"{key}={chain_label(registry, value) if key == 'chain_id' and registry and isinstance(value, str) else _value(value)}"
        for key, value in entry.data.items()
    )


def phone_data(data: Any, width: int = 80) -> str:
    """A phone event's payload on one line (e.g. the new accounts), safe to show, cut to ``width``."""
    return clip_text(_value(data), width)


def site_of(url: str) -> str:
    """The host a peer claims to be (``https://app.example/x`` → ``app.example``): what a table has room for."""
    try:
        host = urlsplit(url).hostname if "://" in url else None
    except ValueError:  # "https://[not an IPv6 address]/": the phone's url is not a url
        host = None
    return host or url
