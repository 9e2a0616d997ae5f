"""Linking: how a new device joins the group, as two pure state machines (docs/SYNC.md, "Linking").

The **member** (already in the group) shows a link URI (:mod:`walletsync.sync.link_uri`); the
**joiner** (the new device) scans it. Both then talk on the link topic, every message sealed with the
link key (XChaCha20-Poly1305, a fresh random nonce each) so the relay learns nothing::

    joiner → commit   sha256(joiner ephemeral X25519 public ‖ 32-byte nonce), the joiner's device
    member → offer    the member's ephemeral X25519 public key and device
    joiner → reveal   the joiner's ephemeral key and nonce; the member checks them against the commit
    both:             shared = X25519, transcript = sha256 over commit, offer and reveal,
                      code = 6 digits of HKDF(shared, transcript): the users compare "123 456"
    joiner → confirm  "yes", sealed under a key only the two X25519 ends can derive
    member → welcome  once the member's user said yes too: the payload (membership entries, the
                      data key, a snapshot; opaque here), sealed under another such key, in parts

Why the commit: anyone who saw the QR knows the link key and can sit in the middle with its own
X25519 keys. It then holds two shared secrets and the two sides show two codes. To make them match
it would have to choose its key towards the member after seeing the member's key, but the joiner's
commitment (and its own, towards the member) fixes that key first: one guess in a million.

A machine never reads a clock or a random source of its own: ``now`` and ``random`` come in, as in
``protocol/``. Every call returns a :class:`LinkStep` (messages to publish on the link topic, and
at most one event to show); a message that cannot be used raises a :class:`LinkError` subclass
and leaves the machine as it was, so the service can audit it and keep listening. The messages a
side sends itself (the relay may echo them) and a refusal meant for another joiner are ignored.
A link ends linked, refused or expired; after its expiry every call raises :class:`LinkExpired`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from nacl import bindings
from nacl.exceptions import CryptoError

from walletsync.protocol.crypto import KEY_BYTES, Random, X25519KeyPair, hkdf_sha256, shared_secret
from walletsync.protocol.errors import InvalidKey
from walletsync.sync.ids import device_id, is_device_id
from walletsync.sync.link_uri import (
    LINK_LIFETIME,
    LINK_VERSION,
    MAX_LINK_URI_CHARS,
    LinkError,
    LinkExpired,
    LinkMalformed,
    LinkOversized,
    LinkUnsupported,
    LinkUri,
    link_key,
    link_topic,
    parse_link_uri,
)

WIRE_VERSION = 1
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
TAG_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
MAX_BODY_BYTES = 2048
"""A commit, offer, reveal, confirm or refusal is a few hundred bytes; nothing longer is one."""
MAX_WELCOME_BYTES = 8 * 1024 * 1024
WELCOME_PART_BYTES = 64 * 1024
"""The welcome travels in parts so each relay message stays well under the relay's size limit."""
MAX_WELCOME_PARTS = MAX_WELCOME_BYTES // WELCOME_PART_BYTES
MAX_NAME_CHARS = 128
_PART_HEAD_BYTES = 4
MAX_MESSAGE_BYTES = 1 + NONCE_BYTES + TAG_BYTES + 1 + _PART_HEAD_BYTES + NONCE_BYTES + TAG_BYTES + WELCOME_PART_BYTES
_MIN_MESSAGE_BYTES = 1 + NONCE_BYTES + TAG_BYTES + 1
_HEADER = bytes([WIRE_VERSION])

COMMIT, OFFER, REVEAL, CONFIRM, WELCOME, REFUSED = 1, 2, 3, 4, 5, 6
_KIND_NAMES = {
    COMMIT: "commit",
    OFFER: "offer",
    REVEAL: "reveal",
    CONFIRM: "confirm",
    WELCOME: "welcome",
    REFUSED: "refusal",
}
_CONFIRMED = b"walletsync link confirmed v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

