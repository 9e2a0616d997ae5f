"""One balance row: an account's holding of one asset on one chain, and where the figure came from.

A row never carries a zero that is really an error: when no RPC gave a figure, ``amount`` is None and the
status is ``unreachable``. ``to_json`` is the stable contract of ``walletsync balances --json`` (README):
``account, label, chain, asset, symbol, amount, decimals, display, rpc, block, age_s, status`` with, beside
them, ``fallback_from`` (the RPCs that did not answer before ``rpc`` did), ``other`` (a disagreeing RPC's
figure), ``error`` (why there is no figure) and ``cached`` (the figure is the last one read, not read now).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from walletsync.decode.amounts import MAX_DECIMALS, format_amount
from walletsync.redact import url_shown

Status = Literal["ok", "stale", "unreachable", "disagree"]
STATUSES: tuple[Status, ...] = ("ok", "stale", "unreachable", "disagree")

NATIVE = "native"
"""The ``asset`` of a chain's own currency; a token's is its EIP-55 address."""


@dataclass(frozen=True)
class Asset:
    """What is counted: the chain's currency (``address`` :data:`NATIVE`) or a token contract."""

    chain: str
    address: str
    symbol: str
    decimals: int

    @property
    def native(self) -> bool:
        return self.address == NATIVE


@dataclass(frozen=True)
class Holder:
    """An address whose balances are read, and the local label it is shown with (a session's name, a watch label)."""

    address: str
    label: str | None = None


@dataclass(frozen=True)
class Other:
    """The figure a second RPC gave at the same block when it differs from the row's."""

    rpc: str
    amount: int


Checked = Literal["agreed", "failed"]
CHECKS = ("agreed", "failed")


@dataclass(frozen=True)
class Row:
    """One (account, chain, asset) figure with its source, block, age and status."""

    account: str
    label: str | None
    asset: Asset
    amount: int | None
    rpc: str | None
    block: int | None
    block_time: int | None
    """The block's timestamp (unix s): ``age_s`` is measured from it."""
    age_s: int | None
    status: Status
    fallback_from: tuple[str, ...] = ()
    other: Other | None = None
    error: str | None = None
    cached: bool = False
    checked: Checked | None = None
    """How the figure was cross-checked: ``agreed`` (a second RPC gave the same at the same block), ``failed`` (the
    second RPC's read failed: the figure rests on one RPC), None (no second RPC to ask, or it disagreed: ``other``)."""

    @property
    def key(self) -> tuple[str, str, str]:
        """What the cache keeps one figure per: (account, chain, asset)."""
        return (self.account.lower(), self.asset.chain, self.asset.address.lower())

    def display(self) -> str | None:
        """The amount in whole tokens, exactly (``1.5``); None without a figure."""
        return _display(self.amount, self.asset.decimals)

    @property
    def plain_zero(self) -> bool:
        """A token balance of 0 with nothing to say about it: what tables leave out unless asked."""
        return not self.asset.native and self.amount == 0 and self.status in ("ok", "stale") and not self.cached

    def note(self, rpc_name: Callable[[str], str] = url_shown) -> str:
        """What the status leaves out, for a table: the other RPC's figure, what was fallen back from, why there is
        no figure. ``rpc_name`` names an RPC (a screen short of room shows its host); the caller escapes it all."""
        parts = []
        if self.other is not None:
            figure = _display(self.other.amount, self.asset.decimals) or str(self.other.amount)
            parts.append(f"{rpc_name(self.other.rpc)} says {figure}")
        if self.fallback_from and self.amount is not None:
            parts.append(f"fell back from {', '.join(map(rpc_name, self.fallback_from))}")
        if self.checked == "failed" and self.amount is not None:
            parts.append("not cross-checked (the second RPC failed)")
        if self.cached:
            parts.append("last figure read (cached)")
        if self.error and (self.amount is None or self.cached):
            parts.append(self.error)
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The row of ``walletsync balances --json``: ``amount`` an exact integer string in the smallest unit."""
        return {
            "account": self.account,
            "label": self.label,
            "chain": self.asset.chain,
            "asset": self.asset.address,
            "symbol": self.asset.symbol,
            "amount": None if self.amount is None else str(self.amount),
            "decimals": self.asset.decimals,
            "display": self.display(),
            "rpc": None if self.rpc is None else url_shown(self.rpc),
            "block": self.block,
            "age_s": self.age_s,
            "status": self.status,
            "fallback_from": [url_shown(rpc) for rpc in self.fallback_from],
            "other": None
            if self.other is None
            else {
                "rpc": url_shown(self.other.rpc),
                "amount": str(self.other.amount),
                "display": _display(self.other.amount, self.asset.decimals),
            },
            "error": self.error,
            "cached": self.cached,
            "checked": self.checked,
        }


BalanceRow = Row


def by_chain(rows: list[Row]) -> list[list[Row]]:
    """The rows grouped by (account, chain), in the order they come: a chain no RPC answered is one line in a table,
    not one per token."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.account.lower(), row.asset.chain), []).append(row)
    return list(groups.values())


"""The name the service exports it under (``walletsync.service.BalanceRow``)."""


def _display(amount: int | None, decimals: int) -> str | None:
    if amount is None or decimals > MAX_DECIMALS:  # a token claiming more decimals than uint256 has digits
        return None
    return format_amount(amount, decimals)


def row_from_json(document: dict[str, Any], block_time: int | None) -> Row:
    """A row back from :meth:`Row.to_json` (as the cache keeps it), marked ``cached``; ValueError if it is not one."""
    try:
        asset = Asset(document["chain"], document["asset"], document["symbol"], int(document["decimals"]))
        other = document.get("other")
        status = document["status"]
        if status not in STATUSES:
            raise ValueError(f"no status {status!r}")
        return Row(
            document["account"],
            document.get("label"),
            asset,
            None if document["amount"] is None else int(document["amount"]),
            document.get("rpc"),
            document.get("block"),
            block_time,
            document.get("age_s"),
            status,
            tuple(document.get("fallback_from") or ()),
            None if not other else Other(other["rpc"], int(other["amount"])),
            document.get("error"),
            cached=True,
            checked=document.get("checked") if document.get("checked") in CHECKS else None,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a balance row: {exc}") from None
