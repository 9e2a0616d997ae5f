"""Asking a chain node about a transaction: the one blocking HTTP call behind a transaction's verdict.

The rules for judging the answer stay pure in :mod:`walletsync.signatures`; this
module only fetches. web3 is imported inside the function: it is slow to load and
only ``sign --tx`` with an RPC URL needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from walletsync.signatures import Verdict, node_unreachable, transaction_not_found, transaction_sender

if TYPE_CHECKING:
    from eth_typing import HexStr


def lookup_transaction(rpc_url: str, tx_hash: str, account: str, *, timeout: float = 10.0) -> Verdict:
    """Ask a chain node for the transaction the phone says it sent; verified iff it exists and came from ``account``.

    Blocking (an HTTP call): run it in a thread. Never raises for node trouble: the verdict says what happened.
    """
    from web3 import HTTPProvider, Web3
    from web3.exceptions import TransactionNotFound

    try:
        node = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        tx = node.eth.get_transaction(cast("HexStr", tx_hash))
    except TransactionNotFound:
        return transaction_not_found(rpc_url, tx_hash, account)
    except Exception as exc:  # connection refused, bad answers: report, do not crash
        return node_unreachable(rpc_url, account, exc)
    return transaction_sender(tx.get("from"), account)
