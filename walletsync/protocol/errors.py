"""Protocol errors that say who broke the rules.

Like h11's Local/RemoteProtocolError: ``by="peer"`` means the other side (or the
relay) sent something invalid; ``by="caller"`` means our own caller asked for
something the protocol does not allow (a bad argument, a request on a session
that is gone). Peer errors are reported and survived; caller errors are bugs or
user input to fix.

The blame defaults to the caller: a raise that forgets ``by=`` never blames the phone.
The readers of what came in (envelopes, JSON-RPC, URIs, JWTs) say ``by="peer"``, and the
engine's ``receive`` turns whatever a delivery raised into a peer error.
"""

from __future__ import annotations

from typing import Literal

from walletsync.errors import WalletsyncError

Blame = Literal["peer", "caller"]


class ProtocolError(WalletsyncError):
    """A WalletConnect rule was broken; ``by`` says by whom.

    ``sdk_code``, when set, is the WalletConnect error code to send back to the
    peer in a JSON-RPC error (reference §4.4).
    """

    code = "protocol"

    def __init__(self, message: str, *, by: Blame = "caller", sdk_code: int | None = None) -> None:
        super().__init__(message)
        self.by: Blame = by
        self.sdk_code = sdk_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, by={self.by!r})"


class InvalidUri(ProtocolError):
    """A pairing URI that cannot be used."""

    code = "invalid_uri"


class InvalidKey(ProtocolError):
    """A key of the wrong length or a degenerate (low-order) X25519 point."""

    code = "invalid_key"


class InvalidEnvelope(ProtocolError):
    """A relay message that is not a well-formed type 0/1/2 envelope."""

    code = "invalid_envelope"


class DecryptionFailed(InvalidEnvelope):
    """The envelope's AEAD tag did not verify with the key we hold for that topic."""

    code = "decryption_failed"


class InvalidJwt(ProtocolError):
    """A relay-auth JWT that is malformed, badly signed, expired or for another relay."""

    code = "invalid_jwt"


class InvalidMessage(ProtocolError):
    """A JSON-RPC message (client to client) of the wrong shape."""

    code = "invalid_message"


class InvalidFrame(ProtocolError):
    """A relay JSON-RPC frame of the wrong shape."""

    code = "invalid_frame"


class InvalidNamespaces(ProtocolError):
    """Namespaces that are malformed or do not conform to what was required."""

    code = "invalid_namespaces"


class OutOfScope(ProtocolError):
    """A chain, method or event outside what the session allows."""

    code = "out_of_scope"


class Expired(ProtocolError):
    """A pairing, proposal, request or session whose expiry has passed."""

    code = "expired"


class UnknownTarget(ProtocolError):
    """A topic, proposal or request id this engine knows nothing about."""

    code = "unknown"


class InvalidState(ProtocolError):
    """An action that the current state does not allow (e.g. a dapp sending an update)."""

    code = "invalid_state"
