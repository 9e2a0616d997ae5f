"""What the companion hands back: its results (a pairing offer, a request's outcome) and its errors.

Every error is a :class:`~walletsync.errors.WalletsyncError` whose ``code`` the CLI prints in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walletsync.errors import WalletsyncError
from walletsync.protocol.jsonrpc import sdk_error
from walletsync.store.db import SessionRecord


class SessionNotFound(WalletsyncError):
    """No session has that name or topic prefix."""

    code = "unknown_session"


class AmbiguousSession(WalletsyncError):
    """Several sessions answer to that reference; the text says how to pick one."""

    code = "ambiguous_session"


class SessionInactive(WalletsyncError):
    """The session ended (or expired, or lost its key) and cannot carry requests."""

    code = "session_inactive"


class PairingFailed(WalletsyncError):
    """The phone rejected the pairing, or it expired unanswered."""

    code = "pairing_failed"


class RequestTimeout(WalletsyncError):
    """No answer came in time (a late answer is still recorded)."""

    code = "timeout"


class NameTaken(WalletsyncError):
    """Another session (active, or ended for a name the user gives) has that name, or one a reader could not tell
    from it; the text names it and says what to do."""

    code = "name_taken"


class InputFileError(WalletsyncError):
    """A file the user named cannot be read as text."""

    code = "bad_input"


class ChainNotRequested(WalletsyncError):
    """The phone granted none of the chains the user asked for: a request goes nowhere without ``--chain``."""

    code = "chain_not_requested"


class RevokedLocally(WalletsyncError):
    """The session is marked revoked here, but the phone could not be told (no key to tell it with)."""

    code = "revoked_locally"


@dataclass(frozen=True)
class PairingOffer:
    """A pairing URI to show (as a QR); await :meth:`Companion.wait_for_session` with ``proposal_id``."""

    uri: str
    expires_at: int
    proposal_id: int


@dataclass(frozen=True)
class RequestOutcome:
    """How a request ended: the phone's ``result`` (with the ``verdict`` on it) or its ``error``."""

    session: SessionRecord
    id: int
    method: str
    result: Any = None
    error: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None
    late: bool = False
    chain_id: str | None = None
    """The chain the request went to (CAIP-2)."""

    @property
    def ok(self) -> bool:
        """Answered, and the answer verified."""
        return self.error is None and bool(self.verdict and self.verdict.get("verified"))

    @property
    def session_ended(self) -> bool:
        """No answer came because the session ended first (the engine fails its requests with 6000)."""
        return self.error is not None and self.error.get("code") == sdk_error("USER_DISCONNECTED").code

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md ``sign`` document."""
        verdict = self.verdict or {}
        out: dict[str, Any] = {
            "session": self.session.name,
            "method": self.method,
            "result": self.result,
            "verified": bool(verdict.get("verified")) and self.error is None,
            "recovered": verdict.get("recovered"),
            "account": verdict.get("account"),
        }
        if self.error is not None:
            out["error"] = self.error
        if verdict.get("reason"):
            out["reason"] = verdict["reason"]
        return out
