"""Property tests (Hypothesis) for the protocol parsers and encoders.

Two kinds of property:

* round-trips: whatever walletsync writes, walletsync reads back unchanged
  (pairing URIs, envelopes, base64url, client JSON-RPC, relay frames). A failure
  means two walletsync ends (or our relay and our client) would misunderstand
  each other for some input.
* robustness: any text, bytes or JSON a peer or relay might send makes a parser
  either succeed or raise a ``walletsync.errors.WalletsyncError`` subclass. A
  failure means some input crashes the app with a raw traceback instead of a
  one-line error (or, for the relay, kills the connection handler).

Settings are derandomized and do not write a Hypothesis database, so runs are
repeatable and leave no files behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletsync.errors import WalletsyncError
from walletsync.protocol import crypto, jsonrpc, namespaces, relay_auth, relay_rpc, uri

FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

T1 = "9df7ceabd1efee9db9191cfcd158269c69e739f313ad73799d10b4247c227f96"
T2 = "59c972aedb6c86a0b0671be5ab622856e50ac00d51dc80c084e3b2a2f035d434"
SYM_KEY = "cc47d54cfe02ead49a04dd42d74ce9af4e412d815247104735a9bad788eba84c"


def only_walletsync_errors(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Call ``fn``; a WalletsyncError is an acceptable answer (returns None), anything else propagates."""
    try:
        return fn(*args, **kw)
    except WalletsyncError:
        return None


# --- strategies ------------------------------------------------------------------------------

keys32 = st.binary(min_size=32, max_size=32)
ivs = st.binary(min_size=12, max_size=12)
hex_topics = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
any_text = st.text(max_size=300)
any_bytes = st.binary(max_size=300)
text_with_surrogates = st.text(alphabet=st.characters(exclude_categories=()), max_size=20)