Role = Literal["member", "joiner"]
MemberState = Literal["waiting", "offered", "comparing", "linked", "refused", "expired"]
JoinerState = Literal["new", "committed", "comparing", "confirmed", "linked", "refused", "in_use", "expired"]


# --- errors (the URI's own are in link_uri) --------------------------------------------------


class LinkUndecryptable(LinkError):
    """A message that does not open with the key it must have been sealed with (or was altered)."""

    code = "link_undecryptable"


class LinkOutOfOrder(LinkError):
    """A message or a call the link's state does not allow now (e.g. a welcome before both confirmed)."""

    code = "link_out_of_order"


class LinkDuplicate(LinkOutOfOrder):
    """A message the link already took (the relay delivered it twice, or someone replays it)."""

    code = "link_duplicate"


class LinkInUse(LinkError):
    """Another device was first to use this link: each link adds one device."""

    code = "link_in_use"


class LinkCommitmentMismatch(LinkError):
    """A reveal whose key and nonce do not hash to the joiner's commitment."""

    code = "link_commitment_mismatch"


class LinkRefused(LinkError):
    """The other device's user refused the link (the codes did not match)."""

    code = "link_refused"


# --- devices, events, steps ------------------------------------------------------------------


@dataclass(frozen=True)
class LinkDevice:
    """The public card a device sends while linking; its ``id`` is derived from ``signing_public``.

    What the other side claims here is only what it says until the users compared the codes.
    """

    id: str
    signing_public: bytes
    exchange_public: bytes
    name: str

    def __post_init__(self) -> None:
        for key in (self.signing_public, self.exchange_public):
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise LinkMalformed(f"a device's public keys are {KEY_BYTES} bytes")
        if not is_device_id(self.id) or self.id != device_id(self.signing_public):
            raise LinkMalformed("a device's id must be derived from its signing key")
        if not isinstance(self.name, str) or not 0 < len(self.name) <= MAX_NAME_CHARS:
            raise LinkMalformed(f"a device's name is 1 to {MAX_NAME_CHARS} characters")
        if any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in self.name):
            raise LinkMalformed("a device's name holds control or invisible characters")

    @classmethod
    def of(cls, signing_public: bytes, exchange_public: bytes, name: str) -> LinkDevice:
        """The card of a device from its public keys and name (the id follows from the signing key)."""
        if not isinstance(signing_public, bytes) or len(signing_public) != KEY_BYTES:
            raise LinkMalformed(f"a device's public keys are {KEY_BYTES} bytes")
        return cls(device_id(signing_public), signing_public, exchange_public, name)

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "signing": self.signing_public.hex(),
            "exchange": self.exchange_public.hex(),
            "name": self.name,
        }

    @classmethod
    def from_json(cls, value: object) -> LinkDevice:
        fields = _fields(value, {"id", "signing", "exchange", "name"}, "device")
        return cls(fields["id"], _hex32(fields["signing"]), _hex32(fields["exchange"]), fields["name"])


@dataclass(frozen=True)
class LinkEvent:
    """Base of what a link reports for the service to show or audit."""


@dataclass(frozen=True)
class Joining(LinkEvent):
    """Member: a device committed to the link; the code follows its reveal."""

    device: LinkDevice


@dataclass(frozen=True)
class CodeReady(LinkEvent):
    """Both: the code to show (``"123 456"``) and the device on the other side, for the user to compare."""

    code: str
    device: LinkDevice


@dataclass(frozen=True)
class JoinerConfirmed(LinkEvent):
    """Member: the joiner's user said the codes match; the member's user has not yet."""

    device: LinkDevice


@dataclass(frozen=True)
class ReadyToWelcome(LinkEvent):
    """Member: both users said yes; build the payload (with the new ``add`` entry) and call ``welcome``."""

    device: LinkDevice


