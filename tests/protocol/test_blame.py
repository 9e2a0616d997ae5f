"""Who broke the rules: a raise that forgets ``by=`` blames our caller, never the phone.

Only what came in (an envelope, a JSON-RPC message, a URI, a relay frame or JWT) is the
peer's fault; the engine's ``receive`` turns whatever a delivery raised into a peer error.
"""

from __future__ import annotations

import pytest

from walletsync.protocol import crypto, jsonrpc, relay_auth, relay_rpc, uri
from walletsync.protocol.errors import InvalidMessage, ProtocolError


def test_blame_defaults_to_the_caller() -> None:
    assert ProtocolError("x").by == "caller"
    assert InvalidMessage("x", sdk_code=5).by == "caller"


@pytest.mark.parametrize(
    "parse",
    [
        lambda: uri.parse_uri("wc:nope"),
        lambda: jsonrpc.parse_message(b"[]"),
        lambda: crypto.open_b64(bytes(32), "@@@@"),
        lambda: crypto.decode_envelope(b""),
        lambda: relay_rpc.parse_frame("{}"),
        lambda: relay_auth.verify_jwt("a.b", now=0),
    ],
    ids=["uri", "jsonrpc", "base64", "envelope", "frame", "jwt"],
)
def test_readers_of_what_came_in_blame_the_peer(parse) -> None:
    with pytest.raises(ProtocolError) as info:
        parse()
    assert info.value.by == "peer"
