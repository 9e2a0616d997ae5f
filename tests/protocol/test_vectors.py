"""Known-answer tests: walletsync must reproduce the WalletConnect reference vectors byte for byte.

The vectors live in ``tests/protocol/vectors/wc_vectors.json`` (copied from reference §1.1
and §8). If any of these fail, walletsync is no longer wire-compatible with the
JS SDK: phones would fail to pair, decrypt, or authenticate to the relay.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import pytest

from walletsync.protocol import crypto, jsonrpc, relay_auth, uri
from walletsync.protocol.errors import InvalidEnvelope

VECTORS = json.loads((Path(__file__).parent / "vectors" / "wc_vectors.json").read_text("utf-8"))
OFFICIAL = VECTORS["official"]
GENERATED = VECTORS["generated"]
CAPTURED = VECTORS["captured"]
JWT_CASES = [
    pytest.param(VECTORS["official_jwt"], id="official"),
    pytest.param(VECTORS["generated_jwt"], id="generated"),
]


def h(text: str) -> bytes:
    """Hex string from the vectors file to bytes."""
    return bytes.fromhex(text)


def b64(text: str) -> bytes:
    """Standard padded base64 from the vectors file to bytes (independently of walletsync)."""
    return base64.b64decode(text, validate=True)


# --- §8.1 official: keys, KDF, topic ------------------------------------------------------


@pytest.mark.parametrize(
    ("priv", "pub"),
    [
        (OFFICIAL["a_priv"], OFFICIAL["a_pub"]),
        (OFFICIAL["b_priv"], OFFICIAL["b_pub"]),
        (GENERATED["alice_priv"], GENERATED["alice_pub"]),
        (GENERATED["bob_priv"], GENERATED["bob_pub"]),
    ],
    ids=["official-A", "official-B", "rfc7748-alice", "rfc7748-bob"],
)
def test_x25519_public_key_from_private(priv: str, pub: str) -> None:
    """A wrong public key would make the peer derive a different session key: pairing never settles."""
    pair = crypto.X25519KeyPair.from_private(h(priv))
    assert pair.public_key == h(pub)
    assert pair.public_hex == pub


@pytest.mark.parametrize(
    ("priv", "peer_pub", "shared"),
    [
        (OFFICIAL["a_priv"], OFFICIAL["b_pub"], OFFICIAL["shared_key"]),
        (OFFICIAL["b_priv"], OFFICIAL["a_pub"], OFFICIAL["shared_key"]),
        (GENERATED["alice_priv"], GENERATED["bob_pub"], GENERATED["shared"]),
        (GENERATED["bob_priv"], GENERATED["alice_pub"], GENERATED["shared"]),
    ],
    ids=["official-A-B", "official-B-A", "rfc7748-alice-bob", "rfc7748-bob-alice"],
)
def test_shared_secret_is_symmetric_and_matches(priv: str, peer_pub: str, shared: str) -> None:
    """Both sides must compute the same raw X25519 secret as the JS SDK."""
    assert crypto.shared_secret(h(priv), h(peer_pub)) == h(shared)


def test_sha256_of_shared_key() -> None:
    """hashKey hashes the key *bytes*, not their hex text; topics depend on it."""
    assert crypto.sha256_hex(h(OFFICIAL["shared_key"])) == OFFICIAL["shared_key_sha256"]
    assert crypto.topic_for(h(OFFICIAL["shared_key"])) == OFFICIAL["shared_key_sha256"]


@pytest.mark.parametrize(
    ("shared", "priv", "peer_pub", "sym_key"),
    [
        (OFFICIAL["shared_key"], OFFICIAL["a_priv"], OFFICIAL["b_pub"], OFFICIAL["sym_key"]),
        (GENERATED["shared"], GENERATED["alice_priv"], GENERATED["bob_pub"], GENERATED["sym_key"]),
        (GENERATED["shared"], GENERATED["bob_priv"], GENERATED["alice_pub"], GENERATED["sym_key"]),
    ],
    ids=["official", "rfc7748-alice", "rfc7748-bob"],
)
def test_hkdf_sym_key(shared: str, priv: str, peer_pub: str, sym_key: str) -> None:
    """deriveSymKey = HKDF-SHA256(no salt, empty info); a mismatch means undecryptable sessions."""
    assert crypto.hkdf_sha256(h(shared)) == h(sym_key)
    assert crypto.derive_sym_key(h(priv), h(peer_pub)) == h(sym_key)


@pytest.mark.parametrize(
    ("key", "topic"),
    [
        (GENERATED["sym_key"], GENERATED["session_topic"]),
        (GENERATED["pairing_sym_key"], GENERATED["pairing_topic"]),
        (CAPTURED["sym_key"], CAPTURED["uri_topic"]),
    ],
    ids=["session", "pairing", "captured-pairing"],
)
def test_topic_for_sym_key(key: str, topic: str) -> None:
    """The relay topic is sha256(symKey bytes); a wrong topic means we listen where nobody talks."""
    assert crypto.topic_for(h(key)) == topic


def test_message_sha256() -> None:
    """The relay's message id is sha256 of the message; the vector pins the hash helper."""
    assert crypto.sha256_hex(OFFICIAL["message"].encode("utf-8")) == OFFICIAL["message_sha256"]