@dataclass(frozen=True)
class Linked(LinkEvent):
    """Both: the link is done. The joiner gets the member's ``payload`` (holds the data key: never printed)."""

    device: LinkDevice
    payload: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class SomeoneElseTried(LinkEvent):
    """Member: a second device used the link (someone else saw the QR); it was refused. Audit it.

    ``device`` is what that device claimed to be.
    """

    device: LinkDevice


@dataclass(frozen=True)
class LinkStep:
    """What one call produced: messages to publish on the link topic, in order, and what to show."""

    send: tuple[bytes, ...] = ()
    event: LinkEvent | None = None


# --- the wire --------------------------------------------------------------------------------
# message = version (1) ‖ nonce (24) ‖ XChaCha20-Poly1305(link key, kind (1) ‖ body, aad = version)


def _take(random: Random, n: int) -> bytes:
    data = random(n)
    if not isinstance(data, bytes) or len(data) != n:
        raise LinkError(f"the random source gave something else than {n} bytes")
    return data


def _seal(key: bytes, kind: int, body: bytes, random: Random) -> bytes:
    nonce = _take(random, NONCE_BYTES)
    sealed = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(bytes([kind]) + body, _HEADER, nonce, key)
    return _HEADER + nonce + sealed


def open_message(key: bytes, message: object) -> tuple[int, bytes]:
    """A message's kind and body; :class:`LinkError` for anything truncated, oversized or not sealed by ``key``."""
    if not isinstance(message, (bytes, bytearray)):
        raise LinkMalformed("a link message is bytes")
    if len(message) > MAX_MESSAGE_BYTES:
        raise LinkOversized(f"a link message is at most {MAX_MESSAGE_BYTES} bytes, got {len(message)}")
    if len(message) < _MIN_MESSAGE_BYTES:
        raise LinkMalformed(f"a link message of {len(message)} bytes is truncated")
    if message[0] != WIRE_VERSION:
        raise LinkUnsupported(f"a link message of version {message[0]}; this walletsync speaks {WIRE_VERSION}")
    nonce = bytes(message[1 : 1 + NONCE_BYTES])
    try:
        plain = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            bytes(message[1 + NONCE_BYTES :]), _HEADER, nonce, key
        )
    except CryptoError:
        raise LinkUndecryptable("a link message that does not open with this link's key") from None
    kind, body = plain[0], plain[1:]
    if kind not in _KIND_NAMES:
        raise LinkMalformed("a link message of an unknown kind")
    if kind != WELCOME and len(body) > MAX_BODY_BYTES:
        raise LinkOversized(f"a link {_KIND_NAMES[kind]} is at most {MAX_BODY_BYTES} bytes")
    return kind, body


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise ValueError("repeated key")
    return value


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


def _read_json(body: bytes, keys: set[str], what: str) -> dict[str, Any]:
    """A canonical JSON object with exactly ``keys``: one spelling per message, as the transcript hashes it."""
    try:
        value = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicate_keys, parse_constant=_not_json)
        fields = _fields(value, keys, what)
        canonical = _canonical(fields) == body
    except (ValueError, RecursionError, UnicodeError):
        raise LinkMalformed(f"a link {what} that is not the JSON it must be") from None
    if not canonical:
        raise LinkMalformed(f"a link {what} that is not in canonical JSON")
    return fields


