"""How every command talks to the terminal: text for people, one JSON document or JSON lines with ``--json``.

Text for people shows peer text only through :func:`walletsync.text.shown` (or :func:`quoted`):
a phone's name, accounts or messages must not reach the terminal as control characters.
JSON output carries the exact values.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from walletsync.text import shown


def emit(args: Any, text: str, **event: Any) -> None:
    """A line for people, or the same facts as one JSON object with ``--json``."""
    print(json.dumps(event, default=str) if getattr(args, "json", False) else text, flush=True)


def emit_json(args: Any, document: Any, text: str) -> None:
    """A whole JSON document with ``--json``; ``text`` otherwise."""
    print(json.dumps(document, default=str, indent=None) if getattr(args, "json", False) else text, flush=True)


def quoted(value: Any, width: int | None = None) -> str:
    """``'value'`` for a line of text, escaped (and clipped to ``width`` cells): how names are printed."""
    return f"'{shown(value, width)}'"


def fail(args: Any, code: str, message: str, exit_code: int = 1, *, fields: dict[str, Any] | None = None) -> int:
    """Report a failure on one line (stderr), or as ``{"error":{code,message}}`` on stdout with ``--json``.

    The message may quote the phone (a rejection, a name): the line escapes it, the JSON keeps it exact.
    ``fields`` go into the JSON error object too (a policy refusal's ``rule``); they never replace code or message.
    """
    if getattr(args, "json", False):
        error = {**(fields or {}), "code": code, "message": message}
        print(json.dumps({"error": error}), flush=True)
    else:
        print(f"walletsync: {shown(message)}", file=sys.stderr, flush=True)
    return exit_code
