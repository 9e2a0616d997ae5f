"""Saying what a request would do before anything is pushed: the pure decoder, given the clock and a registry.

The input is checked exactly as ``sign`` checks it (:func:`walletsync.signatures.read_request`), so ``decode``
and ``sign`` accept the same ``--tx`` and ``--typed-data`` and refuse the rest with the same words.
"""

from __future__ import annotations

import time
from typing import Any

from walletsync.chains.model import Lookup
from walletsync.decode.message import decode_message
from walletsync.decode.model import Decoded
from walletsync.decode.transaction import decode_transaction
from walletsync.decode.typed_data import decode_typed_data
from walletsync.service.scopes import is_chain_id
from walletsync.signatures import MalformedRequest, UserRequest, read_request

DEFAULT_CHAIN = "eip155:1"
"""The chain a request is decoded for when neither the user nor the request names one."""


def _named_chain(given: Any) -> str | None:
    """``eip155:N`` from a transaction's ``chainId`` or a domain's (an integer, or decimal or 0x text)."""
    if isinstance(given, bool):
        return None
    if isinstance(given, int):
        return f"eip155:{given}" if given >= 0 else None
    if isinstance(given, str):
        text = given.strip()
        if text.startswith("0x") and len(text) > 2:
            try:
                return f"eip155:{int(text, 16)}"
            except ValueError:
                return None
        if text.isdigit() and text.isascii():
            return f"eip155:{int(text)}"
    return None


def request_chain(request: UserRequest) -> str | None:
    """The chain the request itself names: a transaction's ``chainId``, typed data's domain ``chainId``."""
    if request.method == "eth_sendTransaction":
        return _named_chain(request.content.get("chainId"))
    if request.method == "eth_signTypedData_v4":
        return _named_chain(request.content.get("domain", {}).get("chainId"))
    return None


def decode_user_request(
    request: UserRequest, chain_id: str, lookup: Lookup, *, now: int, account: str | None = None
) -> Decoded:
    """What the checked ``request`` would do on ``chain_id``, named with ``lookup``'s chains and tokens; a
    transaction sent by ``account`` (a 0x address; default: its ``from``).

    Raises :class:`~walletsync.decode.model.Undecodable` (code ``undecodable``) for typed data beyond the
    decoder's bounds; calldata that does not decode is "unknown" in the result, never an error.
    """
    if request.method == "eth_sendTransaction":
        return decode_transaction(request.content, chain_id, lookup, account=account, now=now)
    if request.method == "eth_signTypedData_v4":
        return decode_typed_data(request.content, chain_id, lookup, now=now)
    return decode_message(bytes.fromhex(request.content[2:]), chain_id, lookup)


def decode_request(
    *,
    tx: str | None = None,
    typed_data: str | None = None,
    chain_id: str | None = None,
    lookup: Lookup,
    now: int | None = None,
) -> Decoded:
    """What exactly one of ``tx`` (JSON text) or ``typed_data`` (JSON text) would do.

    ``chain_id`` (CAIP-2) defaults to the chain the request names, else :data:`DEFAULT_CHAIN`; ``now`` to the
    clock. Raises :class:`MalformedRequest` for input ``sign`` would refuse, naming the flag.
    """
    if tx is None and typed_data is None:
        raise MalformedRequest("give exactly one of --tx or --typed-data")
    request = read_request(tx=tx, typed_data=typed_data)
    if chain_id is not None and not is_chain_id(chain_id):
        raise MalformedRequest(f"--chain: {chain_id[:60]!r} is not a CAIP-2 chain id (like eip155:1)")
    chain = chain_id or request_chain(request) or DEFAULT_CHAIN
    return decode_user_request(request, chain, lookup, now=int(time.time()) if now is None else now)