def _fields(value: object, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        raise LinkMalformed(f"a link {what} must have exactly the fields {', '.join(sorted(keys))}")
    return value


def _hex32(value: object) -> bytes:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise LinkMalformed("a key or hash in a link message is 64 lowercase hex digits")
    return bytes.fromhex(value)


def _commitment_of(public_key: bytes, nonce: bytes) -> bytes:
    return hashlib.sha256(public_key + nonce).digest()


def _read_commit(body: bytes) -> tuple[bytes, LinkDevice]:
    fields = _read_json(body, {"commitment", "device"}, "commit")
    return _hex32(fields["commitment"]), LinkDevice.from_json(fields["device"])


def _read_offer(body: bytes) -> tuple[bytes, LinkDevice, bytes]:
    fields = _read_json(body, {"commitment", "device", "key"}, "offer")
    return _hex32(fields["commitment"]), LinkDevice.from_json(fields["device"]), _hex32(fields["key"])


def _read_reveal(body: bytes) -> tuple[bytes, bytes]:
    fields = _read_json(body, {"key", "nonce"}, "reveal")
    return _hex32(fields["key"]), _hex32(fields["nonce"])


@dataclass(frozen=True)
class _Refusal:
    by: Role
    commitment: bytes | None
    in_use: bool


def _refusal_body(by: Role, commitment: bytes | None, *, in_use: bool = False) -> bytes:
    return _canonical(
        {"by": by, "commitment": commitment.hex() if commitment else None, "reason": "in_use" if in_use else "refused"}
    )


def _read_refusal(body: bytes) -> _Refusal:
    fields = _read_json(body, {"by", "commitment", "reason"}, "refusal")
    by, reason = fields["by"], fields["reason"]
    if by not in ("member", "joiner") or reason not in ("refused", "in_use"):
        raise LinkMalformed("a link refusal names an unknown side or reason")
    commitment = None if fields["commitment"] is None else _hex32(fields["commitment"])
    return _Refusal(by, commitment, reason == "in_use")


# --- what the two ends agree on --------------------------------------------------------------


@dataclass(frozen=True)
class _Agreement:
    """The code and the keys both ends derive from the X25519 secret and the transcript (never printed)."""

    code: str = field(repr=False)
    transcript: bytes = field(repr=False)
    confirm_key: bytes = field(repr=False)
    welcome_key: bytes = field(repr=False)


def _agree(
    private_key: bytes, peer_public: bytes, topic: str, commit: bytes, offer: bytes, reveal: bytes
) -> _Agreement:
    try:
        shared = shared_secret(private_key, peer_public)
    except InvalidKey:
        raise LinkMalformed("the other device's key is a degenerate X25519 point") from None
    digest = hashlib.sha256(b"walletsync link transcript v1\0" + bytes.fromhex(topic))
    for part in (commit, offer, reveal):
        digest.update(len(part).to_bytes(4, "big") + part)
    transcript = digest.digest()
    number = int.from_bytes(hkdf_sha256(shared, 8, info=b"walletsync link code v1", salt=transcript), "big")
    digits = f"{number % 10**6:06d}"
    return _Agreement(
        code=f"{digits[:3]} {digits[3:]}",
        transcript=transcript,
        confirm_key=hkdf_sha256(shared, info=b"walletsync link confirm v1", salt=transcript),
        welcome_key=hkdf_sha256(shared, info=b"walletsync link welcome v1", salt=transcript),
    )


def _seal_inner(key: bytes, plaintext: bytes, aad: bytes, random: Random) -> bytes:
    nonce = _take(random, NONCE_BYTES)
    return nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def _open_inner(key: bytes, sealed: bytes, aad: bytes, what: str) -> bytes:
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise LinkMalformed(f"a link {what} that is truncated")
    try:
        return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed[NONCE_BYTES:], aad, sealed[:NONCE_BYTES], key)
    except CryptoError:
        raise LinkUndecryptable(f"a link {what} not sealed by the device this link agreed with") from None


def _welcome_bodies(agreed: _Agreement, payload: bytes, random: Random) -> list[bytes]:
    chunks = [payload[i : i + WELCOME_PART_BYTES] for i in range(0, len(payload), WELCOME_PART_BYTES)] or [b""]
    bodies = []
    for index, chunk in enumerate(chunks):
        head = index.to_bytes(2, "big") + len(chunks).to_bytes(2, "big")
        bodies.append(head + _seal_inner(agreed.welcome_key, chunk, agreed.transcript + head, random))
    return bodies


