"""Bad input to every protocol parser: the right error class, and a message a user can act on.

Each parser of walletsync.protocol (pairing URIs, envelopes, relay JWTs, JSON-RPC,
namespaces, relay frames) must turn bad input into one specific
``WalletsyncError`` subclass whose text says what was wrong. If these fail, a user
pasting a broken URI (or a misbehaving peer or relay) gets a traceback, a vague
message, or, worse, silently wrong behaviour.
"""

from __future__ import annotations

import base64
import json

import pytest

from walletsync.errors import WalletsyncError
from walletsync.protocol import crypto, jsonrpc, namespaces, relay_auth, relay_rpc, uri
from walletsync.protocol.errors import (
    DecryptionFailed,
    InvalidEnvelope,
    InvalidJwt,
    InvalidKey,
    InvalidMessage,
    InvalidNamespaces,
    InvalidUri,
    OutOfScope,
)

TOPIC = "9df7ceabd1efee9db9191cfcd158269c69e739f313ad73799d10b4247c227f96"
SYM_KEY = "cc47d54cfe02ead49a04dd42d74ce9af4e412d815247104735a9bad788eba84c"
KEY = bytes.fromhex(SYM_KEY)
IV = bytes(range(12))
OTHER_TOPIC = "59c972aedb6c86a0b0671be5ab622856e50ac00d51dc80c084e3b2a2f035d434"


def wc(query: str, *, topic: str = TOPIC, version: str = "2") -> str:
    """A pairing URI with the given query."""
    return f"wc:{topic}@{version}?{query}"


GOOD_QUERY = f"expiryTimestamp=1795456073&relay-protocol=irn&symKey={SYM_KEY}"
GOOD_URI = wc(GOOD_QUERY)


def assert_good_pairing(parsed: uri.PairingUri, *, expiry: int | None = 1795456073) -> None:
    assert parsed.topic == TOPIC
    assert parsed.sym_key == KEY
    assert parsed.relay_protocol == "irn"
    assert parsed.expiry_timestamp == expiry
    assert parsed.version == 2


# =========================================================================================
# pairing URIs
# =========================================================================================


