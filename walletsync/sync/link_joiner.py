"""The joiner's side of a link: the new device (the handshake: :mod:`walletsync.sync.link`).

It heeds only the refusals addressed to its own commitment (or to none): one the member sent
another joiner leaves it as it was. The welcome's parts may arrive in any order.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Literal

from walletsync.protocol.crypto import KEY_BYTES, Random, X25519KeyPair
from walletsync.sync.link_agreement import Agreement, agree, confirmation, open_welcome
from walletsync.sync.link_outcomes import (
    CodeReady,
    LinkDuplicate,
    Linked,
    LinkInUse,
    LinkOutOfOrder,
    LinkRefused,
    LinkStep,
)
from walletsync.sync.link_uri import LinkExpired, LinkMalformed, LinkUri, link_key, link_topic
from walletsync.sync.link_wire import (
    COMMIT,
    CONFIRM,
    OFFER,
    REFUSED,
    REVEAL,
    LinkDevice,
    Refusal,
    commit_body,
    commitment_of,
    open_message,
    read_offer,
    read_refusal,
    refusal_body,
    reveal_body,
    seal_message,
    take,
)

JoinerState = Literal["new", "committed", "comparing", "confirmed", "linked", "refused", "in_use", "expired"]


@dataclass(frozen=True)
class _Committed:
    """The joiner's commit: the key and nonce it reveals after the member's offer."""

    commitment: bytes
    body: bytes
    ephemeral: X25519KeyPair = field(repr=False)
    nonce: bytes = field(repr=False)


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
        self._agreed: Agreement | None = None
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
        return seal_message(self._key, kind, body, self._random)

    def commit(self, now: float) -> LinkStep:
        """The first message: commit to an ephemeral key before seeing the member's."""
        self._check(now)
        self._require_open()
        if self._state != "new":
            raise LinkOutOfOrder("this device already committed")
        ephemeral = X25519KeyPair.generate(self._random)
        nonce = take(self._random, KEY_BYTES)
        commitment = commitment_of(ephemeral.public_key, nonce)
        body = commit_body(commitment, self.me)
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
            return self._on_refusal(read_refusal(body))
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
        commitment, member, public_key = read_offer(body)
        if not hmac.compare_digest(commitment, committed.commitment):
            # the member answered another device's commit: the link is taken (a second use, or a race)
            self._state = "in_use"
            raise LinkInUse("another device used this link first: ask for a new one")
        ephemeral = committed.ephemeral
        reveal = reveal_body(ephemeral.public_key, committed.nonce)
        agreed = agree(ephemeral.private_key, public_key, self._topic, committed.body, body, reveal)
        message = self._seal(REVEAL, reveal)
        self._offer_body, self._member, self._agreed, self._state = body, member, agreed, "comparing"
        return LinkStep((message,), CodeReady(agreed.code, member))

    def _on_welcome(self, body: bytes) -> LinkStep:
        agreed, member = self._agreed, self._member
        if self._state != "confirmed" or agreed is None or member is None:
            raise LinkOutOfOrder(f"a welcome while the link is {self._state} (before this device confirmed)")
        index, count, chunk = open_welcome(agreed, body)
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

    def _on_refusal(self, refusal: Refusal) -> LinkStep:
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
        message = self._seal(CONFIRM, confirmation(agreed, self._random))
        self._state = "confirmed"
        return LinkStep((message,))

    def refuse(self, now: float) -> LinkStep:
        """This device's user said the codes differ (or cancelled): tell the member, end the link."""
        self._check(now)
        self._require_open()
        if self._committed is None:
            raise LinkOutOfOrder("nothing to refuse: this device has not used the link")
        message = self._seal(REFUSED, refusal_body("joiner", self._committed.commitment))
        self._state = "refused"
        return LinkStep((message,))


__all__ = ["JoinerLink", "JoinerState"]
