"""The relay's hot path through the wire format: publishes, acks and pushes without the generic parser.

:func:`walletsync.protocol.relay_rpc.parse_frame` builds typed objects and checks
every method; at relay message rates that costs more than the relay's own work.
:func:`quick_frame` recognises the two frames that make up nearly all traffic —
an ``irn_publish`` request and a push ack (``result``) — and returns their fields
only when ``parse_frame`` would accept the frame with exactly those values. For
anything else (other methods, errors, odd ids, floats, NaN, deep nesting, big
frames, any doubt) it returns None and the caller uses ``parse_frame``, which then
gives the canonical answer or error. Likewise :func:`push_frame` and
:func:`result_true` produce byte for byte what ``encode_request`` /
``encode_result`` produce (tests/relay/test_frames.py checks both claims).
"""

from __future__ import annotations

import json
import re
from typing import Any

from walletsync.protocol.jsonrpc import MAX_DEPTH, MAX_MESSAGE_BYTES, dumps
from walletsync.relay.mailbox import StoredMessage

PUBLISH = 1
ACK = 2

_QUICK_MAX_CHARS = (
    MAX_MESSAGE_BYTES // 4
)  # ≤ 4 UTF-8 bytes a char: such a frame is surely within the parser's size limit
_TOPIC = re.compile(r"[0-9a-fA-F]{64}")
_ID = re.compile(r"[0-9]{1,20}n?")
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def _not_here(_: str) -> Any:
    raise ValueError("left to the full parser")


# Floats and NaN/Infinity are left to parse_frame (which checks them); the relay's frames have none.
_decode = json.JSONDecoder(parse_constant=_not_here, parse_float=_not_here).decode


def quick_frame(raw: str) -> tuple[Any, ...] | None:
    """``(PUBLISH, id, topic, message, ttl, tag, prompt, attestation)``, ``(ACK, push_id)`` or None (use ``parse_frame``)."""
    if len(raw) > _QUICK_MAX_CHARS or raw.count("{") + raw.count("[") > MAX_DEPTH:
        return None
    try:
        obj = _decode(raw)
    except (ValueError, RecursionError):
        return None
    if type(obj) is not dict or obj.get("jsonrpc") != "2.0":
        return None
    rid = obj.get("id")
    if type(rid) is int:
        if rid < 0:
            return None
    elif type(rid) is not str or _ID.fullmatch(rid) is None:
        return None
    if "method" in obj:
        if obj["method"] != "irn_publish":
            return None
        params = obj.get("params")
        if type(params) is not dict:
            return None
        topic, message, ttl = params.get("topic"), params.get("message"), params.get("ttl")
        tag, prompt, attestation = params.get("tag", 0), params.get("prompt", False), params.get("attestation")
        if (
            type(topic) is not str
            or _TOPIC.fullmatch(topic) is None
            or type(message) is not str
            or not message
            or type(ttl) is not int
            or type(tag) is not int
            or type(prompt) is not bool
            or (attestation is not None and type(attestation) is not str)
        ):
            return None
        return (PUBLISH, rid, topic, message, ttl, tag, prompt, attestation)
    if "error" in obj or "result" not in obj:
        return None
    return (ACK, int(rid.rstrip("n")) if isinstance(rid, str) else rid)


def result_true(request_id: int | str) -> str:
    """``encode_result(request_id, True)`` for an id :func:`quick_frame` accepted (an int, or digits with an optional ``n``)."""
    rid = str(request_id) if type(request_id) is int else f'"{request_id}"'
    return '{"id":' + rid + ',"jsonrpc":"2.0","result":true}'


def _plain(text: str) -> bool:
    """JSON-encodes as itself in quotes (ASCII, nothing to escape)?"""
    return text.isascii() and _NEEDS_ESCAPE.search(text) is None


def data_json(message: StoredMessage) -> str:
    """The push's ``data`` object (``MessageData.to_json()``) as compact JSON; built once per message, shared by every push of it."""
    att = message.attestation
    if (
        _plain(message.message)
        and _plain(message.topic)
        and (att is None or _plain(att))
        and type(message.published_at) is int
        and type(message.tag) is int
    ):
        out = f'{{"topic":"{message.topic}","message":"{message.message}","publishedAt":{message.published_at},"tag":{message.tag}'
        return out + ("}" if att is None else f',"attestation":"{att}"}}')
    return dumps(message.to_data().to_json()).decode("utf-8")


def push_frame(push_id: int, subscription: str, data: str) -> str:
    """``encode_request(push_id, Subscription(subscription, message.to_data()))`` with ``data = data_json(message)``."""
    return f'{{"id":{push_id},"jsonrpc":"2.0","method":"irn_subscription","params":{{"id":"{subscription}","data":{data}}}}}'
