"""What a decoded request says: calls for people, effects for policies, warnings for both.

The words: an **effect** is one thing the request would do to the account's assets (send, approve, permit),
in exact integers of the smallest unit; a **warning** has a stable ``code`` that scripts may match on.
Text that came from the request (a typed-data string, a contract's name) is data: whoever shows a summary
escapes it (:func:`walletsync.text.shown`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from walletsync.errors import WalletsyncError

# Warning codes: stable, part of the JSON contract.
UNLIMITED_APPROVAL = "unlimited_approval"
APPROVAL_FOR_ALL = "approval_for_all"
FAR_EXPIRY = "far_expiry"
OVER_CAP = "over_cap"
RECIPIENT_NOT_ALLOWED = "recipient_not_allowed"
UNKNOWN_CONTRACT = "unknown_contract"
UNKNOWN_FUNCTION = "unknown_function"
CHAIN_MISMATCH = "chain_mismatch"
CONTRACT_CREATION = "contract_creation"

NATIVE = "native"
"""The ``asset`` of an effect on the chain's own currency."""


class Undecodable(WalletsyncError):
    """The request is not a transaction or typed data decoding can read (not an object, a field of the wrong
    kind, nesting beyond the bounds); the text says what. Calldata that does not decode is no error: it is
    shown as "unknown"."""

    code = "undecodable"


@dataclass(frozen=True)
class RequestWarning:
    """Something the user should look at twice before the phone is asked."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Effect:
    """One thing the request would do to the account's assets; what policies count and check.

    ``send``: ``amount`` of ``asset`` leaves the account for ``counterparty`` (a native transfer, an ERC-20
    ``transfer``/``transferFrom`` out of the account, an NFT transfer with ``amount`` 1 per id or the 1155
    amount). ``approve``/``permit``: ``counterparty`` (the spender) may take ``amount`` (None: unlimited) of
    ``asset`` until ``expiry`` (unix seconds, None: no expiry). ``approve_all``: ``setApprovalForAll(true)``
    on a collection, ``amount`` None.
    """

    kind: Literal["send", "approve", "approve_all", "permit"]
    chain_id: str
    asset: str
    """:data:`NATIVE` or the token contract's checksummed address."""
    amount: int | None
    counterparty: str | None
    """The recipient (send) or the spender/operator (approve, approve_all, permit); checksummed."""
    expiry: int | None = None
    token_id: int | None = None
    """For NFTs: which one."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "chain": self.chain_id,
            "asset": self.asset,
            "amount": None if self.amount is None else str(self.amount),
            "counterparty": self.counterparty,
            "expiry": self.expiry,
            "token_id": None if self.token_id is None else str(self.token_id),
        }


@dataclass(frozen=True)
class Call:
    """One contract call (or plain transfer, or creation) and the calls nested in it (multicall)."""

    to: str | None
    """The checksummed target; None for a contract creation."""
    value: int
    function: str | None
    """The signature (``transfer(address,uint256)``), or None for a plain transfer or an unknown selector."""
    selector: str | None
    """``0xa9059cbb``; None without calldata."""
    arguments: tuple[tuple[str, str, Any], ...]
    """``(name, abi type, JSON-able value)``; integers as decimal strings, bytes as 0x hex."""
    summary: str
    """One line for people: ``Transfer 500 USDC 0xA0b8…eB48 to 0x1234…abcd``."""
    data: str = "0x"
    """The raw calldata as 0x hex (shown for unknown selectors)."""
    calls: tuple[Call, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "value": str(self.value),
            "function": self.function,
            "selector": self.selector,
            "arguments": [{"name": n, "type": t, "value": v} for n, t, v in self.arguments],
            "summary": self.summary,
            "data": self.data,
            "calls": [c.to_json() for c in self.calls],
        }


@dataclass(frozen=True)
class ChainRef:
    """The request's chain as shown: its id, and the registry's name and currency if it knows them."""

    id: str
    name: str | None
    currency: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "currency": self.currency}


@dataclass(frozen=True)
class Decoded:
    """What a request would do. ``to_json`` is the ``decode --json`` document."""

    kind: Literal["transaction", "typed_data", "message"]
    summary: str
    chain: ChainRef
    calls: tuple[Call, ...] = ()
    effects: tuple[Effect, ...] = ()
    warnings: tuple[RequestWarning, ...] = ()
    tree: Any = None
    """Typed data: the message as a tree of ``{"name", "type", "value"}`` / ``{"name", "type", "fields": […]}``."""

    def warned(self, *more: RequestWarning) -> Decoded:
        """The same, with ``more`` warnings after its own (a policy adds over-cap and allowlist ones)."""
        return replace(self, warnings=self.warnings + tuple(more))

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "kind": self.kind,
            "summary": self.summary,
            "chain": self.chain.to_json(),
            "calls": [c.to_json() for c in self.calls],
            "effects": [e.to_json() for e in self.effects],
            "warnings": [w.to_json() for w in self.warnings],
        }
        if self.tree is not None:
            document["tree"] = self.tree
        return document
