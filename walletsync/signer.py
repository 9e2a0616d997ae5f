"""The reference phone wallet's key: one Ethereum account that answers signing requests.

:class:`Signer` turns a request (``personal_sign``, ``eth_signTypedData_v4``,
``eth_sendTransaction``) into its answer, or raises :class:`SignError` carrying the
JSON-RPC error to send back; :func:`summarize` says in one line what a request asks for.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from walletsync.errors import WalletsyncError
from walletsync.protocol.jsonrpc import RpcError, sdk_error

if TYPE_CHECKING:
    from web3.types import TxParams

DEFAULT_PATH = "m/44'/60'/0'/0/0"
METHODS = ("personal_sign", "eth_signTypedData_v4", "eth_sendTransaction")
EVENTS = ("chainChanged", "accountsChanged")
INVALID_PARAMS, NODE_ERROR = -32602, -32000
GWEI = 10**9
DEFAULT_GAS, DEFAULT_PRIORITY_FEE, DEFAULT_MAX_FEE = 21_000, 1 * GWEI, 30 * GWEI


class WalletKeyError(WalletsyncError):
    """A private key or mnemonic/path that does not give an account."""

    code = "invalid_key"


class SignError(WalletsyncError):
    """The wallet will not or cannot answer a request; ``rpc_error`` is the JSON-RPC error to reply with."""

    code = "sign_refused"

    def __init__(self, rpc_error: RpcError) -> None:
        super().__init__(rpc_error.message)
        self.rpc_error = rpc_error


def _invalid(message: str) -> SignError:
    return SignError(RpcError(INVALID_PARAMS, f"Invalid params: {message}"))


def _eth_account():
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return Account


# --- the key ---------------------------------------------------------------------------


class Signer:
    """One Ethereum account. Holds a private key: never print it (``repr`` shows the address only).

    With ``rpc_url`` a signed transaction is broadcast through that node (which also
    fills a missing nonce, gas and fees), one at a time per account so answers signed in parallel threads each take
    the next nonce; without, it is only signed and its hash returned.
    """

    def __init__(self, account: Any, *, path: str | None = None, rpc_url: str | None = None) -> None:
        self._account = account
        self.path = path
        self.rpc_url = rpc_url

    @classmethod
    def from_key(cls, key_hex: str, *, rpc_url: str | None = None) -> Signer:
        try:
            return cls(_eth_account().from_key(key_hex), rpc_url=rpc_url)
        except Exception:
            raise WalletKeyError("the key must be 32 bytes of hex (64 hex digits, 0x optional)") from None

    @classmethod
    def from_mnemonic(cls, words: str, path: str = DEFAULT_PATH, *, rpc_url: str | None = None) -> Signer:
        try:
            account = _eth_account().from_mnemonic(" ".join(words.split()), account_path=path)
        except Exception as exc:
            raise WalletKeyError(f"cannot derive an account: {exc}") from None
        return cls(account, path=path, rpc_url=rpc_url)

    @property
    def address(self) -> str:
        """The checksummed ``0x`` address."""
        return self._account.address

    def __repr__(self) -> str:
        return f"Signer({self.address}, path={self.path!r})"

    def sign(self, method: str, params: Any, chain_id: str | None = None) -> str:
        """The answer to a request on ``chain_id`` (``eip155:N``); raises :class:`SignError` otherwise."""
        handler = {
            "personal_sign": self._personal_sign,
            "eth_signTypedData_v4": self._sign_typed_data,
            "eth_sendTransaction": self._send_transaction,
        }.get(method)
        if handler is None:
            raise SignError(sdk_error("UNSUPPORTED_METHODS", method))
        if not isinstance(params, list):
            raise _invalid(f"{method} params must be a list")
        return handler(params, chain_id)

    def _check_address(self, address: Any) -> None:
        if address is None:
            return
        if not isinstance(address, str) or address.lower() != self.address.lower():
            raise SignError(
                sdk_error("UNSUPPORTED_ACCOUNTS", f"{str(address)[:64]} is not this wallet's account {self.address}")
            )

    def _personal_sign(self, params: list, chain_id: str | None) -> str:
        from eth_account.messages import encode_defunct

        if not 1 <= len(params) <= 3:
            raise _invalid("personal_sign takes [message, address]")
        message, address = params[0], params[1] if len(params) > 1 else None
        if _is_address(message) and not _is_address(address):
            message, address = address, message  # the old [address, message] order
        self._check_address(address)
        signable = encode_defunct(primitive=_message_bytes(message))
        return "0x" + bytes(self._account.sign_message(signable).signature).hex()

    def _sign_typed_data(self, params: list, chain_id: str | None) -> str:
        from eth_account.messages import encode_typed_data

        if len(params) != 2:
            raise _invalid("eth_signTypedData_v4 takes [address, typedData]")
        self._check_address(params[0])
        data = params[1]
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise _invalid("typed data is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("domain"), dict):
            raise _invalid("typed data must be an object with a domain")
        domain_chain = _int(data["domain"].get("chainId"), "domain.chainId")
        if domain_chain is not None and chain_id is not None and chain_id != f"eip155:{domain_chain}":
            raise _invalid(f"typed data is for chain eip155:{domain_chain}, the request is on {chain_id}")
        try:
            signable = encode_typed_data(full_message=data)
        except Exception as exc:
            raise _invalid(f"typed data does not encode: {exc}") from None
        return "0x" + bytes(self._account.sign_message(signable).signature).hex()

    def _send_transaction(self, params: list, chain_id: str | None) -> str:
        if len(params) != 1 or not isinstance(params[0], dict):
            raise _invalid("eth_sendTransaction takes [transaction]")
        tx = params[0]
        self._check_address(tx.get("from"))
        chain = _eip155_chain(chain_id)
        if _int(tx.get("chainId"), "chainId") not in (None, chain):
            raise _invalid(f"transaction chainId {tx['chainId']} is not the request's chain {chain_id}")
        if not self.rpc_url:
            return "0x" + bytes(self._signed(_transaction(tx, chain, self.address, None)).hash).hex()
        node = _Node(self.rpc_url, chain)
        with _sending(self.address):  # the nonce the node gives is taken only once this one is sent
            return node.send(self._signed(_transaction(tx, chain, self.address, node)).raw_transaction)

    def _signed(self, fields: dict[str, Any]) -> Any:
        try:
            return self._account.sign_transaction(fields)
        except Exception as exc:
            raise _invalid(f"cannot sign this transaction: {exc}") from None


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _sending(address: str) -> threading.Lock:
    """The account's lock around asking the node for its nonce, signing and sending: requests answered in parallel
    threads would otherwise all get the same pending nonce, and the node would refuse all but one ("nonce too low")."""
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(address.lower(), threading.Lock())


def _is_address(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 42 and value[:2].lower() == "0x" and _is_hex(value[2:])


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _message_bytes(message: Any) -> bytes:
    """``0x``-hex is the message's bytes (what dapps send); anything else is UTF-8 text."""
    if not isinstance(message, str):
        raise _invalid("the message must be a string")
    if message[:2].lower() == "0x" and len(message) % 2 == 0 and _is_hex(message[2:]):
        return bytes.fromhex(message[2:])
    return message.encode("utf-8")


