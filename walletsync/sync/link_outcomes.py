"""What a call on a link hands back: a :class:`LinkStep` (what to publish, what to show) or an error.

The errors here are those of the handshake's state (a message or call out of its turn, a link used
or refused); those of a URI or of a message's bytes are in :mod:`walletsync.sync.link_uri` and
:mod:`walletsync.sync.link_wire`. No event's ``repr`` shows the welcome's payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from walletsync.sync.link_uri import LinkError
from walletsync.sync.link_wire import LinkDevice

# --- errors ----------------------------------------------------------------------------------


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


# --- events, steps ---------------------------------------------------------------------------


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


__all__ = [
    "CodeReady",
    "JoinerConfirmed",
    "Joining",
    "LinkCommitmentMismatch",
    "LinkDuplicate",
    "LinkEvent",
    "LinkInUse",
    "LinkOutOfOrder",
    "LinkRefused",
    "LinkStep",
    "Linked",
    "ReadyToWelcome",
    "SomeoneElseTried",
]