def test_official_message_is_what_jsonrpc_encodes() -> None:
    """Our JSON-RPC serialization must be the SDK's compact key order (id, jsonrpc, method, params)."""
    request = jsonrpc.Request(1, "test_method", {})
    assert jsonrpc.encode(request).decode("utf-8") == OFFICIAL["message"]
    assert jsonrpc.parse_message(OFFICIAL["message"]) == request


# --- §8.1 official: envelopes ---------------------------------------------------------------


def _official_seal(**kw) -> bytes:
    return crypto.seal(h(OFFICIAL["sym_key"]), OFFICIAL["message"].encode("utf-8"), h(OFFICIAL["iv"]), **kw)


def test_official_type0_seal_is_exact() -> None:
    """Type 0 with a fixed iv must equal the SDK's base64 exactly (0x00 ‖ iv ‖ ct ‖ tag)."""
    envelope = _official_seal()
    assert envelope == b"\x00" + h(OFFICIAL["iv"]) + h(OFFICIAL["sealed"])
    assert crypto.b64encode(envelope) == OFFICIAL["type0"]
    assert crypto.seal_b64(h(OFFICIAL["sym_key"]), OFFICIAL["message"].encode(), h(OFFICIAL["iv"])) == OFFICIAL["type0"]


def test_official_type0_opens_to_message() -> None:
    """A relay message from a JS peer must decrypt to its JSON text."""
    assert crypto.open_b64(h(OFFICIAL["sym_key"]), OFFICIAL["type0"]) == OFFICIAL["message"].encode()
    envelope = crypto.decode_envelope(b64(OFFICIAL["type0"]))
    assert (envelope.type, envelope.iv, envelope.sealed) == (crypto.TYPE_0, h(OFFICIAL["iv"]), h(OFFICIAL["sealed"]))
    assert envelope.sender_public_key is None


def test_official_type0_base64url_variant() -> None:
    """Link mode carries the same bytes as unpadded base64url."""
    envelope = _official_seal()
    assert crypto.b64url_encode(envelope) == OFFICIAL["type0_b64url"]
    assert crypto.b64url_decode(OFFICIAL["type0_b64url"]) == envelope
    opened = crypto.open_sealed(
        h(OFFICIAL["sym_key"]), crypto.decode_envelope(crypto.b64url_decode(OFFICIAL["type0_b64url"]))
    )
    assert opened == OFFICIAL["message"].encode()


def test_official_type1_with_sender_key() -> None:
    """Type 1 = 0x01 ‖ senderPub ‖ iv ‖ sealed; used by wc_sessionAuthenticate responses."""
    envelope = _official_seal(type=crypto.TYPE_1, sender_public_key=h(OFFICIAL["a_pub"]))
    assert crypto.b64encode(envelope) == OFFICIAL["type1"]
    decoded = crypto.decode_envelope(b64(OFFICIAL["type1"]))
    assert decoded.type == crypto.TYPE_1
    assert decoded.sender_public_key == h(OFFICIAL["a_pub"])
    assert decoded.iv == h(OFFICIAL["iv"])
    assert crypto.open_sealed(h(OFFICIAL["sym_key"]), decoded) == OFFICIAL["message"].encode()


