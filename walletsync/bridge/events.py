"""What the bridge reports as it works, for ``walletsync rpc`` (or the app) to show: frozen, past tense."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Client:
    """Where a request came from: the peer's address and port, and the tool's own words (its User-Agent)."""

    peer: str | None
    user_agent: str | None = None
    transport: str = "http"

    def to_json(self) -> dict[str, Any]:
        return {"via": "rpc", "peer": self.peer, "user_agent": self.user_agent, "transport": self.transport}

    def label(self) -> str:
        return f"{self.peer or '?'}" + (f" ({self.user_agent})" if self.user_agent else "")


@dataclass(frozen=True)
class PhoneAsked:
    """A request is on its way to the phone (unless a policy refuses it first); ``preview`` says what it would do
    (a :class:`~walletsync.service.RequestPreview`, None when it could not be made)."""

    method: str
    client: Client
    preview: Any = None
    params: Any = None


@dataclass(frozen=True)
class RequestHandled:
    """A request was answered: ``outcome`` is ``ok``, ``error``, ``refused`` (by the guard), or ``retried`` (a
    retry given the earlier answer); ``error`` the error object when there is one."""

    method: str
    client: Client
    outcome: str
    error: dict[str, Any] | None = None
    result: Any = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event": "request",
            "method": self.method,
            "client": self.client.to_json(),
            "outcome": self.outcome,
        }
        if self.error is not None:
            out["error"] = self.error
        if self.result is not None:
            out["result"] = self.result
        return out


@dataclass(frozen=True)
class TransactionAltered:
    """A transaction the phone sent was mined other than asked (``differences``: ``{"field","asked","mined"}``)."""

    hash: str
    client: Client
    differences: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "event": "altered",
            "hash": self.hash,
            "client": self.client.to_json(),
            "differences": self.differences,
        }


@dataclass(frozen=True)
class TransactionMined:
    """A transaction the phone sent was mined as asked."""

    hash: str
    block: int | None

    def to_json(self) -> dict[str, Any]:
        return {"event": "mined", "hash": self.hash, "block": self.block}


BridgeEvent = PhoneAsked | RequestHandled | TransactionAltered | TransactionMined
