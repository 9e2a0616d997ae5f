"""How the state file keeps a structured value in one column: compact JSON text, NULL for None."""

from __future__ import annotations

import json
from typing import Any


def as_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)
