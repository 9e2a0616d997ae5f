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


class BridgeReported(Message):
    """The endpoint serving session ``topic`` to tools reported an event (a request asked, handled, altered)."""

    def __init__(self, topic: str, event: object) -> None:
        super().__init__()
        self.topic, self.event = topic, event


class BridgeRefused(Message):
    """The endpoint serving session ``topic`` refused a client before reading its request (Host, Origin, token)."""

    def __init__(self, topic: str, message: str, client: dict[str, object]) -> None:
        super().__init__()
        self.topic, self.message, self.client = topic, message, client
