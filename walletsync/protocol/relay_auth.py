"""Relay identity: the Ed25519 client key, its did:key id and the relay-auth JWT (reference §2, §7.2).

A client proves to the relay that it holds the key behind its ``did:key`` by
signing a short-lived JWT; the relay uses the did:key as the client id (for
acks and "do not echo to the publisher"). ``now`` is always passed in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import base58
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from walletsync.protocol.crypto import b64url_decode, b64url_encode, sha256_hex
from walletsync.protocol.errors import InvalidEnvelope, InvalidJwt, InvalidKey, InvalidMessage
from walletsync.protocol.jsonrpc import loads

DID_KEY_PREFIX = "did:key:z"
ED25519_MULTICODEC = b"\xed\x01"
JWT_HEADER = {"alg": "EdDSA", "typ": "JWT"}
JWT_TTL = 86400
JWT_LEEWAY = 120


@dataclass(frozen=True)
class RelayIdentity:
    """The device's Ed25519 relay key. Holds a secret: never log it; ``repr`` shows the client id only.

    The signing key is expanded from the seed once and kept beside it, for as long as this object
    lives: every relay JWT and audit row is signed with it, and expanding costs as much as signing.
    """

    seed: bytes = field(repr=False)
    client_id: str = field(init=False)
    public_key: bytes = field(init=False, repr=False)
    _signing: SigningKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.seed, (bytes, bytearray)) or len(self.seed) != 32:
            raise InvalidKey("Ed25519 seed must be 32 bytes", by="caller")
        signing = SigningKey(bytes(self.seed))
        object.__setattr__(self, "seed", bytes(self.seed))
        object.__setattr__(self, "_signing", signing)
        object.__setattr__(self, "public_key", bytes(signing.verify_key))
        object.__setattr__(self, "client_id", encode_did_key(self.public_key))

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self._signing.sign(data).signature


def encode_did_key(public_key: bytes) -> str:
    """``did:key:z`` + base58btc(0xED 0x01 ‖ key): the client id the relay sees."""
    if len(public_key) != 32:
        raise InvalidKey("Ed25519 public key must be 32 bytes", by="caller")
    return DID_KEY_PREFIX + base58.b58encode(ED25519_MULTICODEC + public_key).decode("ascii")


def decode_did_key(did: str) -> bytes:
    """The Ed25519 public key inside a did:key id; anything else is an :class:`InvalidJwt`."""
    if not isinstance(did, str) or not did.startswith(DID_KEY_PREFIX):
        raise InvalidJwt(f"issuer must be a did:key, got {str(did)[:24]!r}", by="peer")
    try:
        raw = base58.b58decode(did[len(DID_KEY_PREFIX) :].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidJwt("issuer did:key is not base58btc", by="peer") from None
    if raw[:2] != ED25519_MULTICODEC or len(raw) != 34:
        raise InvalidJwt("issuer did:key is not an Ed25519 key", by="peer")
    return raw[2:]


def subscription_id(topic: str, client_id: str) -> str:
    """sha256(topic + clientId) hex: the id the JS SDK uses for its subscriptions."""
    return sha256_hex((topic + client_id).encode("utf-8"))


def _compact(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def create_jwt(identity: RelayIdentity, *, sub: str, aud: str, iat: int, ttl: int = JWT_TTL) -> str:
    """A relay-auth JWT, byte-identical to the JS ``signJWT`` for the same inputs."""
    payload = {"iss": identity.client_id, "sub": sub, "aud": aud, "iat": int(iat), "exp": int(iat) + int(ttl)}
    signing_input = b64url_encode(_compact(JWT_HEADER)) + "." + b64url_encode(_compact(payload))
    return signing_input + "." + b64url_encode(identity.sign(signing_input.encode("ascii")))


@dataclass(frozen=True)
class JwtClaims:
    iss: str
    sub: str
    aud: str
    iat: int
    exp: int

    @property
    def client_id(self) -> str:
        return self.iss


def verify_jwt(
    token: str,
    *,
    now: float,
    audiences: Iterable[str] | None = None,
    leeway: int = JWT_LEEWAY,
) -> JwtClaims:
    """Check a relay-auth JWT as the Rust relay does; return its claims.

    ``audiences=None`` accepts any ``aud`` (a relay reachable under many URLs);
    otherwise ``aud`` must be one of them. Raises :class:`InvalidJwt` naming the problem.
    """
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 4096:
        raise InvalidJwt("JWT must be three base64url parts separated by dots", by="peer")
    head_b64, payload_b64, sig_b64 = token.split(".")
    try:
        header = loads(b64url_decode(head_b64))
        payload = loads(b64url_decode(payload_b64))
        signature = b64url_decode(sig_b64)
    except (InvalidEnvelope, InvalidMessage, ValueError):
        raise InvalidJwt("JWT parts are not base64url JSON", by="peer") from None
    if not isinstance(header, dict) or header.get("alg") != "EdDSA" or header.get("typ") != "JWT":
        raise InvalidJwt("JWT header must be alg EdDSA, typ JWT", by="peer")
    if not isinstance(payload, dict):
        raise InvalidJwt("JWT payload must be an object", by="peer")
    for name, kind in (("iss", str), ("sub", str), ("aud", str), ("iat", int), ("exp", int)):
        value = payload.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InvalidJwt(f"JWT claim {name!r} missing or not a {kind.__name__}", by="peer")
    public_key = decode_did_key(payload["iss"])
    try:
        VerifyKey(public_key).verify((head_b64 + "." + payload_b64).encode("ascii"), signature)
    except (BadSignatureError, ValueError, TypeError):
        raise InvalidJwt("JWT signature does not match its did:key issuer", by="peer") from None
    if payload["exp"] < now - leeway:
        raise InvalidJwt(f"JWT expired at {payload['exp']}", by="peer")
    if payload["iat"] > now + leeway:
        raise InvalidJwt(f"JWT issued in the future ({payload['iat']})", by="peer")
    if audiences is not None and payload["aud"] not in set(audiences):
        raise InvalidJwt(f"JWT audience {payload['aud']!r} is not this relay", by="peer")
    return JwtClaims(payload["iss"], payload["sub"], payload["aud"], payload["iat"], payload["exp"])
