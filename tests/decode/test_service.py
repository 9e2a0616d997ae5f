"""The service's decoding: the input checked as ``sign`` checks it, the chain chosen, the clock given."""

from __future__ import annotations

import json

import pytest

from tests.decode.registry import BOB, NOW, SmallRegistry
from tests.procs import REPO
from walletsync.service.decoding import DEFAULT_CHAIN, decode_request, decode_user_request
from walletsync.signatures import MalformedRequest, read_request

MAIL = (REPO / "examples" / "mail.json").read_text()


def test_the_chain_is_the_users_then_the_requests_then_the_default():
    tx = json.dumps({"to": BOB, "value": "0x1"})
    assert decode_request(tx=tx, lookup=SmallRegistry(), now=NOW).chain.id == DEFAULT_CHAIN == "eip155:1"
    named = json.dumps({"to": BOB, "value": "0x1", "chainId": 137})
    assert (
        decode_request(tx=named, lookup=SmallRegistry(), now=NOW).summary
        == "Send 0.000000000000000001 POL to 0xbBbB…BBbB"
    )
    polygon_mail = json.loads(MAIL)
    polygon_mail["domain"]["chainId"] = "0x89"
    decoded = decode_request(typed_data=json.dumps(polygon_mail), lookup=SmallRegistry(), now=NOW)
    assert decoded.chain.id == "eip155:137" and decoded.warnings == ()
    chosen = decode_request(typed_data=MAIL, chain_id="eip155:137", lookup=SmallRegistry(), now=NOW)
    assert [w.code for w in chosen.warnings] == ["chain_mismatch"]


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({}, "give exactly one of --tx or --typed-data"),
        ({"tx": "[]"}, "--tx: must be a JSON object"),
        ({"tx": "{}"}, "--tx: neither 'to' nor 'data'"),
        ({"typed_data": "{}"}, "--typed-data: missing 'types'"),
        ({"tx": json.dumps({"to": BOB}), "chain_id": "137"}, "--chain: '137' is not a CAIP-2 chain id"),
    ],
)
def test_input_is_refused_as_sign_refuses_it(given, words):
    with pytest.raises(MalformedRequest, match=words.replace("(", r"\(")):
        decode_request(lookup=SmallRegistry(), now=NOW, **given)


def test_a_personal_message_moves_nothing():
    decoded = decode_user_request(read_request(message="Log in to example.org"), "eip155:1", SmallRegistry(), now=NOW)
    assert decoded.kind == "message" and decoded.effects == () and decoded.warnings == ()
    assert decoded.summary == "Sign a message (21 bytes of text): 'Log in to example.org'"
    assert decoded.to_json()["tree"] == {"name": "message", "type": "text", "value": "Log in to example.org"}
