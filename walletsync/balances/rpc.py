"""The JSON-RPC calls that read balances, and what their answers must look like (an RPC is not trusted).

One chain's read is two steps: its head (``eth_getBlockByNumber("latest")``: the number and the timestamp in one
call), then every figure **at that block number** in batches: ``eth_getBalance`` for the native currency,
``eth_call`` of ERC-20 ``balanceOf`` for each token. Reading at one number, not at ``latest``, is what makes two
RPCs comparable and a row's block true. The service posts the batches; this module builds them and reads the
replies, turning anything malformed into :class:`BadReply` (for the whole batch) or a per-call error text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from walletsync.balances.model import Asset, Holder
from walletsync.errors import WalletsyncError

BALANCE_OF = "0x70a08231"
"""ERC-20 ``balanceOf(address)``."""
MAX_UINT256 = 2**256 - 1
MAX_BATCH = 50
"""Calls per batch: public RPCs cap batches (often at 100, some lower); 50 passes nearly all of them."""
MAX_ERROR_CHARS = 200
_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
"""At most 64 digits: uint256. Leading zeros are tolerated (some nodes send them)."""
_WORD = re.compile(r"0x[0-9a-fA-F]{64}")


class BadReply(WalletsyncError):
    """An RPC answered something that is not the JSON-RPC reply asked for; the message says what."""

    code = "bad_rpc_reply"


@dataclass(frozen=True)
class Head:
    """A node's latest block: its number and timestamp (unix s)."""

    number: int
    timestamp: int


@dataclass(frozen=True)
class Call:
    """One figure to read: ``holder``'s balance of ``asset``."""

    holder: Holder
    asset: Asset

    @property
    def key(self) -> tuple[str, str]:
        return (self.holder.address.lower(), self.asset.address.lower())


def head_request() -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["latest", False]}


def read_head(reply: Any) -> Head:
    """The head in a reply to :func:`head_request`; :class:`BadReply` otherwise (an error reply says its message)."""
    result = _result_of(reply)
    if not isinstance(result, dict):
        raise BadReply("the head block is not an object")
    return Head(_quantity(result.get("number"), "block number"), _quantity(result.get("timestamp"), "timestamp"))


def figure_batches(calls: Sequence[Call], block: int) -> list[list[dict[str, Any]]]:
    """The calls as JSON-RPC batches of at most :data:`MAX_BATCH`, each call's ``id`` its index in ``calls``."""
    tag = hex(block)
    requests = []
    params: list[Any]
    for index, call in enumerate(calls):
        if call.asset.native:
            method, params = "eth_getBalance", [call.holder.address, tag]
        else:
            data = BALANCE_OF + call.holder.address[2:].lower().rjust(64, "0")
            method, params = "eth_call", [{"to": call.asset.address, "data": data}, tag]
        requests.append({"jsonrpc": "2.0", "id": index, "method": method, "params": params})
    return [requests[i : i + MAX_BATCH] for i in range(0, len(requests), MAX_BATCH)]


def read_figures(batch: Sequence[Mapping[str, Any]], calls: Sequence[Call], reply: Any) -> dict[int, int | str]:
    """Each call of ``batch`` (by its index in ``calls``) → its amount, or the error text for that call.

    A reply that is not a batch (one error object for all, as an RPC refusing batches sends) is
    :class:`BadReply`; a call the reply leaves out gets an error of its own, never a zero.
    """
    if isinstance(reply, dict) and "error" in reply:
        raise BadReply(f"the RPC refused the batch: {_error_text(reply['error'])}")
    if not isinstance(reply, list):
        raise BadReply("the reply to a batch is not a list")
    wanted = {request["id"] for request in batch}
    answers: dict[int, Any] = {}
    for item in reply:
        if isinstance(item, dict) and type(item.get("id")) is int and item["id"] in wanted:
            answers.setdefault(item["id"], item)
    out: dict[int, int | str] = {}
    for request in batch:
        index = request["id"]
        item = answers.get(index)
        if item is None:
            out[index] = "the RPC did not answer this call"
            continue
        try:
            result = _result_of(item)
            out[index] = _quantity(result, "balance") if calls[index].asset.native else _word(result)
        except BadReply as exc:
            out[index] = str(exc)
    return out


def _result_of(reply: Any) -> Any:
    if not isinstance(reply, dict):
        raise BadReply("the reply is not a JSON-RPC object")
    if reply.get("error") is not None:
        raise BadReply(f"the RPC answered an error: {_error_text(reply['error'])}")
    if "result" not in reply:
        raise BadReply("the reply has no result")
    return reply["result"]


def _quantity(value: Any, what: str) -> int:
    """A JSON-RPC quantity (``0x1a``) up to uint256."""
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise BadReply(f"the {what} is not a hex quantity")
    return int(value, 16)


def _word(value: Any) -> int:
    """An ``eth_call`` result that is one 32-byte word. ``0x`` (no contract at that address, or one without
    ``balanceOf``) is an error, not a zero."""
    if value == "0x":
        raise BadReply("no token contract answers balanceOf at this address on this chain")
    if not isinstance(value, str) or not _WORD.fullmatch(value):
        raise BadReply("balanceOf did not return one 32-byte word")
    return int(value, 16)


def _error_text(error: Any) -> str:
    """An RPC's error message, as data: its text cut short (the screen escapes it)."""
    message = error.get("message") if isinstance(error, dict) else error
    text = str(message) if message is not None else "no message"
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
