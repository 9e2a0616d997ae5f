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
A link ends linked, refused or expired; its expiry covers the whole handshake, and after it every
call raises :class:`LinkExpired`.

This module is the face the service uses; the parts are :mod:`~walletsync.sync.link_uri` (the URI
and what its secret names), :mod:`~walletsync.sync.link_wire` (the messages' bytes),
:mod:`~walletsync.sync.link_agreement` (the code and the keys of the two ends),
:mod:`~walletsync.sync.link_outcomes` (steps, events, errors), and the two sides,
:mod:`~walletsync.sync.link_member` and :mod:`~walletsync.sync.link_joiner`.
"""

from __future__ import annotations

from walletsync.sync.link_joiner import JoinerLink, JoinerState
from walletsync.sync.link_member import MemberLink, MemberState
from walletsync.sync.link_outcomes import (
    CodeReady,
    JoinerConfirmed,
    Joining,
    LinkCommitmentMismatch,
    LinkDuplicate,
    Linked,
    LinkEvent,
    LinkInUse,
    LinkOutOfOrder,
    LinkRefused,
    LinkStep,
    ReadyToWelcome,
    SomeoneElseTried,
)
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
from walletsync.sync.link_wire import (
    COMMIT,
    CONFIRM,
    MAX_BODY_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_WELCOME_BYTES,
    OFFER,
    REFUSED,
    REVEAL,
    WELCOME,
    WELCOME_PART_BYTES,
    LinkDevice,
    LinkUndecryptable,
    Role,
    open_message,
)

__all__ = [
    "COMMIT",
    "CONFIRM",
    "LINK_LIFETIME",
    "LINK_VERSION",
    "MAX_BODY_BYTES",
    "MAX_LINK_URI_CHARS",
    "MAX_MESSAGE_BYTES",
    "MAX_WELCOME_BYTES",
    "OFFER",
    "REFUSED",
    "REVEAL",
    "WELCOME",
    "WELCOME_PART_BYTES",
    "CodeReady",
    "JoinerConfirmed",
    "JoinerLink",
    "JoinerState",
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
    "MemberState",
    "ReadyToWelcome",
    "Role",
    "SomeoneElseTried",
    "link_key",
    "link_topic",
    "open_message",
    "parse_link_uri",
]
