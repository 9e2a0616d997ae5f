"""Client-to-client JSON-RPC inside envelopes (reference §4.1, §4.4).

Messages serialize as the JS SDK does: compact JSON, keys in the order
``id, jsonrpc, method, params`` / ``id, jsonrpc, result`` / ``id, jsonrpc,
error{message, code}``. Parsing is strict: a peer's message either becomes a
:class:`Request`, :class:`Result` or :class:`ErrorResponse`, or an
:class:`InvalidMessage` that says what was wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Union

from walletsync.protocol.errors import InvalidMessage

MAX_SAFE_INTEGER = 2**53 - 1
MAX_MESSAGE_BYTES = 512 * 1024
MAX_DEPTH = 128
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # strings are skipped whole


def payload_id(now: float, entropy: int) -> int:
    """``Date.now()*1000 + rand(1000)``: a 16-digit id that also encodes the send time (ms)."""
    return int(now * 1000) * 1000 + entropy % 1000


def relay_request_id(now: float, entropy: int) -> str:
    """The 19-digit relay request id, sent as a JSON string (``Date.now()*1e6 + rand(1e6)``)."""
    return str(int(now * 1000) * 1_000_000 + entropy % 1_000_000)


def id_timestamp_ms(message_id: int) -> int:
    """The ms send time inside a payload id; how the SDK drops stale updates and events."""
    return message_id // 1000


# --- SDK error table (UT src/errors.ts) ---------------------------------------------

SDK_ERRORS: dict[str, tuple[int, str]] = {
    "NOT_INITIALIZED": (1, "Not initialized."),
    "NO_MATCHING_KEY": (2, "No matching key."),
    "RESTORE_WILL_OVERRIDE": (3, "Restore will override."),
    "RESUBSCRIBED": (4, "Resubscribed."),
    "MISSING_OR_INVALID": (5, "Missing or invalid."),
    "EXPIRED": (6, "Expired."),
    "UNKNOWN_TYPE": (7, "Unknown type."),
    "MISMATCHED_TOPIC": (8, "Mismatched topic."),
    "NON_CONFORMING_NAMESPACES": (9, "Non conforming namespaces."),
    "INVALID_METHOD": (1001, "Invalid method."),
    "INVALID_EVENT": (1002, "Invalid event."),
    "INVALID_UPDATE_REQUEST": (1003, "Invalid update request."),
    "INVALID_EXTEND_REQUEST": (1004, "Invalid extend request."),
    "INVALID_SESSION_SETTLE_REQUEST": (1005, "Invalid session settle request."),
    "UNAUTHORIZED_METHOD": (3001, "Unauthorized method."),
    "UNAUTHORIZED_EVENT": (3002, "Unauthorized event."),
    "UNAUTHORIZED_UPDATE_REQUEST": (3003, "Unauthorized update request."),
    "UNAUTHORIZED_EXTEND_REQUEST": (3004, "Unauthorized extend request."),
    "USER_REJECTED": (5000, "User rejected."),
    "USER_REJECTED_CHAINS": (5001, "User rejected chains."),
    "USER_REJECTED_METHODS": (5002, "User rejected methods."),
    "USER_REJECTED_EVENTS": (5003, "User rejected events."),
    "UNSUPPORTED_CHAINS": (5100, "Unsupported chains."),
    "UNSUPPORTED_METHODS": (5101, "Unsupported methods."),
    "UNSUPPORTED_EVENTS": (5102, "Unsupported events."),
    "UNSUPPORTED_ACCOUNTS": (5103, "Unsupported accounts."),
    "UNSUPPORTED_NAMESPACE_KEY": (5104, "Unsupported namespace key."),
    "USER_DISCONNECTED": (6000, "User disconnected."),
    "SESSION_SETTLEMENT_FAILED": (7000, "Session settlement failed."),
    "WC_METHOD_UNSUPPORTED": (10001, "Unsupported wc_ method."),
}


@dataclass(frozen=True)
class RpcError:
    """A JSON-RPC error object ``{message, code}``."""

    code: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code}


def sdk_error(key: str, context: str | None = None) -> RpcError:
    """``getSdkError(key, ctx)``: the table's message, with ``" " + ctx`` appended when given."""
    code, message = SDK_ERRORS[key]
    return RpcError(code, f"{message} {context}" if context else message)