def test_official_type2_is_plain_json() -> None:
    """Type 2 is 0x02 ‖ JSON (unencrypted link mode); it must never be opened as ciphertext."""
    envelope = _official_seal(type=crypto.TYPE_2)
    assert crypto.b64encode(envelope) == OFFICIAL["type2"]
    decoded = crypto.decode_envelope(b64(OFFICIAL["type2"]))
    assert (decoded.type, decoded.sealed) == (crypto.TYPE_2, OFFICIAL["message"].encode())
    with pytest.raises(InvalidEnvelope, match="type 2"):
        crypto.open_sealed(h(OFFICIAL["sym_key"]), decoded)


@pytest.mark.parametrize(("name", "kind"), [("type1", 1), ("type2", 2)])
def test_open_b64_refuses_non_type0_on_a_topic(name: str, kind: int) -> None:
    """On a relay topic only type 0 is valid; type 1/2 must be refused with a clear message."""
    with pytest.raises(InvalidEnvelope, match=f"got type {kind}"):
        crypto.open_b64(h(OFFICIAL["sym_key"]), OFFICIAL[name])


# --- §8.2 generated: URI and wc_sessionPing envelopes ----------------------------------------


def test_generated_format_uri_is_exact() -> None:
    """formatUri with expiryTimestamp must equal the SDK's string (key order, encoding)."""
    pairing = uri.PairingUri.create(h(GENERATED["pairing_sym_key"]), expiry_timestamp=GENERATED["uri_expiry_timestamp"])
    assert pairing.topic == GENERATED["pairing_topic"]
    assert uri.format_uri(pairing) == GENERATED["uri"]
    assert str(pairing) == GENERATED["uri"]


def test_generated_uri_parses_back() -> None:
    """The SDK's URI parses into the pairing it was made from."""
    parsed = uri.parse_uri(GENERATED["uri"])
    assert parsed.topic == GENERATED["pairing_topic"]
    assert parsed.sym_key == h(GENERATED["pairing_sym_key"])
    assert parsed.expiry_timestamp == GENERATED["uri_expiry_timestamp"]
    assert (parsed.relay_protocol, parsed.version, parsed.methods, parsed.relay_data) == ("irn", 2, (), None)


def test_generated_session_ping_type0() -> None:
    """wc_sessionPing sealed with the pairing symKey and fixed iv equals the SDK's bytes."""
    key, message, iv = h(GENERATED["pairing_sym_key"]), GENERATED["message"].encode(), h(GENERATED["iv"])
    assert crypto.seal_b64(key, message, iv) == GENERATED["type0_pairing_sym_key"]
    assert crypto.open_b64(key, GENERATED["type0_pairing_sym_key"]) == message


def test_generated_session_ping_type1() -> None:
    """Type 1 sealed with deriveSymKey and Alice as sender equals the SDK's bytes and opens again."""
    key, message, iv = h(GENERATED["sym_key"]), GENERATED["message"].encode(), h(GENERATED["iv"])
    sealed = crypto.seal_b64(key, message, iv, type=crypto.TYPE_1, sender_public_key=h(GENERATED["alice_pub"]))
    assert sealed == GENERATED["type1_sender_alice_sym_key"]
    envelope = crypto.decode_envelope(crypto.b64decode(sealed))
    assert envelope.sender_public_key == h(GENERATED["alice_pub"])
    # The receiver (Bob) derives the key from the sender key carried in the envelope.
    receiver_key = crypto.derive_sym_key(h(GENERATED["bob_priv"]), envelope.sender_public_key)
    assert crypto.open_sealed(receiver_key, envelope) == message


def test_generated_message_parses_as_ping() -> None:
    """The ping plaintext is a Request with a 16-digit id and empty params."""
    assert jsonrpc.parse_message(GENERATED["message"]) == jsonrpc.Request(1700000000000123, "wc_sessionPing", {})


# --- JWT and subscription id ------------------------------------------------------------------


