"""Messages the app's workers post upward, named for what happened."""

from __future__ import annotations

from textual.message import Message

from walletsync.service import Event, PairingOffer, SessionRecord


class CompanionEventReceived(Message):
    """The companion streamed an event (engine event, relay status, rename, …)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class PairingOffered(Message):
    """A fresh pairing URI is ready to show."""

    def __init__(self, offer: PairingOffer) -> None:
        super().__init__()
        self.offer = offer


class SessionPaired(Message):
    """A phone settled a session from the pairing on screen."""

    def __init__(self, session: SessionRecord) -> None:
        super().__init__()
        self.session = session
