"""RPC URLs as they may be shown: providers put the account's API key in the URL (``…/v3/KEY``, ``KEY@host``).

The URL is kept whole where it is used (``config.json``, the registry, the requests made); what reaches a
terminal, a tool's error message or a JSON line someone may log is :func:`url_shown`: any user info, and every
path, query or fragment token long enough to be a key, cut to its first four characters.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

KEY_LIKE = re.compile(r"[A-Za-z0-9_\-]{20,}")
"""A run this long in a path or query is an API key, not a word (Infura and Alchemy keys are 32, QuickNode's 40)."""
KEPT = 4


def url_shown(url: str) -> str:
    """``url`` with its user info and its key-like tokens cut (``https://x.io/v3/abcd…``); anything that is not a URL
    is given back as it is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    if netloc != parts.netloc:
        netloc = f"…@{netloc}"
    path, query, fragment = (KEY_LIKE.sub(_cut, part) for part in (parts.path, parts.query, parts.fragment))
    return urlunsplit((parts.scheme, netloc, path, query, fragment))


def _cut(found: re.Match[str]) -> str:
    return found.group(0)[:KEPT] + "…"