class TestParseUri:
    """What a user sees when the URI they pasted or scanned is wrong."""

    def test_missing_sym_key(self) -> None:
        with pytest.raises(InvalidUri, match="symKey is missing"):
            uri.parse_uri(wc("relay-protocol=irn"))

    def test_sym_key_of_63_hex_names_both_lengths(self) -> None:
        with pytest.raises(InvalidUri) as info:
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY[:63]}"))
        assert "64" in str(info.value) and "63" in str(info.value)
        assert "symKey" in str(info.value)

    def test_sym_key_not_hex(self) -> None:
        with pytest.raises(InvalidUri, match="symKey must be hex"):
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={'z' * 64}"))

    @pytest.mark.parametrize("spaces", ["++", "%20%20", "%09%0A"], ids=["plus", "pct20", "tab-newline"])
    def test_sym_key_with_whitespace_is_refused(self, spaces: str) -> None:
        """BUG: 62 hex digits padded with two spaces pass the 64-char check and ``bytes.fromhex``
        skips the spaces, so a 31-byte symKey is accepted (crypto.key_from_hex)."""
        with pytest.raises(InvalidUri, match="symKey"):
            parsed = uri.parse_uri(wc(f"relay-protocol=irn&symKey={spaces}{SYM_KEY[:62]}"))
            assert len(parsed.sym_key) == 32, f"parsed a {len(parsed.sym_key)}-byte symKey"

    def test_missing_relay_protocol(self) -> None:
        with pytest.raises(InvalidUri, match="relay-protocol is missing"):
            uri.parse_uri(wc(f"symKey={SYM_KEY}"))

    def test_version_1_is_refused_by_name(self) -> None:
        with pytest.raises(InvalidUri, match="only WalletConnect v2 .* got version 1"):
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY}", version="1"))

    @pytest.mark.parametrize("version", ["²", "¹²"])
    def test_non_ascii_digit_version_is_invalid_uri(self, version: str) -> None:
        """BUG: ``str.isdigit()`` accepts '²' but ``int('²')`` raises ValueError (uri.py version check)."""
        with pytest.raises(InvalidUri, match="version"):
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY}", version=version))

    def test_non_ascii_digit_expiry_is_invalid_uri(self) -> None:
        """BUG: same ``isdigit``/``int`` mismatch for expiryTimestamp ('²' leaks a ValueError)."""
        with pytest.raises(InvalidUri, match="expiryTimestamp"):
            uri.parse_uri(wc(f"expiryTimestamp=%C2%B2&relay-protocol=irn&symKey={SYM_KEY}"))

    def test_expiry_not_a_number(self) -> None:
        with pytest.raises(InvalidUri, match="expiryTimestamp must be unix seconds, got 'soon'"):
            uri.parse_uri(wc(f"expiryTimestamp=soon&relay-protocol=irn&symKey={SYM_KEY}"))

    def test_no_at_version(self) -> None:
        with pytest.raises(InvalidUri, match="no '@version'"):
            uri.parse_uri(f"wc:{TOPIC}?relay-protocol=irn&symKey={SYM_KEY}")

    def test_no_query(self) -> None:
        with pytest.raises(InvalidUri, match="no query"):
            uri.parse_uri(f"wc:{TOPIC}@2")

    def test_topic_not_64_hex(self) -> None:
        with pytest.raises(InvalidUri, match="topic must be 64 lowercase hex chars, got 4 chars"):
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY}", topic="abcd"))

    def test_repeated_key(self) -> None:
        with pytest.raises(InvalidUri, match="repeats 'symKey'"):
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY}&symKey={SYM_KEY}"))

    @pytest.mark.parametrize("text", ["https://example.com/?wc=1", "hello", ""])
    def test_not_a_walletconnect_uri(self, text: str) -> None:
        with pytest.raises(InvalidUri, match="not a WalletConnect URI"):
            uri.parse_uri(text)

    def test_not_text(self) -> None:
        with pytest.raises(InvalidUri, match="URI must be text, got bytes"):
            uri.parse_uri(GOOD_URI.encode())  # type: ignore[arg-type]

    def test_too_long(self) -> None:
        with pytest.raises(InvalidUri, match="at most 4096"):
            uri.parse_uri(GOOD_URI + "&relay-data=" + "a" * 5000)

    def test_base64_wrapped_uri_works(self) -> None:
        assert_good_pairing(uri.parse_uri(base64.b64encode(GOOD_URI.encode()).decode()))

    def test_unpadded_base64_wrapped_uri_works(self) -> None:
        assert_good_pairing(uri.parse_uri(base64.b64encode(GOOD_URI.encode()).decode().rstrip("=")))

    def test_android_double_slash_prefix_works(self) -> None:
        assert_good_pairing(uri.parse_uri(GOOD_URI.replace("wc:", "wc://", 1)))

    def test_surrounding_whitespace_is_ignored(self) -> None:
        assert_good_pairing(uri.parse_uri(f"  {GOOD_URI}\n"))

    def test_key_order_does_not_matter(self) -> None:
        """SDK 2.17 wrote symKey first; both orders must parse to the same pairing."""
        shuffled = wc(f"symKey={SYM_KEY}&relay-protocol=irn&expiryTimestamp=1795456073")
        assert uri.parse_uri(shuffled) == uri.parse_uri(GOOD_URI)
        assert uri.format_uri(uri.parse_uri(shuffled)) == GOOD_URI

    def test_without_expiry(self) -> None:
        parsed = uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY}"))
        assert_good_pairing(parsed, expiry=None)
        assert not parsed.is_expired(now=10**12)

    @pytest.mark.parametrize(
        ("now", "expired"),
        [(1795456072, False), (1795456073, False), (1795456073.5, True), (1795456074, True)],
    )
    def test_is_expired(self, now: float, expired: bool) -> None:
        assert uri.parse_uri(GOOD_URI).is_expired(now) is expired

    def test_repr_hides_sym_key(self) -> None:
        assert SYM_KEY not in repr(uri.parse_uri(GOOD_URI))


