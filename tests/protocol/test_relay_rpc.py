"""Relay JSON-RPC frames: every method of §7.4 round-trips, bad frames get the right error code.

Each parser must turn bad input into one specific ``WalletsyncError`` subclass whose text
says what was wrong; otherwise a user (or a misbehaving peer or relay) gets a traceback, a
vague message, or silently wrong behaviour.
"""

from __future__ import annotations

import json

import pytest

from tests.protocol.samples import TOPIC, sealed_type0
from walletsync.errors import WalletsyncError
from walletsync.protocol import crypto, relay_rpc

OTHER_TOPIC = "59c972aedb6c86a0b0671be5ab622856e50ac00d51dc80c084e3b2a2f035d434"

T1, T2 = TOPIC, OTHER_TOPIC
MESSAGE = crypto.b64encode(sealed_type0())
METHOD_SAMPLES: list[relay_rpc.Params] = [
    relay_rpc.Subscribe(T1),
    relay_rpc.BatchSubscribe((T1, T2)),
    relay_rpc.Unsubscribe(T1, "8161b8bc0efc51479a7f19f9543bd88cd29bd1099cd7bb59acdd51d961f55e3e"),
    relay_rpc.BatchUnsubscribe((relay_rpc.Unsubscribe(T1, "a"), relay_rpc.Unsubscribe(T2, "b"))),
    relay_rpc.Publish(
        T1,
        MESSAGE,
        300,
        1108,
        True,
        "eyJ.att",
        {
            "correlationId": 1795455773362530,
            "rpcMethods": ["personal_sign"],
            "chainId": "eip155:1",
            "txHashes": [],
            "contractAddresses": [],
        },
    ),
    relay_rpc.BatchPublish((relay_rpc.Publish(T1, MESSAGE, 300), relay_rpc.Publish(T2, MESSAGE, 86400, 1114))),
    relay_rpc.FetchMessages(T1),
    relay_rpc.BatchFetchMessages((T1, T2)),
    relay_rpc.BatchReceive(
        (relay_rpc.Receipt(T1, "15112289b5b794e68d1ea3cd91330db55582a37d0596f7b99ea8becdf9d10496"),)
    ),
    relay_rpc.ProposeSession(T1, MESSAGE, 300, 1795455773286430),
    relay_rpc.ApproveSession(
        T2,
        T1,
        MESSAGE,
        MESSAGE,
        300,
        1795455773286430,
        ("eip155:1",),
        ("personal_sign", "eth_sendTransaction"),
        ("chainChanged", "accountsChanged"),
        {"sessionProperties": {"capabilities": "{}"}},
    ),
    relay_rpc.Subscription(
        "8161b8bc0efc51479a7f19f9543bd88cd29bd1099cd7bb59acdd51d961f55e3e",
        relay_rpc.MessageData(T1, MESSAGE, 1795455773292, 1100),
    ),
]


def frame(method: str, params: object, request_id: object = 5) -> str:
    return json.dumps({"id": request_id, "jsonrpc": "2.0", "method": method, "params": params})


def frame_error(text: str) -> relay_rpc.FrameError:
    with pytest.raises(relay_rpc.FrameError) as info:
        relay_rpc.parse_frame(text)
    return info.value


