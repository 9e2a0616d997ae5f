"""The member's side of a link: the device already in the group (the handshake: :mod:`walletsync.sync.link`).

It answers the first commit only; a later one is told the link is in use, addressed to its
commitment, and reported as :class:`~walletsync.sync.link_outcomes.SomeoneElseTried`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Literal

from walletsync.protocol.crypto import Random, X25519KeyPair
from walletsync.sync.link_agreement import Agreement, agree, check_confirmation, welcome_bodies
from walletsync.sync.link_outcomes import (
    CodeReady,
    JoinerConfirmed,
    Joining,
    LinkCommitmentMismatch,
    LinkDuplicate,
    Linked,
    LinkOutOfOrder,
    LinkRefused,
    LinkStep,
    ReadyToWelcome,
    SomeoneElseTried,
)
from walletsync.sync.link_uri import (
    LINK_LIFETIME,
    LinkExpired,
    LinkMalformed,
    LinkOversized,
    LinkUri,
    link_key,
    link_topic,
)
from walletsync.sync.link_wire import (
    COMMIT,
    MAX_WELCOME_BYTES,
    OFFER,
    REFUSED,
    REVEAL,
    WELCOME,
    LinkDevice,
    Refusal,
    commitment_of,
    offer_body,
    open_message,
    read_commit,
    read_refusal,
    read_reveal,
    refusal_body,
    seal_message,
)

MemberState = Literal["waiting", "offered", "comparing", "linked", "refused", "expired"]


@dataclass(frozen=True)
class _Taken:
    """The member's record of the commit it answered, and what it answered with."""

    commitment: bytes
    commit_body: bytes
    joiner: LinkDevice
    ephemeral: X25519KeyPair = field(repr=False)
    offer_body: bytes


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
        self._agreed: Agreement | None = None
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
        return seal_message(self._key, kind, body, self._random)

    def receive(self, message: bytes, now: float) -> LinkStep:
        """Take one message from the link topic."""
        self._check(now)
        kind, body = open_message(self._key, message)
        if kind in (OFFER, WELCOME):
            return LinkStep()  # ours, echoed
        if kind == REFUSED:
            return self._on_refusal(read_refusal(body))
        if kind == COMMIT:
            return self._on_commit(body)
        self._require_open()
        if kind == REVEAL:
            return self._on_reveal(body)
        return self._on_confirm(body)

    def _on_commit(self, body: bytes) -> LinkStep:
        commitment, device = read_commit(body)
        if self._taken is not None:
            if hmac.compare_digest(commitment, self._taken.commitment):
                raise LinkDuplicate("this device's commit was already taken")
            refusal = self._seal(REFUSED, refusal_body("member", commitment, in_use=True))
            return LinkStep((refusal,), SomeoneElseTried(device))
        self._require_open()
        if device.id == self.me.id:
            raise LinkMalformed("a device cannot link to itself")
        ephemeral = X25519KeyPair.generate(self._random)
        offer = offer_body(commitment, self.me, ephemeral.public_key)
        message = self._seal(OFFER, offer)
        self._taken, self._state = _Taken(commitment, body, device, ephemeral, offer), "offered"
        return LinkStep((message,), Joining(device))

    def _on_reveal(self, body: bytes) -> LinkStep:
        taken = self._taken
        if self._state != "offered" or taken is None:
            if self._reveal_body and body == self._reveal_body:
                raise LinkDuplicate("the joiner's reveal was already taken")
            raise LinkOutOfOrder(f"a reveal while the link is {self._state}")
        public_key, nonce = read_reveal(body)
        if not hmac.compare_digest(commitment_of(public_key, nonce), taken.commitment):
            raise LinkCommitmentMismatch("the joiner revealed a key it had not committed to")
        agreed = agree(taken.ephemeral.private_key, public_key, self._topic, taken.commit_body, taken.offer_body, body)
        self._reveal_body, self._agreed, self._state = body, agreed, "comparing"
        return LinkStep(event=CodeReady(agreed.code, taken.joiner))

    def _on_confirm(self, body: bytes) -> LinkStep:
        taken, agreed = self._taken, self._agreed
        if self._state != "comparing" or taken is None or agreed is None:
            raise LinkOutOfOrder(f"a confirmation while the link is {self._state}")
        if self._joiner_confirmed:
            raise LinkDuplicate("the joiner's confirmation was already taken")
        check_confirmation(agreed, body)
        self._joiner_confirmed = True
        if self._member_confirmed:
            return LinkStep(event=ReadyToWelcome(taken.joiner))
        return LinkStep(event=JoinerConfirmed(taken.joiner))

    def _on_refusal(self, refusal: Refusal) -> LinkStep:
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
        messages = tuple(self._seal(WELCOME, body) for body in welcome_bodies(agreed, payload, self._random))
        self._state = "linked"
        return LinkStep(messages, Linked(taken.joiner))

    def refuse(self, now: float) -> LinkStep:
        """This device's user said the codes differ (or cancelled): tell the joiner, end the link."""
        self._check(now)
        self._require_open()
        message = self._seal(REFUSED, refusal_body("member", self._taken.commitment if self._taken else None))
        self._state = "refused"
        return LinkStep((message,))


__all__ = ["MemberLink", "MemberState"]