# =========================================================================================
# crypto
# =========================================================================================


def sealed_type0(plaintext: bytes = b'{"id":1}') -> bytes:
    return crypto.seal(KEY, plaintext, IV)


class TestCrypto:
    """A malformed or forged relay message must be refused, never crash or decrypt to junk."""

    @pytest.mark.parametrize(
        "text", ["@@@@", "AAA", "AA==AA==", "ÄÖÜ="], ids=["alphabet", "padding", "mid-pad", "non-ascii"]
    )
    def test_bad_base64(self, text: str) -> None:
        with pytest.raises(InvalidEnvelope, match="not valid base64"):
            crypto.b64decode(text)

    def test_bad_base64url(self) -> None:
        with pytest.raises(InvalidEnvelope, match="not valid base64url"):
            crypto.b64url_decode("A")

    def test_empty_envelope(self) -> None:
        with pytest.raises(InvalidEnvelope, match="empty envelope"):
            crypto.decode_envelope(b"")
        with pytest.raises(InvalidEnvelope, match="empty envelope"):
            crypto.open_b64(KEY, "")

    def test_unknown_type_byte(self) -> None:
        with pytest.raises(InvalidEnvelope, match="unknown envelope type byte 0x07"):
            crypto.decode_envelope(b"\x07" + bytes(60))

    def test_truncated_type0(self) -> None:
        with pytest.raises(InvalidEnvelope, match=r"type 0 envelope too short \(28 bytes\)"):
            crypto.decode_envelope(sealed_type0(b"")[:28])

    def test_minimal_type0_decodes(self) -> None:
        """29 bytes (type, iv, tag) is the shortest valid type 0: an empty plaintext."""
        envelope = sealed_type0(b"")
        assert len(envelope) == 29
        assert crypto.open_sealed(KEY, crypto.decode_envelope(envelope)) == b""

    def test_truncated_type1(self) -> None:
        envelope = crypto.seal(KEY, b"", IV, type=crypto.TYPE_1, sender_public_key=bytes(range(32)))
        with pytest.raises(InvalidEnvelope, match=r"type 1 envelope too short \(60 bytes\)"):
            crypto.decode_envelope(envelope[:60])

    @pytest.mark.parametrize("index", [1, 13, -1], ids=["iv", "ciphertext", "tag"])
    def test_tampered_envelope_fails_decryption(self, index: int) -> None:
        envelope = bytearray(sealed_type0())
        envelope[index] ^= 0x01
        with pytest.raises(DecryptionFailed, match="did not decrypt"):
            crypto.open_b64(KEY, crypto.b64encode(bytes(envelope)))

    def test_wrong_key_fails_decryption(self) -> None:
        with pytest.raises(DecryptionFailed) as info:
            crypto.open_b64(bytes(32), crypto.b64encode(sealed_type0()))
        assert isinstance(info.value, InvalidEnvelope)  # callers catching InvalidEnvelope see it too

    def test_decryption_failure_is_blamed_on_peer(self) -> None:
        with pytest.raises(DecryptionFailed) as info:
            crypto.open_b64(bytes(32), crypto.b64encode(sealed_type0()))
        assert info.value.by == "peer"

    def test_low_order_public_key_is_refused(self) -> None:
        with pytest.raises(InvalidKey, match="low-order"):
            crypto.shared_secret(bytes(range(32)), bytes(32))
        with pytest.raises(InvalidKey, match="low-order"):
            crypto.derive_sym_key(bytes(range(32)), bytes(32))

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (lambda: crypto.shared_secret(bytes(31), bytes(32)), "X25519 private key must be 32 bytes"),
            (lambda: crypto.shared_secret(bytes(32), bytes(33)), "peer public key must be 32 bytes"),
            (lambda: crypto.X25519KeyPair.from_private(bytes(33)), "X25519 private key must be 32 bytes"),
            (lambda: crypto.topic_for(bytes(16)), "symKey must be 32 bytes"),
            (lambda: crypto.seal(bytes(31), b"x", IV), "symKey must be 32 bytes"),
            (lambda: crypto.seal(KEY, b"x", bytes(11)), "iv must be 12 bytes"),
            (lambda: crypto.seal(KEY, b"x", IV, type=crypto.TYPE_1), "sender's 32-byte public key"),
            (lambda: crypto.open_sealed(bytes(16), crypto.decode_envelope(sealed_type0())), "symKey must be 32 bytes"),
            (lambda: crypto.key_from_hex("ab" * 31, "peer key"), "peer key must be 64 hex chars, got 62"),
            (lambda: crypto.key_from_hex(None, "peer key"), "peer key must be 64 hex chars, got NoneType"),  # type: ignore[arg-type]
        ],
        ids=[
            "priv-31",
            "pub-33",
            "keypair-33",
            "topic-16",
            "seal-key-31",
            "iv-11",
            "type1-no-sender",
            "open-key-16",
            "hex-62",
            "hex-none",
        ],
    )
    def test_wrong_length_keys(self, call, message: str) -> None:
        with pytest.raises(InvalidKey, match=message):
            call()

    @pytest.mark.parametrize(
        "text", ["  " + SYM_KEY[:62], SYM_KEY[:30] + "\t\n" + SYM_KEY[32:]], ids=["leading", "inner"]
    )
    def test_key_from_hex_refuses_whitespace(self, text: str) -> None:
        """BUG: ``bytes.fromhex`` skips ASCII whitespace, so 64 chars with 2 spaces give a 31-byte key."""
        assert len(text) == 64
        with pytest.raises(InvalidKey, match="symKey"):
            key = crypto.key_from_hex(text, "symKey")
            assert len(key) == 32, f"returned a {len(key)}-byte key"

    def test_unknown_seal_type_is_a_caller_error(self) -> None:
        with pytest.raises(InvalidEnvelope, match="unknown envelope type 7") as info:
            crypto.seal(KEY, b"x", IV, type=7)
        assert info.value.by == "caller"


