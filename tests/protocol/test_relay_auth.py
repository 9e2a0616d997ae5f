"""Bad relay-auth JWTs: the right error class, and a message that says what was wrong.

Each parser must turn bad input into one specific ``WalletsyncError`` subclass whose text
says what was wrong; otherwise a user (or a misbehaving peer or relay) gets a traceback, a
vague message, or silently wrong behaviour.
"""

from __future__ import annotations

import json

import pytest

from walletsync.protocol import crypto, relay_auth
from walletsync.protocol.errors import (
    InvalidJwt,
    InvalidKey,
)

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