def _open_welcome(agreed: _Agreement, body: bytes) -> tuple[int, int, bytes]:
    if len(body) < _PART_HEAD_BYTES:
        raise LinkMalformed("a link welcome that is truncated")
    head = body[:_PART_HEAD_BYTES]
    index, count = int.from_bytes(head[:2], "big"), int.from_bytes(head[2:], "big")
    if not index < count <= MAX_WELCOME_PARTS:
        raise LinkMalformed(f"a link welcome part {index} of {count} (at most {MAX_WELCOME_PARTS} parts)")
    chunk = _open_inner(agreed.welcome_key, body[_PART_HEAD_BYTES:], agreed.transcript + head, "welcome")
    return index, count, chunk


@dataclass(frozen=True)
class _Taken:
    """The member's record of the commit it answered, and what it answered with."""

    commitment: bytes
    commit_body: bytes
    joiner: LinkDevice
    ephemeral: X25519KeyPair = field(repr=False)
    offer_body: bytes


@dataclass(frozen=True)
class _Committed:
    """The joiner's commit: the key and nonce it reveals after the member's offer."""

    commitment: bytes
    body: bytes
    ephemeral: X25519KeyPair = field(repr=False)
    nonce: bytes = field(repr=False)


# --- the member ------------------------------------------------------------------------------