def _int(value: Any, name: str) -> int | None:
    """A quantity as dapps send it: ``0x`` hex, a decimal string or a number; None when absent."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if value[:2].lower() == "0x" else int(value, 10)
        except ValueError:
            pass
    raise _invalid(f"{name} must be a non-negative quantity, not {str(value)[:40]!r}")


def _eip155_chain(chain_id: str | None) -> int:
    namespace, _, reference = (chain_id or "").partition(":")
    if namespace != "eip155" or not reference.isascii() or not reference.isdigit():
        raise SignError(sdk_error("UNSUPPORTED_CHAINS", f"{chain_id} is not an eip155 chain"))
    return int(reference)


def _transaction(tx: dict[str, Any], chain: int, sender: str, node: _Node | None) -> dict[str, Any]:
    """The fields eth_account signs: the request's, with defaults (or the node's values) for the missing ones."""
    data = tx.get("data", tx.get("input")) or "0x"
    if not isinstance(data, str) or data[:2].lower() != "0x" or not _is_hex(data[2:]) or len(data) % 2:
        raise _invalid("data must be 0x-prefixed hex")
    fields: dict[str, Any] = {"chainId": chain, "value": _int(tx.get("value"), "value") or 0, "data": data}
    if tx.get("to") is not None:
        if not _is_address(tx["to"]):
            raise _invalid("to must be a 20-byte 0x address")
        from eth_utils import to_checksum_address

        fields["to"] = to_checksum_address(tx["to"])
    nonce = _int(tx.get("nonce"), "nonce")
    fields["nonce"] = nonce if nonce is not None else (node.nonce(sender) if node else 0)
    gas = _int(tx.get("gas", tx.get("gasLimit")), "gas")
    fields["gas"] = gas if gas is not None else (node.estimate_gas({**fields, "from": sender}) if node else DEFAULT_GAS)
    gas_price = _int(tx.get("gasPrice"), "gasPrice")
    max_fee, priority = (
        _int(tx.get("maxFeePerGas"), "maxFeePerGas"),
        _int(tx.get("maxPriorityFeePerGas"), "maxPriorityFeePerGas"),
    )
    if gas_price is not None and max_fee is None and priority is None:
        fields["gasPrice"] = gas_price
        return fields
    if priority is None:
        priority = node.priority_fee() if node else DEFAULT_PRIORITY_FEE
    if max_fee is None:
        max_fee = node.max_fee(priority) if node else max(DEFAULT_MAX_FEE, priority)
    fields["maxPriorityFeePerGas"], fields["maxFeePerGas"] = priority, max(max_fee, priority)
    return fields


class _Node:
    """An Ethereum JSON-RPC node (web3 over HTTP) for nonces, gas, fees and broadcasting."""

    def __init__(self, url: str, chain: int) -> None:
        from web3 import HTTPProvider, Web3

        self.url = url
        self.w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 20}))
        node_chain = self._call("read the chain id", lambda: self.w3.eth.chain_id)
        if node_chain != chain:
            raise SignError(
                sdk_error(
                    "UNSUPPORTED_CHAINS", f"the RPC node is on eip155:{node_chain}, the request on eip155:{chain}"
                )
            )

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except SignError:
            raise
        except Exception as exc:
            raise SignError(RpcError(NODE_ERROR, f"the RPC node could not {what}: {exc}"[:300])) from None

    def nonce(self, address: str) -> int:
        checksummed = self.w3.to_checksum_address(address)
        return self._call("give the nonce", lambda: self.w3.eth.get_transaction_count(checksummed, "pending"))

    def estimate_gas(self, fields: dict[str, Any]) -> int:
        wanted = {k: fields[k] for k in ("from", "to", "value", "data") if k in fields}
        return self._call("estimate gas", lambda: self.w3.eth.estimate_gas(cast("TxParams", wanted)))

    def priority_fee(self) -> int:
        try:
            return int(self.w3.eth.max_priority_fee)
        except Exception:
            return DEFAULT_PRIORITY_FEE

    def max_fee(self, priority: int) -> int:
        block = self._call("give the latest block", lambda: self.w3.eth.get_block("latest"))
        return 2 * int(block.get("baseFeePerGas") or 0) + priority

    def send(self, raw: bytes) -> str:
        tx_hash = self._call("accept the transaction", lambda: self.w3.eth.send_raw_transaction(raw))
        return "0x" + bytes(tx_hash).hex()


def summarize(method: str, params: Any) -> str:
    """One line saying what a request asks for, for a person deciding on it."""
    try:
        if method == "personal_sign":
            message = params[1] if _is_address(params[0]) and len(params) > 1 else params[0]
            raw = _message_bytes(message)
            try:
                return f"sign message {raw.decode('utf-8')!r}"[:200]
            except UnicodeDecodeError:
                return f"sign {len(raw)} bytes 0x{raw[:32].hex()}{'…' if len(raw) > 32 else ''}"
        if method == "eth_signTypedData_v4":
            data = json.loads(params[1]) if isinstance(params[1], str) else params[1]
            domain = data.get("domain", {})
            return f"sign typed data {data.get('primaryType')} for {domain.get('name', '?')} (chain {domain.get('chainId', '?')})"[
                :200
            ]
        if method == "eth_sendTransaction":
            tx = params[0]
            data = tx.get("data", tx.get("input")) or "0x"
            return f"send {_int(tx.get('value'), 'value') or 0} wei to {tx.get('to') or '(new contract)'} with {max(0, len(data) - 2) // 2} bytes of data"
    except Exception:
        pass
    return f"{method} {json.dumps(params, default=str)[:120]}"