@pytest.mark.parametrize("case", JWT_CASES)
def test_relay_identity_client_id(case: dict) -> None:
    """The did:key client id from the Ed25519 seed; the relay identifies us by it."""
    identity = relay_auth.RelayIdentity(h(case["seed"]))
    assert identity.client_id == case["iss"]
    assert relay_auth.decode_did_key(case["iss"]) == identity.public_key
    if "ed25519_pub" in case:
        assert identity.public_key == h(case["ed25519_pub"])


@pytest.mark.parametrize("case", JWT_CASES)
def test_create_jwt_is_exact(case: dict) -> None:
    """Our relay-auth JWT must be byte-identical to RA's signJWT (else the relay refuses to connect)."""
    identity = relay_auth.RelayIdentity(h(case["seed"]))
    token = relay_auth.create_jwt(identity, sub=case["sub"], aud=case["aud"], iat=case["iat"], ttl=case["ttl"])
    assert token == case["jwt"]


@pytest.mark.parametrize("case", JWT_CASES)
@pytest.mark.parametrize("at", ["iat", "middle", "exp"])
def test_verify_jwt_accepts_vector(case: dict, at: str) -> None:
    """A local relay must accept the SDK's JWT anywhere inside [iat, exp] and report its claims."""
    now = {"iat": case["iat"], "exp": case["exp"], "middle": (case["iat"] + case["exp"]) // 2}[at]
    claims = relay_auth.verify_jwt(case["jwt"], now=now, audiences=[case["aud"]])
    assert claims == relay_auth.JwtClaims(case["iss"], case["sub"], case["aud"], case["iat"], case["exp"])
    assert claims.client_id == case["iss"]


def test_subscription_id_vector() -> None:
    """sha256(topic + clientId): the id the JS SDK uses locally for irn_unsubscribe."""
    case = VECTORS["subscription_id"]
    assert relay_auth.subscription_id(case["topic"], case["client_id"]) == case["id"]


# --- §8.3 captured frame and §1.1 URIs --------------------------------------------------------


def test_captured_session_proposal_response_decrypts() -> None:
    """A real JS 2.25.0 proposal response decrypts with the URI symKey and parses as a Result."""
    plaintext = crypto.open_b64(h(CAPTURED["sym_key"]), CAPTURED["session_proposal_response"])
    assert plaintext == CAPTURED["plaintext"].encode("utf-8")
    message = jsonrpc.parse_message(plaintext)
    assert isinstance(message, jsonrpc.Result)
    assert message.id == CAPTURED["response_id"]
    assert message.result == {"relay": {"protocol": "irn"}, "responderPublicKey": CAPTURED["responder_public_key"]}


def test_captured_uri_round_trips_byte_identically() -> None:
    """The URI a JS dapp showed parses (topic, symKey, expiry) and re-formats to the same string."""
    parsed = uri.parse_uri(CAPTURED["uri"])
    assert parsed.topic == CAPTURED["uri_topic"]
    assert parsed.sym_key == h(CAPTURED["sym_key"])
    assert parsed.expiry_timestamp == CAPTURED["uri_expiry_timestamp"]
    assert crypto.topic_for(parsed.sym_key) == parsed.topic
    assert uri.format_uri(parsed) == CAPTURED["uri"]


def test_uri_with_methods_and_relay_data_query() -> None:
    """§1.1 "with methods": keys sorted, methods joined by ',' and form-encoded as %2C."""
    key = h(GENERATED["pairing_sym_key"])
    pairing = dataclasses.replace(
        uri.PairingUri.create(key, expiry_timestamp=5, methods=("wc_sessionAuthenticate", "wc_sessionPropose")),
        relay_data="ab",
    )
    expected_query = (
        "expiryTimestamp=5&methods=wc_sessionAuthenticate%2Cwc_sessionPropose"
        f"&relay-data=ab&relay-protocol=irn&symKey={GENERATED['pairing_sym_key']}"
    )
    assert uri.format_uri(pairing) == f"wc:{GENERATED['pairing_topic']}@2?{expected_query}"
    parsed = uri.parse_uri(uri.format_uri(pairing))
    assert parsed.methods == ("wc_sessionAuthenticate", "wc_sessionPropose")
    assert parsed.relay_data == "ab"
    assert parsed == pairing