class MemberLink:
    """The member's side: shows the link, answers the first commit, welcomes after both said yes."""

    def __init__(self, uri: LinkUri, me: LinkDevice, random: Random) -> None:
        self.uri = uri
        self.me = me
        self._random = random
        self._key = link_key(uri.secret)
        self._topic = link_topic(uri.secret)
        self._state: MemberState = "waiting"
        self._taken: _Taken | None = None
        self._reveal_body = b""
        self._agreed: _Agreement | None = None
        self._member_confirmed = False
        self._joiner_confirmed = False

    @classmethod
    def create(
        cls,
        me: LinkDevice,
        random: Random,
        relay: str,
        now: float,
        *,
        project: str | None = None,
        lifetime: int = LINK_LIFETIME,
    ) -> MemberLink:
        """A new link with a fresh secret; show ``link.uri.format()`` (and its QR) to the user."""
        return cls(LinkUri.create(random, relay, now, project=project, lifetime=lifetime), me, random)

    def __repr__(self) -> str:
        return f"MemberLink(topic={self._topic[:12]}…, state={self._state!r})"

    @property
    def topic(self) -> str:
        return self._topic

    @property
    def state(self) -> MemberState:
        return self._state

    @property
    def joiner(self) -> LinkDevice | None:
        return self._taken.joiner if self._taken else None

    @property
    def code(self) -> str | None:
        return self._agreed.code if self._agreed else None

    @property
    def finished(self) -> bool:
        return self._state in ("linked", "refused", "expired")

    def _check(self, now: float) -> None:
        if self.uri.is_expired(now):
            if self._state not in ("linked", "refused"):
                self._state = "expired"
            raise LinkExpired("the link expired: show a new one")
        if self._state == "expired":
            raise LinkExpired("the link expired: show a new one")

    def _require_open(self) -> None:
        if self._state == "refused":
            raise LinkRefused("the link was refused")
        if self._state == "linked":
            raise LinkOutOfOrder("the link is done: the device is linked")

    def _seal(self, kind: int, body: bytes) -> bytes:
        return _seal(self._key, kind, body, self._random)

    def receive(self, message: bytes, now: float) -> LinkStep:
        """Take one message from the link topic."""
        self._check(now)
        kind, body = open_message(self._key, message)
        if kind in (OFFER, WELCOME):
            return LinkStep()  # ours, echoed
        if kind == REFUSED:
            return self._on_refusal(_read_refusal(body))
        if kind == COMMIT:
            return self._on_commit(body)
        self._require_open()
        if kind == REVEAL:
            return self._on_reveal(body)
        return self._on_confirm(body)

    def _on_commit(self, body: bytes) -> LinkStep:
        commitment, device = _read_commit(body)
        if self._taken is not None:
            if hmac.compare_digest(commitment, self._taken.commitment):
                raise LinkDuplicate("this device's commit was already taken")
            refusal = self._seal(REFUSED, _refusal_body("member", commitment, in_use=True))
            return LinkStep((refusal,), SomeoneElseTried(device))
        self._require_open()
        if device.id == self.me.id:
            raise LinkMalformed("a device cannot link to itself")
        ephemeral = X25519KeyPair.generate(self._random)
        offer_body = _canonical(
            {"commitment": commitment.hex(), "device": self.me.to_json(), "key": ephemeral.public_key.hex()}
        )
        offer = self._seal(OFFER, offer_body)
        self._taken, self._state = _Taken(commitment, body, device, ephemeral, offer_body), "offered"
        return LinkStep((offer,), Joining(device))

    def _on_reveal(self, body: bytes) -> LinkStep:
        taken = self._taken
        if self._state != "offered" or taken is None:
            if self._reveal_body and body == self._reveal_body:
                raise LinkDuplicate("the joiner's reveal was already taken")
            raise LinkOutOfOrder(f"a reveal while the link is {self._state}")
        public_key, nonce = _read_reveal(body)
        if not hmac.compare_digest(_commitment_of(public_key, nonce), taken.commitment):
            raise LinkCommitmentMismatch("the joiner revealed a key it had not committed to")
        agreed = _agree(taken.ephemeral.private_key, public_key, self._topic, taken.commit_body, taken.offer_body, body)
        self._reveal_body, self._agreed, self._state = body, agreed, "comparing"
        return LinkStep(event=CodeReady(agreed.code, taken.joiner))

    def _on_confirm(self, body: bytes) -> LinkStep:
        taken, agreed = self._taken, self._agreed
        if self._state != "comparing" or taken is None or agreed is None:
            raise LinkOutOfOrder(f"a confirmation while the link is {self._state}")
        if self._joiner_confirmed:
            raise LinkDuplicate("the joiner's confirmation was already taken")
        said = _open_inner(agreed.confirm_key, body, agreed.transcript, "confirmation")
        if not hmac.compare_digest(said, _CONFIRMED):
            raise LinkMalformed("a link confirmation that does not say yes")
        self._joiner_confirmed = True
        if self._member_confirmed:
            return LinkStep(event=ReadyToWelcome(taken.joiner))
        return LinkStep(event=JoinerConfirmed(taken.joiner))

    def _on_refusal(self, refusal: _Refusal) -> LinkStep:
        if refusal.by == "member" or self._taken is None or refusal.commitment != self._taken.commitment:
            return LinkStep()  # ours echoed, or from a joiner this link never took
        self._require_open()
        self._state = "refused"
        raise LinkRefused("the joining device refused the link (its user said the codes differ)")

    def confirm(self, now: float) -> LinkStep:
        """This device's user said the codes match."""
        self._check(now)
        self._require_open()
        if self._state != "comparing" or self._taken is None:
            raise LinkOutOfOrder("there is no code to confirm yet")
        if self._member_confirmed:
            raise LinkOutOfOrder("this device already confirmed the code")
        self._member_confirmed = True
        return LinkStep(event=ReadyToWelcome(self._taken.joiner)) if self._joiner_confirmed else LinkStep()

    def welcome(self, payload: bytes, now: float) -> LinkStep:
        """Send the group's state to the joiner: only once both users confirmed the code."""
        self._check(now)
        self._require_open()
        taken, agreed = self._taken, self._agreed
        both = self._member_confirmed and self._joiner_confirmed
        if self._state != "comparing" or taken is None or agreed is None or not both:
            raise LinkOutOfOrder("the welcome waits for both devices to confirm the code")
        if not isinstance(payload, bytes):
            raise LinkMalformed("a welcome payload is bytes")
        if len(payload) > MAX_WELCOME_BYTES:
            raise LinkOversized(f"a welcome payload is at most {MAX_WELCOME_BYTES} bytes, got {len(payload)}")
        messages = tuple(self._seal(WELCOME, body) for body in _welcome_bodies(agreed, payload, self._random))
        self._state = "linked"
        return LinkStep(messages, Linked(taken.joiner))

    def refuse(self, now: float) -> LinkStep:
        """This device's user said the codes differ (or cancelled): tell the joiner, end the link."""
        self._check(now)
        self._require_open()
        message = self._seal(REFUSED, _refusal_body("member", self._taken.commitment if self._taken else None))
        self._state = "refused"
        return LinkStep((message,))