# --- messages -----------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    id: int
    method: str
    params: Any

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "jsonrpc": "2.0", "method": self.method, "params": self.params}


@dataclass(frozen=True)
class Result:
    id: int
    result: Any

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "jsonrpc": "2.0", "result": self.result}


@dataclass(frozen=True)
class ErrorResponse:
    id: int
    error: RpcError

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "jsonrpc": "2.0", "error": self.error.to_json()}


Message = Union[Request, Result, ErrorResponse]


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON like ``JSON.stringify`` (lone surrogates escaped, as JS does)."""
    try:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def encode(message: Message) -> bytes:
    return dumps(message.to_json())


def _reject_constant(name: str) -> Any:
    raise InvalidMessage(f"JSON constant {name} is not allowed", by="peer")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InvalidMessage(f"number {text[:24]} is out of range", by="peer")
    return value


def _too_deep(text: str) -> bool:
    """Nesting beyond :data:`MAX_DEPTH`? Checked before parsing, because some libraries (py_ecc,
    imported by eth-account) raise the recursion limit so far that a deep document would crash
    the C parser instead of raising RecursionError."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    for token in _STRUCTURE.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def loads(data: bytes | str) -> Any:
    """Parse peer JSON; NaN/Infinity, bad UTF-8, excessive size or depth are :class:`InvalidMessage`."""
    size = len(data) if isinstance(data, (bytes, bytearray)) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"message is {size} bytes; at most {MAX_MESSAGE_BYTES} allowed", by="peer")
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        if _too_deep(text):
            raise InvalidMessage(f"message nests too deeply (more than {MAX_DEPTH} levels)", by="peer")
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise InvalidMessage("message is not UTF-8", by="peer") from None
    except RecursionError:
        raise InvalidMessage("message nests too deeply", by="peer") from None
    except ValueError as exc:
        raise InvalidMessage(f"message is not JSON: {exc}", by="peer") from None


def _valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SAFE_INTEGER


def parse_message(data: bytes | str) -> Message:
    """Decrypted envelope plaintext to a typed message, validated like the SDK's ``isJsonRpc*``."""
    obj = loads(data)
    if not isinstance(obj, dict):
        raise InvalidMessage("JSON-RPC message must be an object", by="peer")
    if obj.get("jsonrpc") != "2.0":
        raise InvalidMessage("JSON-RPC message must have jsonrpc '2.0'", by="peer")
    if not _valid_id(obj.get("id")):
        raise InvalidMessage(
            f"JSON-RPC id must be a non-negative integer below 2^53, got {obj.get('id')!r:.40}", by="peer"
        )
    message_id = obj["id"]
    if "method" in obj:
        method = obj["method"]
        if not isinstance(method, str) or not method:
            raise InvalidMessage("JSON-RPC method must be a non-empty string", by="peer")
        return Request(message_id, method, obj.get("params"))
    if "error" in obj:
        error = obj["error"]
        if not isinstance(error, dict) or not isinstance(error.get("code"), int) or isinstance(error.get("code"), bool):
            raise InvalidMessage("JSON-RPC error must be an object with an integer code", by="peer")
        message = error.get("message", "")
        if not isinstance(message, str):
            raise InvalidMessage("JSON-RPC error message must be a string", by="peer")
        return ErrorResponse(message_id, RpcError(error["code"], message))
    if "result" in obj:
        return Result(message_id, obj["result"])
    raise InvalidMessage("JSON-RPC message has neither method, result nor error", by="peer")
