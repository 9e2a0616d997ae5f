"""Keep relay-auth tokens out of the relay's logs.

A token in a log is a credential in a file: whoever reads it can act as that client
until it expires. websockets logs request paths (``/?auth=<JWT>``) and headers at
debug level, and an exception can quote either; :class:`RedactTokens` rewrites any
record that holds something token-shaped before a handler sees it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "<redacted>"
_TOKEN = re.compile(
    r"(?i)(auth=|bearer\s+)[^\s&\"',;)]+"  # ?auth=… / Authorization: Bearer …
    r"|eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"  # any JWT (its header always starts with eyJ)
)


def redact(text: str) -> str:
    return _TOKEN.sub(lambda m: (m.group(1) or "") + REDACTED, text)


def _suspect(text: str) -> bool:
    low = text.lower()
    return "auth=" in low or "bearer" in low or "eyj" in low


class RedactTokens(logging.Filter):
    """A filter (for a logger or a handler) that replaces tokens in a record's message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose args do not fit its format: leave it to the handler
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if _suspect(message):
            record.msg, record.args = redact(message), None
        if record.exc_text and _suspect(record.exc_text):
            record.exc_text = redact(record.exc_text)
        if record.stack_info and _suspect(record.stack_info):
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactTokens()


def redacting(name: str) -> logging.Logger:
    """The logger ``name`` with :class:`RedactTokens` on it (a filter on a logger covers what it logs itself)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def install(handlers: list[logging.Handler] | None = None) -> None:
    """Put :class:`RedactTokens` on ``handlers`` (default: the root logger's), so every logger is covered."""
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    redacting("walletsync.relay")
    redacting("websockets.server")