class TestRelayRpc:
    """The relay and the relay client must understand every frame of §7.4, and answer bad ones correctly."""

    def test_samples_cover_every_method(self) -> None:
        assert {type(p) for p in METHOD_SAMPLES} == set(relay_rpc.METHODS.values())

    @pytest.mark.parametrize("params", METHOD_SAMPLES, ids=[p.METHOD for p in METHOD_SAMPLES])
    @pytest.mark.parametrize("request_id", [1659980684711969, "1795456226161833728"], ids=["number", "string"])
    def test_every_method_round_trips(self, params: relay_rpc.Params, request_id) -> None:
        text = relay_rpc.encode_request(request_id, params)
        parsed = relay_rpc.parse_frame(text)
        assert parsed == relay_rpc.RelayRequest(request_id, params)
        assert parsed.method == params.METHOD
        assert json.loads(text)["id"] == request_id  # the id is echoed verbatim, as JS matches by String(id)

    def test_publish_wire_form(self) -> None:
        """irn_publish params are exactly what the JS SDK sends (TVF flattened after the known keys)."""
        text = relay_rpc.encode_request("1795456226161833728", METHOD_SAMPLES[4])
        assert json.loads(text)["params"] == {
            "topic": T1,
            "message": MESSAGE,
            "ttl": 300,
            "prompt": True,
            "tag": 1108,
            "attestation": "eyJ.att",
            "correlationId": 1795455773362530,
            "rpcMethods": ["personal_sign"],
            "chainId": "eip155:1",
            "txHashes": [],
            "contractAddresses": [],
        }

    def test_subscribe_vector_from_rust_tests(self) -> None:
        parsed = relay_rpc.parse_frame(frame("irn_subscribe", {"topic": T1}, 1659980684711969))
        assert parsed == relay_rpc.RelayRequest(1659980684711969, relay_rpc.Subscribe(T1))

    def test_iridium_alias(self) -> None:
        parsed = relay_rpc.parse_frame(frame("iridium_subscribe", {"topic": T1}))
        assert parsed == relay_rpc.RelayRequest(5, relay_rpc.Subscribe(T1))

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            (1659980684711969, 1659980684711969),
            ("1795456226161833728", 1795456226161833728),
            ("1795455773344000000n", 1795455773344000000),
            (0, 0),
        ],
    )
    def test_normalize_id(self, raw, expected: int) -> None:
        assert relay_rpc.normalize_id(raw) == expected

    @pytest.mark.parametrize("raw", [-1, True, 1.5, "", "12a", "n", "0x10", " 1", "1" * 21, None, ["1"]])
    def test_normalize_id_rejects(self, raw) -> None:
        with pytest.raises(relay_rpc.FrameError, match="id must be a non-negative integer or numeric string") as info:
            relay_rpc.normalize_id(raw)
        assert info.value.rpc_code == -32600

    def test_bigint_ack_parses_and_keeps_id(self) -> None:
        """JS acks a ≥2^53 push id as the string "<digits>n"; the relay must still match it."""
        parsed = relay_rpc.parse_frame('{"id":"1795455773344000000n","jsonrpc":"2.0","result":true}')
        assert parsed == relay_rpc.RelayResult("1795455773344000000n", True)
        assert relay_rpc.normalize_id(parsed.id) == 1795455773344000000

    def test_result_frame(self) -> None:
        text = relay_rpc.encode_result(
            "1795455773290065920", "8161b8bc0efc51479a7f19f9543bd88cd29bd1099cd7bb59acdd51d961f55e3e"
        )
        assert (
            text
            == '{"id":"1795455773290065920","jsonrpc":"2.0","result":"8161b8bc0efc51479a7f19f9543bd88cd29bd1099cd7bb59acdd51d961f55e3e"}'
        )
        assert relay_rpc.parse_frame(text) == relay_rpc.RelayResult(
            "1795455773290065920", "8161b8bc0efc51479a7f19f9543bd88cd29bd1099cd7bb59acdd51d961f55e3e"
        )

    def test_error_frame(self) -> None:
        text = relay_rpc.encode_error(7, -32000, "topic invalid", "InvalidTopic")
        assert (
            text == '{"id":7,"jsonrpc":"2.0","error":{"code":-32000,"message":"topic invalid","data":"InvalidTopic"}}'
        )
        assert relay_rpc.parse_frame(text) == relay_rpc.RelayError(7, -32000, "topic invalid", "InvalidTopic")

    def test_error_frame_without_integer_code(self) -> None:
        error = frame_error('{"id":7,"jsonrpc":"2.0","error":{"code":"x"}}')
        assert (error.rpc_code, error.request_id) == (-32600, 7)
        assert "integer code" in str(error)

    def test_unknown_method_echoes_id(self) -> None:
        error = frame_error(frame("irn_teleport", {}, "1795456226161833728"))
        assert (error.rpc_code, error.request_id) == (-32601, "1795456226161833728")
        assert "'irn_teleport' not found" in str(error)

    def test_not_json_is_parse_error(self) -> None:
        error = frame_error("{nope")
        assert (error.rpc_code, error.request_id) == (-32700, None)
        assert "not JSON" in str(error)

    @pytest.mark.parametrize("params", [[], "topic", None, 5], ids=["list", "str", "null", "int"])
    def test_params_not_object(self, params) -> None:
        error = frame_error(frame("irn_subscribe", params, 42))
        assert (error.rpc_code, error.request_id) == (-32602, 42)
        assert "irn_subscribe params must be an object" in str(error)

    @pytest.mark.parametrize("topic", ["abc", T1[:-1], T1 + "0", "g" * 64, None, 5])
    def test_bad_topic(self, topic) -> None:
        error = frame_error(frame("irn_subscribe", {"topic": topic}, "1795456226161833728"))
        assert (error.rpc_code, error.request_id) == (-32602, "1795456226161833728")
        assert "irn_subscribe: topic must be 64 hex chars" in str(error)

    @pytest.mark.parametrize(
        ("method", "params", "message"),
        [
            ("irn_publish", {"topic": T1, "message": "", "ttl": 300}, "message must be a non-empty string"),
            ("irn_publish", {"topic": T1, "message": "x", "ttl": "300"}, "ttl must be an integer"),
            ("irn_publish", {"topic": T1, "message": "x", "ttl": True}, "ttl must be an integer"),
            ("irn_publish", {"topic": T1, "message": "x", "ttl": 300, "prompt": 1}, "prompt must be a boolean"),
            ("irn_batchSubscribe", {"topics": []}, "topics must be a non-empty list"),
            ("irn_batchSubscribe", {"topics": T1}, "topics must be a list"),
            ("irn_batchPublish", {"messages": []}, "messages must be a non-empty list"),
            ("irn_batchUnsubscribe", {"subscriptions": [T1]}, "subscriptions must be objects"),
            ("irn_batchReceive", {"receipts": [{"topic": T1}]}, "messageId must be a non-empty string"),
            ("irn_subscription", {"id": "x", "data": None}, "data must be an object"),
            (
                "irn_subscription",
                {"id": "x", "data": {"topic": T1, "message": "m", "publishedAt": "now"}},
                "publishedAt must be an integer",
            ),
            (
                "wc_approveSession",
                {
                    "sessionTopic": T2,
                    "pairingTopic": T1,
                    "sessionProposalResponse": "a",
                    "sessionSettlementRequest": "b",
                    "approvedChains": [1],
                },
                "approvedChains must be a list of strings",
            ),
        ],
    )
    def test_bad_params(self, method: str, params: dict, message: str) -> None:
        error = frame_error(frame(method, params, 9))
        assert (error.rpc_code, error.request_id) == (-32602, 9)
        assert str(error).startswith(f"{method}: ")
        assert message in str(error)

    @pytest.mark.parametrize("method,key", [("irn_batchSubscribe", "topics"), ("irn_batchFetchMessages", "topics")])
    def test_batch_over_500(self, method: str, key: str) -> None:
        error = frame_error(frame(method, {key: [T1] * 501}, 11))
        assert (error.rpc_code, error.request_id) == (-32602, 11)
        assert "501 entries; at most 500 allowed" in str(error)

    def test_batch_of_500_accepted(self) -> None:
        parsed = relay_rpc.parse_frame(frame("irn_batchSubscribe", {"topics": [T1] * 500}))
        assert len(parsed.params.topics) == 500

    @pytest.mark.parametrize(
        ("text", "code", "request_id", "message"),
        [
            ("[1]", -32600, None, "must be a JSON object"),
            ('{"id":1,"method":"irn_subscribe","params":{}}', -32600, 1, "jsonrpc '2.0'"),
            ('{"jsonrpc":"2.0","method":"irn_subscribe","params":{}}', -32600, None, "no usable id"),
            ('{"id":true,"jsonrpc":"2.0","result":true}', -32600, None, "no usable id"),
            ('{"id":-3,"jsonrpc":"2.0","result":true}', -32600, -3, "non-negative"),
            ('{"id":"abc","jsonrpc":"2.0","result":true}', -32600, "abc", "numeric string"),
            ('{"id":1,"jsonrpc":"2.0","method":5}', -32600, 1, "method must be a string"),
            ('{"id":1,"jsonrpc":"2.0"}', -32600, 1, "neither method, result nor error"),
        ],
    )
    def test_invalid_request(self, text: str, code: int, request_id, message: str) -> None:
        error = frame_error(text)
        assert (error.rpc_code, error.request_id) == (code, request_id)
        assert message in str(error)

    def test_overflowing_float_in_publish_is_refused(self) -> None:
        """BUG (same root cause as jsonrpc.loads): a relay accepts a publish whose TVF extra is 1e999,
        then cannot re-encode the frame it accepted (raw ValueError from json.dumps)."""
        text = (
            '{"id":1,"jsonrpc":"2.0","method":"irn_publish","params":{"topic":"%s","message":"m","ttl":300,"chainId":1e999}}'
            % T1
        )
        with pytest.raises(relay_rpc.FrameError) as info:
            parsed = relay_rpc.parse_frame(text)
            relay_rpc.encode_request(parsed.id, parsed.params)
        assert info.value.rpc_code in (relay_rpc.PARSE_ERROR, relay_rpc.INVALID_PARAMS)

    def test_frame_errors_are_walletsync_errors(self) -> None:
        assert isinstance(frame_error("{"), WalletsyncError)

    def test_push_id_below_2_pow_53_in_2026(self) -> None:
        """Push ids ≥ 2^53 come back from JS as "<digits>n" strings; ours must stay below."""
        now_ms = 1_798_761_599_999  # 2026-12-31T23:59:59.999Z
        ids = [relay_rpc.push_id(now_ms, counter) for counter in range(256)]
        assert max(ids) < 2**53
        assert len(set(ids)) == 256
        assert ids == sorted(ids)
        assert relay_rpc.push_id(now_ms + 1, 0) > relay_rpc.push_id(now_ms, 255)
