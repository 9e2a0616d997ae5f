"""Bad client-to-client JSON-RPC: the right error class, and a message that says what was wrong.

Each parser must turn bad input into one specific ``WalletsyncError`` subclass whose text
says what was wrong; otherwise a user (or a misbehaving peer or relay) gets a traceback, a
vague message, or silently wrong behaviour.
"""

from __future__ import annotations

import pytest

from walletsync.protocol import jsonrpc
from walletsync.protocol.errors import (
    InvalidMessage,
)


class TestParseMessage:
    """A peer's malformed JSON-RPC must be an InvalidMessage saying what is wrong."""

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ("not json", "message is not JSON"),
            (b"\xff\xfe{}", "not UTF-8"),
            ('{"id":1,"jsonrpc":"2.0","result":NaN}', "JSON constant NaN is not allowed"),
            ('{"id":1,"jsonrpc":"2.0","result":-Infinity}', "JSON constant -Infinity is not allowed"),
            ("[]", "must be an object"),
            ('"hello"', "must be an object"),
            ('{"id":1,"result":true}', "must have jsonrpc '2.0'"),
            ('{"id":1,"jsonrpc":"1.0","result":true}', "must have jsonrpc '2.0'"),
            ('{"id":"1","jsonrpc":"2.0","result":true}', "id must be a non-negative integer below 2\\^53, got '1'"),
            ('{"id":9007199254740992,"jsonrpc":"2.0","result":true}', "got 9007199254740992"),
            ('{"id":true,"jsonrpc":"2.0","result":true}', "got True"),
            ('{"id":-1,"jsonrpc":"2.0","result":true}', "got -1"),
            ('{"id":1.0,"jsonrpc":"2.0","result":true}', "got 1.0"),
            ('{"jsonrpc":"2.0","result":true}', "got None"),
            (
                '{"id":1,"jsonrpc":"2.0","error":{"code":"5000","message":"x"}}',
                "error must be an object with an integer code",
            ),
            ('{"id":1,"jsonrpc":"2.0","error":{"message":"x"}}', "error must be an object with an integer code"),
            (
                '{"id":1,"jsonrpc":"2.0","error":{"code":true,"message":"x"}}',
                "error must be an object with an integer code",
            ),
            ('{"id":1,"jsonrpc":"2.0","error":"boom"}', "error must be an object with an integer code"),
            ('{"id":1,"jsonrpc":"2.0","error":{"code":1,"message":5}}', "error message must be a string"),
            ('{"id":1,"jsonrpc":"2.0","method":""}', "method must be a non-empty string"),
            ('{"id":1,"jsonrpc":"2.0","method":7}', "method must be a non-empty string"),
            ('{"id":1,"jsonrpc":"2.0"}', "neither method, result nor error"),
        ],
    )
    def test_bad_message(self, data, message: str) -> None:
        with pytest.raises(InvalidMessage, match=message):
            jsonrpc.parse_message(data)

    def test_largest_safe_id_accepted(self) -> None:
        assert jsonrpc.parse_message('{"id":9007199254740991,"jsonrpc":"2.0","result":1}') == jsonrpc.Result(
            2**53 - 1, 1
        )

    def test_message_over_512_kib(self) -> None:
        data = b'{"id":1,"jsonrpc":"2.0","result":"' + b"a" * (512 * 1024) + b'"}'
        with pytest.raises(InvalidMessage, match=f"message is {len(data)} bytes; at most 524288 allowed"):
            jsonrpc.parse_message(data)

    def test_deep_nesting_is_invalid_message_not_recursion_error(self) -> None:
        data = '{"id":1,"jsonrpc":"2.0","result":' + "[" * 100_000 + "]" * 100_000 + "}"
        with pytest.raises(InvalidMessage, match="nests too deeply"):
            jsonrpc.parse_message(data)

    def test_huge_integer_is_invalid_message(self) -> None:
        """Python refuses ints over 4300 digits with ValueError; that must not leak."""
        with pytest.raises(InvalidMessage, match="not JSON"):
            jsonrpc.parse_message('{"id":1,"jsonrpc":"2.0","result":' + "9" * 5000 + "}")

    @pytest.mark.parametrize("number", ["1e400", "-1e400", "1E999"])
    def test_overflowing_float_is_refused(self, number: str) -> None:
        """BUG: ``json.loads`` turns 1e400 into float('inf'), bypassing the NaN/Infinity check in
        jsonrpc.loads; the accepted message then cannot be encoded again (raw ValueError)."""
        data = '{"id":1,"jsonrpc":"2.0","result":%s}' % number
        with pytest.raises(InvalidMessage):
            parsed = jsonrpc.parse_message(data)
            jsonrpc.encode(parsed)  # what a caller does to store, log or answer it

    def test_error_response_parsed(self) -> None:
        parsed = jsonrpc.parse_message('{"id":3,"jsonrpc":"2.0","error":{"message":"User rejected.","code":5000}}')
        assert parsed == jsonrpc.ErrorResponse(3, jsonrpc.RpcError(5000, "User rejected."))

    def test_sdk_error_appends_context(self) -> None:
        error = jsonrpc.sdk_error("USER_REJECTED", "ctx")
        assert (error.code, error.message) == (5000, "User rejected. ctx")
        assert error.to_json() == {"message": "User rejected. ctx", "code": 5000}

    def test_sdk_error_without_context(self) -> None:
        assert jsonrpc.sdk_error("USER_DISCONNECTED") == jsonrpc.RpcError(6000, "User disconnected.")

    def test_error_response_wire_form(self) -> None:
        """Error replies serialize as the SDK's ``{"message","code"}`` order (CAP reject run)."""
        reply = jsonrpc.ErrorResponse(1795455773286430, jsonrpc.sdk_error("USER_REJECTED"))
        assert (
            jsonrpc.encode(reply)
            == b'{"id":1795455773286430,"jsonrpc":"2.0","error":{"message":"User rejected.","code":5000}}'
        )


def test_deep_nesting_is_refused_even_after_eth_account_raised_the_recursion_limit():
    """py_ecc (via eth-account) raises the recursion limit; a hostile deep document must not crash the process."""
    import subprocess
    import sys

    script = (
        "import eth_account, sys\n"
        "assert sys.getrecursionlimit() > 10000, sys.getrecursionlimit()\n"
        "from walletsync.protocol.jsonrpc import parse_message\n"
        "from walletsync.protocol.errors import InvalidMessage\n"
        "try:\n"
        "    parse_message('{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":' + '[' * 200000 + ']' * 200000 + '}')\n"
        "except InvalidMessage as exc:\n"
        "    print('refused:', exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-500:]
    assert "refused: message nests too deeply" in out.stdout