def json_values(
    scalar_text: st.SearchStrategy[str] = st.text(max_size=20), keys: st.SearchStrategy[str] = st.text(max_size=10)
):
    """Any JSON value (finite floats only), a few levels deep."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**64), max_value=2**64)
        | st.floats(allow_nan=False, allow_infinity=False)
        | scalar_text
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
        max_leaves=20,
    )


json_any = json_values()

# Field names of every relay method, so random params often hit the real validators.
RELAY_FIELDS = [
    "topic",
    "topics",
    "id",
    "message",
    "ttl",
    "tag",
    "prompt",
    "attestation",
    "subscriptions",
    "messages",
    "receipts",
    "messageId",
    "pairingTopic",
    "sessionProposal",
    "correlationId",
    "sessionTopic",
    "sessionProposalResponse",
    "sessionSettlementRequest",
    "approvedChains",
    "approvedMethods",
    "approvedEvents",
    "data",
    "publishedAt",
]
relay_keys = st.sampled_from(RELAY_FIELDS) | st.text(max_size=8)
relay_leaf_text = st.sampled_from([T1, T2, T1.upper(), "", "x", "AAAA"]) | st.text(max_size=20)
relay_json = json_values(relay_leaf_text, relay_keys)
relay_params = st.dictionaries(relay_keys, relay_json, max_size=8)

relay_ids = st.integers(min_value=0, max_value=2**64) | st.from_regex(r"[0-9]{1,20}n?", fullmatch=True)
wire_ids = relay_ids | json_any  # what a broken peer might put in "id"

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,29}", fullmatch=True)


# =============================================================================================
# round-trips
# =============================================================================================


@st.composite
def pairing_uris(draw) -> uri.PairingUri:
    """Any pairing URI walletsync could create (random key, optional expiry/methods/relay data)."""
    pairing = uri.PairingUri.create(
        draw(keys32),
        expiry_timestamp=draw(st.none() | st.integers(min_value=0, max_value=10**12 - 1)),  # type: ignore[arg-type]
        methods=tuple(draw(st.lists(identifiers, max_size=6))),
    )
    relay_data = draw(st.none() | st.text(min_size=1, max_size=100))
    relay_protocol = draw(st.just("irn") | st.text(min_size=1, max_size=10))
    return uri.PairingUri(
        pairing.topic, pairing.sym_key, relay_protocol, relay_data, pairing.expiry_timestamp, pairing.methods
    )


@FUZZ
@given(pairing_uris())
def test_uri_format_parse_round_trip(pairing: uri.PairingUri) -> None:
    """A URI we show as a QR code must parse back to the same pairing on the other side."""
    text = uri.format_uri(pairing)
    assert text.startswith(f"wc:{pairing.topic}@2?")
    assert uri.parse_uri(text) == pairing
    assert uri.format_uri(uri.parse_uri(text)) == text


@FUZZ
@given(keys32, ivs, st.binary(max_size=500))
def test_type0_seal_open_round_trip(key: bytes, iv: bytes, plaintext: bytes) -> None:
    """Every message we seal for a topic opens with the same key to the same bytes."""
    message = crypto.seal_b64(key, plaintext, iv)
    envelope = crypto.decode_envelope(crypto.b64decode(message))
    assert (envelope.type, envelope.iv, len(envelope.sealed)) == (crypto.TYPE_0, iv, len(plaintext) + crypto.TAG_BYTES)
    assert crypto.open_b64(key, message) == plaintext


@FUZZ
@given(keys32, ivs, keys32, st.binary(max_size=500))
def test_type1_seal_open_round_trip(key: bytes, iv: bytes, sender: bytes, plaintext: bytes) -> None:
    """Type 1 keeps the sender key and iv in the clear and still opens to the plaintext."""
    envelope = crypto.decode_envelope(crypto.seal(key, plaintext, iv, type=crypto.TYPE_1, sender_public_key=sender))
    assert (envelope.type, envelope.sender_public_key, envelope.iv) == (crypto.TYPE_1, sender, iv)
    assert crypto.open_sealed(key, envelope) == plaintext


@FUZZ
@given(st.binary(max_size=300))
def test_base64_round_trips(data: bytes) -> None:
    """Link-mode base64url (no padding) and relay base64 (padded) both decode to the input."""
    url = crypto.b64url_encode(data)
    assert "=" not in url and "+" not in url and "/" not in url
    assert crypto.b64url_decode(url) == data
    assert crypto.b64decode(crypto.b64encode(data)) == data


message_ids = st.integers(min_value=0, max_value=jsonrpc.MAX_SAFE_INTEGER)
jsonrpc_messages = st.one_of(
    st.builds(jsonrpc.Request, message_ids, st.text(min_size=1, max_size=30), json_values(text_with_surrogates)),
    st.builds(jsonrpc.Result, message_ids, json_values(text_with_surrogates)),
    st.builds(
        jsonrpc.ErrorResponse,
        message_ids,
        st.builds(jsonrpc.RpcError, st.integers(min_value=-(2**53), max_value=2**53), text_with_surrogates),
    ),
)


@FUZZ
@given(jsonrpc_messages)
def test_jsonrpc_encode_parse_round_trip(message: jsonrpc.Message) -> None:
    """Any request/result/error we send is read back identically (incl. lone surrogates, as JS allows)."""
    encoded = jsonrpc.encode(message)
    assert jsonrpc.parse_message(encoded) == message
    assert jsonrpc.parse_message(encoded.decode("utf-8")) == message


PUBLISH_KNOWN = {"topic", "message", "ttl", "tag", "prompt", "attestation"}
publishes = st.builds(
    relay_rpc.Publish,
    topic=hex_topics | hex_topics.map(str.upper),
    message=st.text(min_size=1, max_size=200),
    ttl=st.integers(min_value=-(2**40), max_value=2**40),
    tag=st.integers(min_value=0, max_value=2**31),
    prompt=st.booleans(),
    attestation=st.none() | st.text(max_size=50),
    extra=st.dictionaries(st.text(max_size=12).filter(lambda k: k not in PUBLISH_KNOWN), json_any, max_size=5),
)


@FUZZ
@given(relay_ids, publishes)
def test_relay_publish_round_trip(request_id: relay_rpc.RelayId, publish: relay_rpc.Publish) -> None:
    """irn_publish frames (with TVF extras) survive encode → parse with the id kept verbatim."""
    assert relay_rpc.parse_frame(relay_rpc.encode_request(request_id, publish)) == relay_rpc.RelayRequest(
        request_id, publish
    )


# =============================================================================================
# robustness: only WalletsyncError, never another exception
# =============================================================================================

# Pieces of pairing URIs, including unicode digits and whitespace where digits/hex are expected.
digitish = st.text(
    alphabet=st.sampled_from("0123456789²³¹٢۳߂൨௫") | st.characters(categories=["Nd", "No"]), min_size=1, max_size=4
)


@st.composite
def hex_with_gaps(draw) -> str:
    """64 characters once URL-decoded: hex digits with a few whitespace characters mixed in."""
    gaps = draw(st.integers(min_value=0, max_value=3))
    chars = list(draw(st.text(alphabet="0123456789abcdefABCDEF", min_size=64 - gaps, max_size=64 - gaps)))
    for _ in range(gaps):
        chars.insert(
            draw(st.integers(min_value=0, max_value=len(chars))), draw(st.sampled_from(["+", "%20", "%09", "%0A"]))
        )
    return "".join(chars)


mutated_values = st.one_of(digitish, hex_with_gaps(), st.text(max_size=20))
GOOD_PARAMS = {"symKey": SYM_KEY, "relay-protocol": "irn", "expiryTimestamp": "1795456073"}


@st.composite
def uri_like(draw) -> str:
    """A valid pairing URI with one or more parts mutated, dropped, reordered or added."""
    params = dict(GOOD_PARAMS)
    for key in draw(st.lists(st.sampled_from(sorted(GOOD_PARAMS)), max_size=3, unique=True)):
        mutation = draw(st.sampled_from(["replace", "replace", "drop"]))
        if mutation == "drop":
            del params[key]
        else:
            params[key] = draw(mutated_values)
    pairs = list(params.items()) + draw(
        st.lists(
            st.tuples(st.sampled_from(["methods", "relay-data"]) | st.text(max_size=8), st.text(max_size=20)),
            max_size=3,
        )
    )
    pairs = draw(st.permutations(pairs))
    prefix = draw(st.sampled_from(["wc:", "wc://", "wc:", " wc:", "xx wc:"]))
    topic = draw(st.sampled_from([T1, T1, T1, T2, "", T1[:63], T1.upper()]))
    version = draw(st.sampled_from(["2", "2", "2", "1", "02", "²", "٢"]) | digitish)
    return f"{prefix}{topic}@{version}?" + "&".join(f"{k}={v}" for k, v in pairs)


def check_parsed_uri(parsed: uri.PairingUri | None) -> None:
    """Whatever parse_uri accepts must be usable: a 32-byte key and a 64-hex topic."""
    if parsed is not None:
        assert len(parsed.sym_key) == 32, f"accepted a {len(parsed.sym_key)}-byte symKey"
        assert len(parsed.topic) == 64
        assert parsed.version == 2


@FUZZ
@given(any_text | any_bytes)
def test_parse_uri_any_input(data: str | bytes) -> None:
    check_parsed_uri(only_walletsync_errors(uri.parse_uri, data))


@FUZZ
@given(uri_like())
def test_parse_uri_uri_shaped_input(text: str) -> None:
    check_parsed_uri(only_walletsync_errors(uri.parse_uri, text))


@FUZZ
@given(uri_like())
def test_parse_uri_base64_wrapped_input(text: str) -> None:
    check_parsed_uri(only_walletsync_errors(uri.parse_uri, crypto.b64encode(text.encode("utf-8"))))


@FUZZ
@given(any_text | any_bytes)
def test_b64decode_any_input(data: str | bytes) -> None:
    result = only_walletsync_errors(crypto.b64decode, data)
    assert result is None or isinstance(result, bytes)
    only_walletsync_errors(crypto.b64url_decode, data)


@FUZZ
@given(any_bytes)
def test_decode_envelope_any_bytes(data: bytes) -> None:
    envelope = only_walletsync_errors(crypto.decode_envelope, data)
    if envelope is not None:
        assert envelope.type in (0, 1, 2) and envelope.type == data[0]


@FUZZ
@given(keys32, any_text | any_bytes)
def test_open_b64_any_input(key: bytes, data: str | bytes) -> None:
    only_walletsync_errors(crypto.open_b64, key, data)


@FUZZ
@given(keys32, st.sampled_from([0, 1, 2, 3, 255]), st.binary(max_size=120))
def test_open_b64_any_envelope_bytes(key: bytes, kind: int, body: bytes) -> None:
    """Well-encoded but random envelopes: never decrypt by accident, never crash."""
    assert only_walletsync_errors(crypto.open_b64, key, crypto.b64encode(bytes([kind]) + body)) is None


@FUZZ
@given(any_text | any_bytes, st.integers(min_value=0, max_value=2**40))
def test_verify_jwt_any_input(token: str | bytes, now: int) -> None:
    assert only_walletsync_errors(relay_auth.verify_jwt, token, now=now) is None


def _segment(obj: Any) -> str:
    return crypto.b64url_encode(json.dumps(obj).encode("utf-8"))


jwt_claims = st.fixed_dictionaries(
    {},
    optional={
        name: json_any | st.integers() | st.just("did:key:z6MkodHZwneVRShtaLf8JKYkxpDGp1vGZnpGmdBpX8M2exxH")
        for name in ("iss", "sub", "aud", "iat", "exp")
    },
)


@FUZZ
@given(json_any | st.just({"alg": "EdDSA", "typ": "JWT"}), json_any | jwt_claims, st.binary(max_size=80))
def test_verify_jwt_structured_input(header: Any, payload: Any, signature: bytes) -> None:
    """JWT-shaped tokens with random JSON and random signatures are refused cleanly."""
    token = f"{_segment(header)}.{_segment(payload)}.{crypto.b64url_encode(signature)}"
    assert (
        only_walletsync_errors(
            relay_auth.verify_jwt, token, now=1656910097, audiences=["wss://relay.walletconnect.com"]
        )
        is None
    )


@FUZZ
@given(any_text | any_bytes)
def test_parse_message_any_input(data: str | bytes) -> None:
    only_walletsync_errors(jsonrpc.parse_message, data)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["id", "jsonrpc", "method", "params", "result", "error"]), json_any | st.just("2.0")
    )
)
def test_parse_message_rpc_shaped_json(obj: dict) -> None:
    """Whatever parse_message accepts from a peer can be encoded again (to store, log or answer it)."""
    parsed = only_walletsync_errors(jsonrpc.parse_message, json.dumps(obj))
    if parsed is not None:
        assert jsonrpc.parse_message(jsonrpc.encode(parsed)) == parsed


@FUZZ
@given(any_text | any_bytes)
def test_parse_frame_any_input(data: str | bytes) -> None:
    only_walletsync_errors(relay_rpc.parse_frame, data)


@FUZZ
@given(st.sampled_from(sorted(relay_rpc.METHODS)), wire_ids, relay_params | json_any)
def test_parse_frame_wrong_params_for_every_method(method: str, request_id: Any, params: Any) -> None:
    """Every relay method, fed random (often nearly right) params: typed result or FrameError, never a crash."""
    text = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    try:
        frame = relay_rpc.parse_frame(text)
    except relay_rpc.FrameError as exc:
        assert exc.rpc_code in (relay_rpc.INVALID_REQUEST, relay_rpc.INVALID_PARAMS)
        if exc.rpc_code == relay_rpc.INVALID_PARAMS:
            assert exc.request_id == request_id  # the relay can answer the right request
        return
    assert isinstance(frame, relay_rpc.RelayRequest)
    assert isinstance(frame.params, relay_rpc.METHODS[method])
    assert frame.id == request_id
    # An accepted request can be re-encoded (e.g. forwarded) and reads back the same.
    assert relay_rpc.parse_frame(relay_rpc.encode_request(frame.id, frame.params)) == frame


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["id", "jsonrpc", "method", "params", "result", "error"]),
        wire_ids | relay_json | st.just("2.0"),
    )
)
def test_parse_frame_rpc_shaped_json(obj: dict) -> None:
    only_walletsync_errors(relay_rpc.parse_frame, json.dumps(obj))


chain_like = st.sampled_from(
    ["eip155:1", "eip155:137", "eip155", "eip155:", ":1", "cosmos:cosmoshub-4", "eip155:1:0xab", "a:b:c:d", " ", ""]
)
ns_keys = st.sampled_from(["eip155", "eip155:1", "cosmos", "eip155:", ":", "", "solana:x"]) | st.text(max_size=8)
ns_json = json_values(
    chain_like | st.text(max_size=10),
    st.sampled_from(["chains", "methods", "events", "accounts"]) | st.text(max_size=6),
)
namespace_shaped = st.dictionaries(
    ns_keys,
    st.dictionaries(
        st.sampled_from(["chains", "methods", "events", "accounts"]),
        st.lists(chain_like | st.text(max_size=10), max_size=4) | ns_json,
    ),
    max_size=4,
)


@FUZZ
@given(json_any | namespace_shaped)
def test_validate_proposal_namespaces_any_json(value: Any) -> None:
    result = only_walletsync_errors(namespaces.validate_proposal_namespaces, value)
    assert result is None or result is value


@FUZZ
@given(json_any | namespace_shaped)
def test_validate_session_namespaces_any_json(value: Any) -> None:
    result = only_walletsync_errors(namespaces.validate_session_namespaces, value)
    if result is not None:
        assert result is value
        namespaces.session_chains(result)  # a validated session can be queried without crashing


@FUZZ
@given(namespace_shaped, namespace_shaped)
def test_conformance_of_validated_namespaces(required: Any, session: Any) -> None:
    """Once both sides validated, require_conforming answers with InvalidNamespaces or nothing."""
    if only_walletsync_errors(namespaces.validate_proposal_namespaces, required) is None:
        return
    if only_walletsync_errors(namespaces.validate_session_namespaces, session) is None:
        return
    only_walletsync_errors(namespaces.require_conforming, required, session)