# =========================================================================================
# relay-auth JWT
# =========================================================================================

SEED = bytes.fromhex("58e0254c211b858ef7896b00e3f36beeb13d568d47c6031c4218b87718061295")
IDENTITY = relay_auth.RelayIdentity(SEED)
AUD = "wss://relay.walletconnect.com"
IAT = 1656910097
EXP = IAT + 86400
OFFICIAL_JWT = relay_auth.create_jwt(
    IDENTITY, sub="c479fe5dc464e771e78b193d239a65b58d278cad1c34bfb0b5716e5bb514928e", aud=AUD, iat=IAT
)


def _segment(obj: object) -> str:
    return crypto.b64url_encode(json.dumps(obj, separators=(",", ":")).encode())


def signed_jwt(header: object = relay_auth.JWT_HEADER, **claims: object) -> str:
    """A correctly signed JWT with the given header and claims overriding valid ones."""
    payload = {"iss": IDENTITY.client_id, "sub": "s", "aud": AUD, "iat": IAT, "exp": EXP, **claims}
    signing_input = _segment(header) + "." + _segment(payload)
    return signing_input + "." + crypto.b64url_encode(IDENTITY.sign(signing_input.encode()))


class TestVerifyJwt:
    """A local relay must let honest clients in and keep forged or stale tokens out, saying why."""

    def test_valid_token_accepted(self) -> None:
        assert relay_auth.verify_jwt(OFFICIAL_JWT, now=IAT, audiences=[AUD]).iss == IDENTITY.client_id

    @pytest.mark.parametrize("late", [1, 60, 120])
    def test_expired_within_leeway_accepted(self, late: int) -> None:
        assert relay_auth.verify_jwt(OFFICIAL_JWT, now=EXP + late).exp == EXP

    @pytest.mark.parametrize("late", [121, 3600])
    def test_expired_beyond_leeway_rejected(self, late: int) -> None:
        with pytest.raises(InvalidJwt, match=f"expired at {EXP}"):
            relay_auth.verify_jwt(OFFICIAL_JWT, now=EXP + late)

    def test_iat_in_future_within_leeway_accepted(self) -> None:
        assert relay_auth.verify_jwt(OFFICIAL_JWT, now=IAT - 120).iat == IAT

    def test_iat_in_future_beyond_leeway_rejected(self) -> None:
        with pytest.raises(InvalidJwt, match=f"issued in the future \\({IAT}\\)"):
            relay_auth.verify_jwt(OFFICIAL_JWT, now=IAT - 121)

    def test_flipped_signature_character_rejected(self) -> None:
        head, payload, signature = OFFICIAL_JWT.split(".")
        middle = len(signature) // 2
        flipped = signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
        with pytest.raises(InvalidJwt, match="signature does not match"):
            relay_auth.verify_jwt(f"{head}.{payload}.{flipped}", now=IAT)

    def test_payload_of_another_token_rejected(self) -> None:
        """Swapping in a different (validly encoded) payload breaks the signature."""
        _, other_payload, _ = signed_jwt(sub="someone-else").split(".")
        head, _, signature = OFFICIAL_JWT.split(".")
        with pytest.raises(InvalidJwt, match="signature does not match"):
            relay_auth.verify_jwt(f"{head}.{other_payload}.{signature}", now=IAT)

    def test_short_signature_rejected(self) -> None:
        head, payload, _ = OFFICIAL_JWT.split(".")
        with pytest.raises(InvalidJwt, match="signature does not match"):
            relay_auth.verify_jwt(f"{head}.{payload}.AAAA", now=IAT)

    @pytest.mark.parametrize(
        "header",
        [
            {"alg": "ES256", "typ": "JWT"},
            {"alg": "none", "typ": "JWT"},
            {"alg": "EdDSA"},
            {"alg": "EdDSA", "typ": "JWS"},
            ["EdDSA"],
        ],
        ids=["es256", "none", "no-typ", "typ-jws", "array"],
    )
    def test_wrong_header_rejected(self, header: object) -> None:
        with pytest.raises(InvalidJwt, match="header must be alg EdDSA, typ JWT"):
            relay_auth.verify_jwt(signed_jwt(header), now=IAT)

    @pytest.mark.parametrize(
        ("iss", "message"),
        [
            ("did:web:example.com", "issuer must be a did:key, got 'did:web:example.com'"),
            ("did:key:z0OIl", "not base58btc"),
            ("did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc", "not an Ed25519 key"),
        ],
        ids=["did-web", "bad-base58", "x25519-did"],
    )
    def test_issuer_not_ed25519_did_key_rejected(self, iss: str, message: str) -> None:
        with pytest.raises(InvalidJwt, match=message):
            relay_auth.verify_jwt(signed_jwt(iss=iss), now=IAT)

    def test_token_signed_by_another_key_rejected(self) -> None:
        other = relay_auth.RelayIdentity(bytes(32))
        with pytest.raises(InvalidJwt, match="signature does not match"):
            relay_auth.verify_jwt(signed_jwt(iss=other.client_id), now=IAT)

    def test_audience_not_this_relay_rejected(self) -> None:
        with pytest.raises(InvalidJwt, match="audience 'wss://relay.walletconnect.com' is not this relay"):
            relay_auth.verify_jwt(OFFICIAL_JWT, now=IAT, audiences=["wss://relay.example.org", "ws://localhost:5555"])

    def test_any_audience_when_none_configured(self) -> None:
        assert relay_auth.verify_jwt(OFFICIAL_JWT, now=IAT, audiences=None).aud == AUD

    @pytest.mark.parametrize(
        ("claims", "name"),
        [
            ({"iat": "1656910097"}, "iat"),
            ({"exp": True}, "exp"),
            ({"iss": None}, "iss"),
            ({"aud": 5}, "aud"),
            ({"exp": 1.5}, "exp"),
        ],
    )
    def test_claim_of_wrong_type_rejected(self, claims: dict, name: str) -> None:
        with pytest.raises(InvalidJwt, match=f"claim '{name}' missing or not a"):
            relay_auth.verify_jwt(signed_jwt(**claims), now=IAT)

    def test_payload_not_object_rejected(self) -> None:
        token = _segment(relay_auth.JWT_HEADER) + "." + _segment([1, 2]) + ".AAAA"
        with pytest.raises(InvalidJwt, match="payload must be an object"):
            relay_auth.verify_jwt(token, now=IAT)

    @pytest.mark.parametrize(
        ("token", "message"),
        [
            ("", "three base64url parts"),
            ("abc", "three base64url parts"),
            ("a.b", "three base64url parts"),
            ("a.b.c.d", "three base64url parts"),
            ("a" * 4000 + ".." + "a" * 200, "three base64url parts"),
            ("..", "not base64url JSON"),
            ("e30.e30.$$$", "not base64url JSON"),
            ("!!.e30.AAAA", "not base64url JSON"),
            ("bm90IGpzb24.e30.AAAA", "not base64url JSON"),
            ("é.e30.AAAA", "not base64url JSON"),
        ],
    )
    def test_garbage_rejected(self, token: str, message: str) -> None:
        with pytest.raises(InvalidJwt, match=message):
            relay_auth.verify_jwt(token, now=IAT)

    def test_non_string_rejected(self) -> None:
        with pytest.raises(InvalidJwt, match="three base64url parts"):
            relay_auth.verify_jwt(OFFICIAL_JWT.encode(), now=IAT)  # type: ignore[arg-type]

    def test_bad_seed_length(self) -> None:
        with pytest.raises(InvalidKey, match="seed must be 32 bytes"):
            relay_auth.RelayIdentity(bytes(31))