# --- the joiner ------------------------------------------------------------------------------


class JoinerLink:
    """The new device's side: commits, reveals, confirms, and takes the welcome."""

    def __init__(self, uri: LinkUri, me: LinkDevice, random: Random) -> None:
        self.uri = uri
        self.me = me
        self._random = random
        self._key = link_key(uri.secret)
        self._topic = link_topic(uri.secret)
        self._state: JoinerState = "new"
        self._committed: _Committed | None = None
        self._offer_body = b""
        self._member: LinkDevice | None = None
        self._agreed: _Agreement | None = None
        self._parts: dict[int, bytes] = {}
        self._part_count = 0

    def __repr__(self) -> str:
        return f"JoinerLink(topic={self._topic[:12]}…, state={self._state!r})"

    @property
    def topic(self) -> str:
        return self._topic

    @property
    def state(self) -> JoinerState:
        return self._state

    @property
    def member(self) -> LinkDevice | None:
        return self._member

    @property
    def code(self) -> str | None:
        return self._agreed.code if self._agreed else None

    @property
    def finished(self) -> bool:
        return self._state in ("linked", "refused", "in_use", "expired")

    def _check(self, now: float) -> None:
        if self.uri.is_expired(now):
            if not self.finished:
                self._state = "expired"
            raise LinkExpired("the link expired: ask the other device for a new one")
        if self._state == "expired":
            raise LinkExpired("the link expired: ask the other device for a new one")

    def _require_open(self) -> None:
        if self._state == "refused":
            raise LinkRefused("the link was refused")
        if self._state == "in_use":
            raise LinkInUse("another device used this link first: ask for a new one")
        if self._state == "linked":
            raise LinkOutOfOrder("the link is done: this device is linked")

    def _seal(self, kind: int, body: bytes) -> bytes:
        return _seal(self._key, kind, body, self._random)

    def commit(self, now: float) -> LinkStep:
        """The first message: commit to an ephemeral key before seeing the member's."""
        self._check(now)
        self._require_open()
        if self._state != "new":
            raise LinkOutOfOrder("this device already committed")
        ephemeral = X25519KeyPair.generate(self._random)
        nonce = _take(self._random, KEY_BYTES)
        commitment = _commitment_of(ephemeral.public_key, nonce)
        body = _canonical({"commitment": commitment.hex(), "device": self.me.to_json()})
        message = self._seal(COMMIT, body)
        self._committed, self._state = _Committed(commitment, body, ephemeral, nonce), "committed"
        return LinkStep((message,))

    def receive(self, message: bytes, now: float) -> LinkStep:
        """Take one message from the link topic."""
        self._check(now)
        kind, body = open_message(self._key, message)
        if kind in (COMMIT, REVEAL, CONFIRM):
            return LinkStep()  # ours echoed, or another joiner's
        if kind == REFUSED:
            return self._on_refusal(_read_refusal(body))
        self._require_open()
        if kind == OFFER:
            return self._on_offer(body)
        return self._on_welcome(body)

    def _on_offer(self, body: bytes) -> LinkStep:
        committed = self._committed
        if self._state != "committed" or committed is None:
            if self._offer_body and body == self._offer_body:
                raise LinkDuplicate("the member's offer was already taken")
            raise LinkOutOfOrder(f"an offer while the link is {self._state}")
        commitment, member, public_key = _read_offer(body)
        if not hmac.compare_digest(commitment, committed.commitment):
            raise LinkOutOfOrder("an offer made to another device's commit")
        ephemeral = committed.ephemeral
        reveal_body = _canonical({"key": ephemeral.public_key.hex(), "nonce": committed.nonce.hex()})
        agreed = _agree(ephemeral.private_key, public_key, self._topic, committed.body, body, reveal_body)
        message = self._seal(REVEAL, reveal_body)
        self._offer_body, self._member, self._agreed, self._state = body, member, agreed, "comparing"
        return LinkStep((message,), CodeReady(agreed.code, member))

    def _on_welcome(self, body: bytes) -> LinkStep:
        agreed, member = self._agreed, self._member
        if self._state != "confirmed" or agreed is None or member is None:
            raise LinkOutOfOrder(f"a welcome while the link is {self._state} (before this device confirmed)")
        index, count, chunk = _open_welcome(agreed, body)
        if self._part_count and count != self._part_count:
            raise LinkMalformed("a welcome part that disagrees with the others on their number")
        if index in self._parts:
            raise LinkDuplicate(f"welcome part {index} was already taken")
        self._parts[index], self._part_count = chunk, count
        if len(self._parts) < count:
            return LinkStep()
        payload = b"".join(self._parts[i] for i in range(count))
        self._parts, self._state = {}, "linked"
        return LinkStep(event=Linked(member, payload))

    def _on_refusal(self, refusal: _Refusal) -> LinkStep:
        committed = self._committed
        if refusal.by == "joiner" or committed is None:
            return LinkStep()  # a joiner's, or from before this device used the link
        if refusal.commitment is not None and refusal.commitment != committed.commitment:
            return LinkStep()  # meant for another joiner
        self._require_open()
        if refusal.in_use:
            self._state = "in_use"
            raise LinkInUse("another device used this link first: ask for a new one")
        self._state = "refused"
        raise LinkRefused("the other device refused the link (its user said the codes differ)")

    def confirm(self, now: float) -> LinkStep:
        """This device's user said the codes match: tell the member, under a key only it shares."""
        self._check(now)
        self._require_open()
        agreed = self._agreed
        if self._state != "comparing" or agreed is None:
            raise LinkOutOfOrder("there is no code to confirm" if self._state == "committed" else "already confirmed")
        body = _seal_inner(agreed.confirm_key, _CONFIRMED, agreed.transcript, self._random)
        message = self._seal(CONFIRM, body)
        self._state = "confirmed"
        return LinkStep((message,))

    def refuse(self, now: float) -> LinkStep:
        """This device's user said the codes differ (or cancelled): tell the member, end the link."""
        self._check(now)
        self._require_open()
        if self._committed is None:
            raise LinkOutOfOrder("nothing to refuse: this device has not used the link")
        message = self._seal(REFUSED, _refusal_body("joiner", self._committed.commitment))
        self._state = "refused"
        return LinkStep((message,))


__all__ = [
    "LINK_LIFETIME",
    "LINK_VERSION",
    "MAX_LINK_URI_CHARS",
    "MAX_MESSAGE_BYTES",
    "MAX_WELCOME_BYTES",
    "CodeReady",
    "JoinerConfirmed",
    "JoinerLink",
    "Joining",
    "LinkCommitmentMismatch",
    "LinkDevice",
    "LinkDuplicate",
    "LinkError",
    "LinkEvent",
    "LinkExpired",
    "LinkInUse",
    "LinkMalformed",
    "LinkOutOfOrder",
    "LinkOversized",
    "LinkRefused",
    "LinkStep",
    "LinkUndecryptable",
    "LinkUnsupported",
    "LinkUri",
    "Linked",
    "MemberLink",
    "ReadyToWelcome",
    "SomeoneElseTried",
    "link_key",
    "link_topic",
    "open_message",
    "parse_link_uri",
]
