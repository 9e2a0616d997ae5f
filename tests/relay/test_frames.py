"""The relay's hot-path frame code agrees exactly with the generic parser and encoders.

``quick_frame`` may decline any frame (the relay then uses ``parse_frame``), but what it
accepts must be what ``parse_frame`` accepts, with the same values; ``push_frame`` /
``result_true`` must produce the very bytes ``encode_request`` / ``encode_result`` do.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletsync.protocol.relay_rpc import (
    FrameError,
    Publish,
    RelayRequest,
    RelayResult,
    Subscription,
    encode_request,
    encode_result,
    normalize_id,
    parse_frame,
)
from walletsync.relay.frames import ACK, PUBLISH, data_json, push_frame, quick_frame, result_true
from walletsync.relay.mailbox import StoredMessage

TOPIC = "ab" * 32


def agrees(raw: str) -> tuple[Any, ...] | None:
    """quick_frame's answer, after checking it against parse_frame's."""
    quick = quick_frame(raw)
    if quick is None:
        return None
    frame = parse_frame(raw)  # must not raise: quick_frame accepted it
    if quick[0] == PUBLISH:
        assert isinstance(frame, RelayRequest) and isinstance(frame.params, Publish)
        p = frame.params
        assert quick[1:] == (frame.id, p.topic, p.message, p.ttl, p.tag, p.prompt, p.attestation)
        assert type(quick[1]) is type(frame.id)
    else:
        assert quick[0] == ACK and isinstance(frame, RelayResult)
        assert quick[1] == normalize_id(frame.id)
    return quick


def publish(**params: Any) -> dict[str, Any]:
    return {
        "id": "1795456226161833728",
        "jsonrpc": "2.0",
        "method": "irn_publish",
        "params": {"topic": TOPIC, "message": "AAAA", "ttl": 300, "tag": 1108, "prompt": True, **params},
    }


@pytest.mark.parametrize(
    "frame",
    [
        publish(),
        publish(attestation="eyJ.att.sig"),
        publish(attestation=None),
        publish(attestation=""),
        publish(correlationId=1795456226878205, rpcMethods=["personal_sign"]),
        {**publish(), "id": 1795456226161833},
        {**publish(), "id": "17954562261618337n"},
        {
            "id": 123,
            "jsonrpc": "2.0",
            "method": "irn_publish",
            "params": {"topic": TOPIC.upper(), "message": 'é"\\\n', "ttl": 5},
        },
        {"id": 17954562261618337, "jsonrpc": "2.0", "result": True},
        {"id": "17954562261618337", "jsonrpc": "2.0", "result": True},
        {"id": "17954562261618337n", "jsonrpc": "2.0", "result": False},
        {"id": 0, "jsonrpc": "2.0", "result": None},
    ],
)
def test_the_common_frames_take_the_quick_path(frame):
    """Publishes and push acks as the JS SDK sends them are recognised (and mean what parse_frame says)."""
    assert agrees(json.dumps(frame)) is not None


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({**publish(), "method": "iridium_publish"}),
        json.dumps({**publish(), "jsonrpc": "1.0"}),
        json.dumps({**publish(), "id": True}),
        json.dumps({**publish(), "id": -1}),
        json.dumps({**publish(), "id": "12a"}),
        json.dumps({**publish(), "id": "1" * 21}),
        json.dumps({**publish(), "id": None}),
        json.dumps(publish(topic="ab" * 31)),
        json.dumps(publish(topic="zz" * 32)),
        json.dumps(publish(topic=TOPIC + "\n")),
        json.dumps(publish(message="")),
        json.dumps(publish(message=5)),
        json.dumps(publish(ttl=True)),
        json.dumps(publish(ttl=30.0)),
        json.dumps(publish(ttl=None)),
        json.dumps(publish(tag=None)),
        json.dumps(publish(tag=False)),
        json.dumps(publish(prompt=1)),
        json.dumps(publish(attestation=5)),
        json.dumps({"id": 1, "jsonrpc": "2.0", "method": "irn_publish", "params": []}),
        json.dumps({"id": 1, "jsonrpc": "2.0", "method": "irn_subscribe", "params": {"topic": TOPIC}}),
        json.dumps({"id": 1, "jsonrpc": "2.0", "error": {"code": -32000, "message": "busy"}}),
        json.dumps({"id": 1, "jsonrpc": "2.0", "error": {"code": 1}, "result": True}),
        json.dumps({"id": 1, "jsonrpc": "2.0"}),
        json.dumps([{"id": 1, "jsonrpc": "2.0", "result": True}]),
        '{"id": 1, "jsonrpc": "2.0", "result": NaN}',
        '{"id": 1, "jsonrpc": "2.0", "result": 1.5}',
        '{"id": 1, "jsonrpc": "2.0", "result": 1e999}',
        '{"id": 1, "jsonrpc": "2.0", "result": true',
        '{"id": 1, "jsonrpc": "2.0", "result": ' + "[" * 200 + "]" * 200 + "}",
        json.dumps(publish(message="A" * 200_000)),
    ],
)
def test_anything_unusual_is_left_to_the_full_parser(raw):
    """Odd ids, wrong types, other methods, errors, floats, NaN, deep nesting, huge frames: quick_frame declines."""
    assert quick_frame(raw) is None


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "",
            "AAAA",
            TOPIC,
            TOPIC.upper(),
            "2.0",
            "irn_publish",
            "123",
            "123n",
            "-1",
            "ab" * 31,
            "é",
            "\ud800",
            'x"y\\z\n',
        ]
    ),
    st.text(max_size=12),
)
FRAME_KEYS = st.sampled_from(
    [
        "id",
        "jsonrpc",
        "method",
        "params",
        "result",
        "error",
        "topic",
        "message",
        "ttl",
        "tag",
        "prompt",
        "attestation",
        "extra",
    ]
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FRAME_KEYS, inner, max_size=6),
    max_leaves=20,
)


def _mutated_frames() -> st.SearchStrategy[dict[str, Any]]:
    base = st.sampled_from([publish(), publish(attestation="eyJ"), {"id": 42, "jsonrpc": "2.0", "result": True}])
    field_path = st.sampled_from(
        [
            ("id",),
            ("jsonrpc",),
            ("method",),
            ("params",),
            ("result",),
            ("error",),
            ("params", "topic"),
            ("params", "message"),
            ("params", "ttl"),
            ("params", "tag"),
            ("params", "prompt"),
            ("params", "attestation"),
        ]
    )

    @st.composite
    def mutate(draw: Any) -> dict[str, Any]:
        frame = json.loads(json.dumps(draw(base)))
        for _ in range(draw(st.integers(0, 3))):
            path, value, drop = draw(field_path), draw(JSON_VALUES), draw(st.booleans())
            target = frame
            for key in path[:-1]:
                if not isinstance(target.get(key), dict):
                    target[key] = {}
                target = target[key]
            if drop:
                target.pop(path[-1], None)
            else:
                target[path[-1]] = value
        return frame

    return mutate()


@settings(max_examples=400, deadline=None)
@given(_mutated_frames())
def test_quick_frame_never_disagrees_with_parse_frame(frame):
    """For any frame near a publish or an ack: declined, or parsed exactly as parse_frame parses it."""
    try:
        raw = json.dumps(frame, allow_nan=True)
    except (ValueError, UnicodeEncodeError):
        return
    quick = quick_frame(raw)
    if quick is not None:
        agrees(raw)
    else:
        try:
            parse_frame(raw)
        except FrameError:
            pass  # declined and invalid: fine; declined and valid: fine too (slow path)


MESSAGES = [
    StoredMessage(TOPIC, "AAAA+/==", "did:key:alice", 1_800_000_000_123, 1_800_000_300_123, 1108),
    StoredMessage(TOPIC, "x" * 400, "did:key:alice", 1, 2, 0, True, "eyJhbGciOi.att.sig"),
    StoredMessage(TOPIC, 'quote " backslash \\ newline \n tab \t nul \x00 del \x7f', "p", 5, 6, 1100, False, 'a"b'),
    StoredMessage(TOPIC, "unicode é 漢字 🙂", "p", 5, 6, 1101, False, "é"),
    StoredMessage(TOPIC, "lone surrogate \ud800 here", "p", 5, 6, 1102),
    StoredMessage(TOPIC, "ok", "p", 5, 6, 1103, False, "lone \udfff"),
    StoredMessage(TOPIC, "ok", "p", 5, 6, 1104, False, ""),
]


@pytest.mark.parametrize("message", MESSAGES)
def test_push_frame_is_what_encode_request_builds(message):
    """Every push is byte for byte the frame the generic encoder makes, whatever the message holds."""
    sub = "cd" * 32
    for push_id in (1, 460_800_000_000_000_000 >> 8, 2**53 - 1):
        assert push_frame(push_id, sub, data_json(message)) == encode_request(
            push_id, Subscription(sub, message.to_data())
        )


@pytest.mark.parametrize("request_id", [0, 7, 1795456226161833, 2**64, "1795456226161833728", "17954562261618337n"])
def test_result_true_is_what_encode_result_builds(request_id):
    assert result_true(request_id) == encode_result(request_id, True)