# =========================================================================================
# client-to-client JSON-RPC
# =========================================================================================


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


# =========================================================================================
# namespaces
# =========================================================================================

REQUIRED = {"eip155": {"chains": ["eip155:1"], "methods": ["personal_sign"], "events": ["chainChanged"]}}
SESSION = {
    "eip155": {
        "accounts": [
            "eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb",
            "eip155:137:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb",
        ],
        "methods": ["personal_sign", "eth_sendTransaction"],
        "events": ["chainChanged", "accountsChanged"],
    }
}


def ns_with(**changes: object) -> dict:
    """REQUIRED's eip155 namespace with some fields replaced."""
    return {"eip155": {**REQUIRED["eip155"], **changes}}


class TestNamespaces:
    """A dapp asking for malformed or unsatisfiable namespaces gets the SDK error code it expects."""

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("eip155:1", True),
            ("cosmos:cosmoshub-4", True),
            ("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", True),
            ("eip155", False),
            ("eip155:", False),
            (":1", False),
            ("eip155:1:0xab", False),
            ("", False),
            ("   ", False),
            (None, False),
            (1, False),
        ],
    )
    def test_is_chain_id(self, value: object, expected: bool) -> None:
        assert namespaces.is_chain_id(value) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb", True),
            ("cosmos:cosmoshub-4:cosmos1abc", True),
            ("eip155:1", False),
            ("eip155:1:", False),
            ("eip155::0xab", False),
            ("eip155:1:0xab:extra", False),
            ("", False),
            (None, False),
            (["eip155:1:0xab"], False),
        ],
    )
    def test_is_account_id(self, value: object, expected: bool) -> None:
        assert namespaces.is_account_id(value) is expected

    def test_valid_proposal_returned_unchanged(self) -> None:
        assert namespaces.validate_proposal_namespaces(REQUIRED) is REQUIRED

    def test_inline_chain_key_accepted(self) -> None:
        inline = {"eip155:1": {"methods": ["personal_sign"], "events": ["chainChanged"]}}
        assert namespaces.validate_proposal_namespaces(inline) == inline
        assert namespaces.requested_chains("eip155:1", inline["eip155:1"]) == ["eip155:1"]

    def test_empty_proposal_is_allowed(self) -> None:
        assert namespaces.validate_proposal_namespaces({}) == {}

    @pytest.mark.parametrize(
        ("proposal", "message"),
        [
            (ns_with(chains=[]), "requiredNamespaces.eip155.chains must not be empty"),
            (ns_with(chains=["cosmos:cosmoshub-4"]), "'cosmos:cosmoshub-4' is not a chain of namespace 'eip155'"),
            (ns_with(chains=["eip155"]), "'eip155' is not a chain of namespace 'eip155'"),
            ({"eip155": {"methods": [], "events": []}}, "requiredNamespaces.eip155.chains must be a list"),
            (ns_with(methods="personal_sign"), "requiredNamespaces.eip155.methods must be a list of non-blank strings"),
            (ns_with(methods=[""]), "requiredNamespaces.eip155.methods must be a list"),
            (ns_with(events=None), "requiredNamespaces.eip155.events must be a list"),
            ({"eip155": []}, "requiredNamespaces.eip155 must be an object"),
            ({"eip155:": {"methods": [], "events": []}}, "is not a CAIP-2 chain id"),
            (
                {"eip155:1": {"chains": ["eip155:5"], "methods": [], "events": []}},
                "inline chain key must not list other chains",
            ),
            ([], "requiredNamespaces must be an object"),
        ],
        ids=[
            "empty-chains",
            "other-namespace",
            "bare-namespace",
            "no-chains",
            "methods-str",
            "blank-method",
            "events-none",
            "ns-list",
            "bad-inline",
            "inline-others",
            "not-object",
        ],
    )
    def test_invalid_proposal(self, proposal: object, message: str) -> None:
        with pytest.raises(InvalidNamespaces, match=message) as info:
            namespaces.validate_proposal_namespaces(proposal)
        assert info.value.sdk_code == 5

    def test_invalid_proposal_label_is_used(self) -> None:
        with pytest.raises(InvalidNamespaces, match="optionalNamespaces.eip155.chains must not be empty"):
            namespaces.validate_proposal_namespaces(ns_with(chains=[]), "optionalNamespaces")

    def test_valid_session_namespaces(self) -> None:
        assert namespaces.validate_session_namespaces(SESSION) is SESSION

    @pytest.mark.parametrize(
        ("session", "message"),
        [
            ({}, "namespaces must be a non-empty object"),
            (
                {"eip155": {**SESSION["eip155"], "accounts": ["eip155:1"]}},
                "'eip155:1' is not a CAIP-10 account of 'eip155'",
            ),
            (
                {"eip155": {**SESSION["eip155"], "accounts": ["cosmos:cosmoshub-4:abc"]}},
                "is not a CAIP-10 account of 'eip155'",
            ),
            ({"eip155": {**SESSION["eip155"], "chains": ["eip155"]}}, "'eip155' is not a CAIP-2 chain id"),
            ({"eip155": {**SESSION["eip155"], "methods": None}}, "namespaces.eip155.methods must be a list"),
        ],
        ids=["empty", "short-account", "foreign-account", "bad-chain", "methods-none"],
    )
    def test_invalid_session_namespaces(self, session: object, message: str) -> None:
        with pytest.raises(InvalidNamespaces, match=message) as info:
            namespaces.validate_session_namespaces(session)
        assert info.value.sdk_code == 5

    def test_require_conforming_subset_ok(self) -> None:
        assert namespaces.require_conforming(REQUIRED, SESSION) is None
        assert (
            namespaces.require_conforming({"eip155:137": {"methods": ["eth_sendTransaction"], "events": []}}, SESSION)
            is None
        )

    @pytest.mark.parametrize(
        ("required", "message"),
        [
            (ns_with(chains=["eip155:1", "eip155:10"]), r"required chains not approved: \['eip155:10'\]"),
            (
                ns_with(methods=["personal_sign", "eth_signTypedData_v4"]),
                r"required methods not approved: \['eth_signTypedData_v4'\]",
            ),
            (ns_with(events=["chainChanged", "disconnect"]), r"required events not approved: \['disconnect'\]"),
            (
                {"cosmos": {"chains": ["cosmos:cosmoshub-4"], "methods": [], "events": []}},
                "required namespace 'cosmos' was not approved",
            ),
            ({"eip155:10": {"methods": [], "events": []}}, r"required chains not approved: \['eip155:10'\]"),
        ],
        ids=["missing-chain", "missing-method", "missing-event", "missing-namespace", "missing-inline-chain"],
    )
    def test_require_conforming_rejects(self, required: dict, message: str) -> None:
        with pytest.raises(InvalidNamespaces, match=message) as info:
            namespaces.require_conforming(required, SESSION)
        assert info.value.sdk_code == 9

    def test_require_in_scope_ok(self) -> None:
        assert namespaces.require_in_scope(SESSION, "eip155:137", "eth_sendTransaction") is None

    def test_require_in_scope_wrong_chain(self) -> None:
        with pytest.raises(OutOfScope, match="chain 'eip155:10' is not in this session") as info:
            namespaces.require_in_scope(SESSION, "eip155:10", "personal_sign")
        assert info.value.sdk_code == 5100

    def test_require_in_scope_wrong_method(self) -> None:
        with pytest.raises(OutOfScope, match="method 'eth_sign' is not allowed on eip155:1") as info:
            namespaces.require_in_scope(SESSION, "eip155:1", "eth_sign")
        assert info.value.sdk_code == 3001

    def test_require_in_scope_malformed_chain(self) -> None:
        with pytest.raises(OutOfScope) as info:
            namespaces.require_in_scope(SESSION, None, "personal_sign")
        assert info.value.sdk_code == 5100

    def test_build_approved_namespaces_happy_path(self) -> None:
        optional = {
            "eip155": {
                "chains": ["eip155:137", "eip155:10"],
                "methods": ["eth_signTypedData_v4", "wallet_addEthereumChain"],
                "events": ["accountsChanged"],
            }
        }
        accounts = ["eip155:1:0xab", "eip155:137:0xab", "cosmos:cosmoshub-4:cosmos1x"]
        approved = namespaces.build_approved_namespaces(
            REQUIRED,
            optional,
            accounts=accounts,
            methods=["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"],
            events=["chainChanged", "accountsChanged"],
        )
        assert approved == {
            "eip155": {
                "chains": ["eip155:1", "eip155:137"],
                "accounts": ["eip155:1:0xab", "eip155:137:0xab"],
                "methods": ["personal_sign", "eth_signTypedData_v4"],
                "events": ["chainChanged", "accountsChanged"],
            }
        }
        # What we grant must satisfy what was required, and be a valid session.
        namespaces.require_conforming(REQUIRED, approved)
        namespaces.validate_session_namespaces(approved)

    def test_build_approved_namespaces_unsupported_required_method(self) -> None:
        with pytest.raises(InvalidNamespaces, match=r"required methods unsupported: \['personal_sign'\]") as info:
            namespaces.build_approved_namespaces(
                REQUIRED, {}, accounts=["eip155:1:0xab"], methods=["eth_sign"], events=["chainChanged"]
            )
        assert (info.value.sdk_code, info.value.by) == (5101, "caller")

    def test_build_approved_namespaces_required_chain_without_account(self) -> None:
        with pytest.raises(InvalidNamespaces, match="required chain eip155:1 has no account") as info:
            namespaces.build_approved_namespaces(
                REQUIRED, {}, accounts=["eip155:137:0xab"], methods=["personal_sign"], events=["chainChanged"]
            )
        assert info.value.sdk_code == 5100


# =========================================================================================
# relay RPC frames
# =========================================================================================

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
