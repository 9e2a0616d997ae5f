"""Which part of the bridge answers each method: the session, the phone, a refusal, or the upstream node.

One table (:data:`ROUTES`); a method not in it goes to the upstream unchanged, except the families that would
sign or manage keys somewhere other than on the phone: a node with unlocked accounts (anvil, a dev node) would
otherwise sign behind the phone's back.
"""

from __future__ import annotations

from enum import Enum


class Route(Enum):
    """Who answers a method."""

    ACCOUNTS = "accounts"
    """the session's accounts on the current chain"""
    CHAIN_ID = "chain_id"
    NET_VERSION = "net_version"
    SWITCH_CHAIN = "switch_chain"
    SIGN = "sign"
    """the phone signs a message or typed data"""
    SEND = "send"
    """the phone signs and sends a transaction the bridge filled"""
    REFUSED = "refused"
    """4200: the phone will not do it (or the bridge will not let a node do it)"""
    SUBSCRIPTION = "subscription"
    """eth_subscribe / eth_unsubscribe: the WebSocket connection's own (the node is polled)"""
    PROXY = "proxy"
    """the upstream node answers, unchanged"""


ROUTES: dict[str, Route] = {
    "eth_accounts": Route.ACCOUNTS,
    "eth_requestAccounts": Route.ACCOUNTS,
    "eth_chainId": Route.CHAIN_ID,
    "net_version": Route.NET_VERSION,
    "wallet_switchEthereumChain": Route.SWITCH_CHAIN,
    "personal_sign": Route.SIGN,
    "eth_signTypedData_v4": Route.SIGN,
    # web3.py's sign_typed_data (geth's name for EIP-712) and v3 (v4 without arrays): asked as v4
    "eth_signTypedData": Route.SIGN,
    "eth_signTypedData_v3": Route.SIGN,
    "eth_sendTransaction": Route.SEND,
    "eth_subscribe": Route.SUBSCRIPTION,
    "eth_unsubscribe": Route.SUBSCRIPTION,
    # most phone wallets refuse these (eth_sign signs any hash; eth_signTransaction is rarely supported)
    "eth_sign": Route.REFUSED,
    "eth_signTransaction": Route.REFUSED,
}

PHONE_METHODS = {"eth_signTypedData": "eth_signTypedData_v4", "eth_signTypedData_v3": "eth_signTypedData_v4"}
"""The method the phone is asked for, where it is not the tool's."""

SIGNING_PREFIXES = ("eth_signTypedData", "personal_", "wallet_", "eth_sendUnsigned")
"""Families refused rather than proxied: other typed-data versions (v1), the node's own key management
(``personal_sendTransaction``, ``personal_unlockAccount``), wallet methods this bridge does not offer."""


def route(method: str) -> Route:
    """Who answers ``method``."""
    found = ROUTES.get(method)
    if found is not None:
        return found
    return Route.REFUSED if method.startswith(SIGNING_PREFIXES) else Route.PROXY


def phone_method(method: str) -> str:
    """The method the phone is asked for when a tool sends ``method`` (a signing one)."""
    return PHONE_METHODS.get(method, method)
