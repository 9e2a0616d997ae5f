"""How every command talks to the terminal: text for people, one JSON document or JSON lines with ``--json``."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(args: Any, text: str, **event: Any) -> None:
    """A line for people, or the same facts as one JSON object with ``--json``."""
    print(json.dumps(event, default=str) if getattr(args, "json", False) else text, flush=True)


def emit_json(args: Any, document: Any, text: str) -> None:
    """A whole JSON document with ``--json``; ``text`` otherwise."""
    print(json.dumps(document, default=str, indent=None) if getattr(args, "json", False) else text, flush=True)


def fail(args: Any, code: str, message: str, exit_code: int = 1) -> int:
    """Report a failure on one line (stderr), or as ``{"error":{code,message}}`` on stdout with ``--json``."""
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message}}), flush=True)
    else:
        print(f"walletsync: {message}", file=sys.stderr, flush=True)
    return exit_code
