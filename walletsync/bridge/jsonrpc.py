"""JSON-RPC 2.0 as the bridge's clients send it: a request or a batch of them, read within bounds; the answers.

Pure: bytes in, :class:`Parsed` (or the one :class:`Fault` for the whole body) out. A client's body is hostile
input: it is refused past :data:`MAX_BODY` bytes or :data:`MAX_BATCH` requests, and each member of a batch that
is no request gets its own ``-32600`` in its place, so the batch's other members are still answered, in order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MAX_BODY = 4 << 20
"""Bytes of one HTTP body or WebSocket message: a contract's creation code is at most 48 KiB (EIP-3860), about
100 KB as hex, so even a batch of deployments fits."""
MAX_BATCH = 100
"""Requests in one batch (ethers sends at most 100 by default: its ``batchMaxCount``)."""
MAX_METHOD = 128
"""Characters of a method name."""
MAX_DEPTH = 64
"""Nesting of arrays and objects (typed data nests a few levels): Python's JSON reader crashes the process, not
just the request, on a body nested a hundred thousand deep, so such a body is refused before it is read."""
_NESTING = re.compile(rb'[\[\]{}"\\]')

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = -32700, -32600, -32601, -32602, -32603
LIMIT_EXCEEDED = -32005
"""EIP-1474's "limit exceeded": too many requests in flight."""
USER_REJECTED, UNAUTHORIZED, UNSUPPORTED_METHOD, DISCONNECTED, UNRECOGNIZED_CHAIN = 4001, 4100, 4200, 4900, 4902
"""EIP-1193's provider errors (4902: EIP-3326's chain the wallet does not know)."""


@dataclass(frozen=True)
class Fault:
    """A JSON-RPC error object: ``code``, ``message`` and, when there is more to say, ``data``."""

    code: int
    message: str
    data: Any = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out


@dataclass(frozen=True)
class Call:
    """One request: ``params`` is a list or an object (``[]`` when the client sent none); a notification (no
    ``id``) is handled but not answered."""

    id: Any
    method: str
    params: Any = field(default_factory=list)
    notification: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"jsonrpc": "2.0", "method": self.method, "params": self.params}
        if not self.notification:
            out["id"] = self.id
        return out


@dataclass(frozen=True)
class Invalid:
    """A member of the body that is no request: answered with ``fault`` under ``id`` (null when it had none)."""

    id: Any
    fault: Fault


@dataclass(frozen=True)
class Parsed:
    """What a body holds, in order; ``batch`` when it was an array (then the answer is one too)."""

    items: tuple[Call | Invalid, ...]
    batch: bool

    @property
    def calls(self) -> list[Call]:
        return [item for item in self.items if isinstance(item, Call)]


def parse(body: bytes | str) -> Parsed | Fault:
    """The requests in ``body``; a :class:`Fault` answers the whole body: not JSON (-32700), too large, an empty
    or too long batch (-32600)."""
    if len(body) > MAX_BODY:
        return Fault(INVALID_REQUEST, f"request too large: more than {MAX_BODY} bytes")
    if too_deep(body.encode("utf-8", "replace") if isinstance(body, str) else body):
        return Fault(INVALID_REQUEST, f"Invalid request: nested more than {MAX_DEPTH} deep")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return Fault(PARSE_ERROR, "Parse error: the body is not JSON")
    if isinstance(document, list):
        if not document:
            return Fault(INVALID_REQUEST, "Invalid request: an empty batch")
        if len(document) > MAX_BATCH:
            return Fault(INVALID_REQUEST, f"Invalid request: a batch of more than {MAX_BATCH} requests")
        return Parsed(tuple(read_call(item) for item in document), batch=True)
    return Parsed((read_call(document),), batch=False)


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when ``body`` opens more than ``limit`` arrays or objects inside each other (strings and their escapes
    skipped); looks only at brackets, quotes and backslashes, so a large body of hex is scanned quickly."""
    depth, in_string, escaped = 0, False, -1
    for found in _NESTING.finditer(body):
        at, char = found.start(), found.group()
        if at == escaped:
            continue
        if in_string:
            if char == b"\\":
                escaped = at + 1
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def _valid_id(value: Any) -> bool:
    return value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def read_call(item: Any) -> Call | Invalid:
    """One request object, checked; an :class:`Invalid` (-32600) says what is wrong with it."""
    if not isinstance(item, dict):
        return Invalid(None, Fault(INVALID_REQUEST, "Invalid request: not an object"))
    request_id = item.get("id")
    if not _valid_id(request_id):
        return Invalid(None, Fault(INVALID_REQUEST, "Invalid request: id must be a string, an integer or null"))
    if item.get("jsonrpc") != "2.0":
        return Invalid(request_id, Fault(INVALID_REQUEST, 'Invalid request: jsonrpc must be "2.0"'))
    method = item.get("method")
    if not isinstance(method, str) or not method or len(method) > MAX_METHOD:
        return Invalid(request_id, Fault(INVALID_REQUEST, "Invalid request: method must be a short string"))
    params = item.get("params", [])
    if not isinstance(params, list | dict):
        return Invalid(request_id, Fault(INVALID_REQUEST, "Invalid request: params must be an array or an object"))
    return Call(request_id, method, params, notification="id" not in item)


def result(call_id: Any, value: Any) -> dict[str, Any]:
    """A successful answer to the request with ``call_id``."""
    return {"jsonrpc": "2.0", "id": call_id, "result": value}


def error(call_id: Any, fault: Fault | dict[str, Any]) -> dict[str, Any]:
    """An error answer; a ``dict`` is an upstream node's error object, passed on as it is (code 3 with its data)."""
    return {"jsonrpc": "2.0", "id": call_id, "error": fault.to_json() if isinstance(fault, Fault) else fault}


def answer_body(parsed: Parsed, answers: list[dict[str, Any] | None]) -> Any:
    """The body to send back: the answers in the requests' order, notifications left out (None: nothing to send)."""
    kept = [a for a in answers if a is not None]
    if parsed.batch:
        return kept or None
    return kept[0] if kept else None
