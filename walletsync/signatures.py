"""What we ask a phone to sign, and whether its answer is really signed by the session account.

:func:`build_request` turns the user's ``--message`` / ``--typed-data`` / ``--tx``
into WalletConnect request params, refusing anything malformed before it
reaches the phone. :func:`verify_response` recovers the signer from the phone's
answer; a garbage answer is a :class:`Verdict` with ``verified=False``, never an
exception, because the answer comes from the peer. The ``transaction_*`` functions
judge what a chain node said about a sent transaction; asking the node is
:mod:`walletsync.chain_rpc`'s job (the only I/O), so everything here stays pure.

Checking a ``personal_sign`` answer needs only :mod:`walletsync.eth` (keccak and
coincurve); eth-account, about a second of imports, is loaded only to encode
EIP-712 typed data, inside the functions that do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from walletsync import eth
from walletsync.errors import WalletsyncError
from walletsync.protocol import jsonrpc
from walletsync.protocol.errors import InvalidMessage

ADDRESS = eth.ADDRESS
SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")
TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
HEX_BYTES = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
HEX_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
MAX_UINT256 = 2**256 - 1

TX_QUANTITIES = ("value", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "nonce", "chainId", "type")
TX_BYTES = ("data", "input")
TX_FIELDS = ("from", "to", *TX_QUANTITIES, *TX_BYTES)
TYPED_DATA_FIELDS = (("types", dict), ("primaryType", str), ("domain", dict), ("message", dict))


class MalformedRequest(WalletsyncError):
    """The user's message, typed data or transaction cannot be sent as given; the text says why."""

    code = "malformed_request"


@dataclass(frozen=True)
class Verdict:
    """Whether the phone's answer is what the session account would have produced; ``reason`` is for people."""

    verified: bool
    recovered: str | None
    account: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"verified": self.verified, "recovered": self.recovered, "account": self.account, "reason": self.reason}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 48 else text[:45] + "..."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _checksummed(address: Any) -> str:
    """The EIP-55 form of a 0x address; anything else comes back as text, untouched."""
    if isinstance(address, str) and ADDRESS.fullmatch(address):
        return eth.checksum_address(address)
    return str(address)


# --- verifying answers ----------------------------------------------------------------


def _personal_message(params: Any) -> bytes:
    """The hash a ``personal_sign [message, address]`` signs: of 0x-hex bytes, or plain text as some dapps send."""
    message = params[0] if isinstance(params, list) and params else None
    if not isinstance(message, str):
        raise ValueError("personal_sign params carry no message")
    if HEX_BYTES.fullmatch(message):
        return eth.personal_message_hash(bytes.fromhex(message[2:]))
    return eth.personal_message_hash(message.encode("utf-8"))


def _typed_message(params: Any) -> bytes:
    """The hash an ``eth_signTypedData_v4 [address, typedData]`` signs; typedData is JSON text or an object."""
    from eth_account.messages import encode_typed_data

    typed = params[1] if isinstance(params, list) and len(params) > 1 else None
    if isinstance(typed, str):
        typed = jsonrpc.loads(typed)
    if not isinstance(typed, dict):
        raise ValueError("eth_signTypedData_v4 params carry no typed data object")
    signable = encode_typed_data(full_message=typed)
    return eth.signable_hash(signable.version, signable.header, signable.body)


SIGNED_MESSAGES = {"personal_sign": _personal_message, "eth_signTypedData_v4": _typed_message}


def verify_response(method: str | None, params: list[Any], result: Any, account: str) -> Verdict:
    """Did ``account`` produce ``result`` for the request ``(method, params)`` we sent?

    Signatures are checked by recovering the signer; ``eth_sendTransaction`` can
    only be checked for a well-formed hash (the phone broadcasts it). Never
    raises: whatever the phone sent becomes a verdict with a reason.
    """
    account = _checksummed(account)
    if method == "eth_sendTransaction":
        if isinstance(result, str) and TX_HASH.fullmatch(result):
            return Verdict(True, None, account, "well-formed transaction hash")
        return Verdict(
            False, None, account, f"not a transaction hash: expected 0x and 64 hex digits, got {_show(result)}"
        )
    if method not in SIGNED_MESSAGES:
        return Verdict(False, None, account, f"walletsync cannot verify {str(method)[:60]}")
    if not isinstance(result, str) or not SIGNATURE.fullmatch(result):
        return Verdict(
            False, None, account, f"not a signature: expected 0x and 130 hex digits (65 bytes), got {_show(result)}"
        )
    try:
        message_hash = SIGNED_MESSAGES[method](params)
    except Exception as exc:  # our own request, but eth-account's errors have no common base
        return Verdict(False, None, account, f"cannot rebuild what was signed: {_first_line(exc)}")
    try:
        recovered = eth.recover_address(message_hash, bytes.fromhex(result[2:]))
    except eth.BadSignature as exc:
        return Verdict(False, None, account, f"not a signature: {_first_line(exc)}")
    if recovered.lower() != account.lower():
        return Verdict(
            False,
            recovered,
            account,
            f"signature mismatch: signed by {recovered}, not by the session account {account}",
        )
    return Verdict(True, recovered, account, "signed by the session account")


# --- building requests ----------------------------------------------------------------


def _parse_json(text: str, flag: str) -> Any:
    try:
        return jsonrpc.loads(text)
    except InvalidMessage as exc:
        detail = str(exc).removeprefix("message ")
        raise MalformedRequest(f"{flag}: input {detail}") from None


def _account(account: Any) -> str:
    if not isinstance(account, str) or not ADDRESS.fullmatch(account):
        raise MalformedRequest(f"the session account must be a 0x address, got {_show(account)}")
    return _checksummed(account)


def _message_hex(message: Any) -> str:
    if not isinstance(message, str) or not message:
        raise MalformedRequest("--message: the message is empty")
    try:
        raw = message.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedRequest("--message: the message is not valid UTF-8 text") from None
    return "0x" + raw.hex()


def _typed_data(text: Any) -> dict[str, Any]:
    from eth_account.messages import encode_typed_data

    typed = _parse_json(text, "--typed-data")
    if not isinstance(typed, dict):
        raise MalformedRequest(
            f"--typed-data: must be a JSON object with types, primaryType, domain and message, got a {type(typed).__name__}"
        )
    for name, kind in TYPED_DATA_FIELDS:
        if name not in typed:
            raise MalformedRequest(f"--typed-data: missing {name!r}")
        if not isinstance(typed[name], kind):
            raise MalformedRequest(f"--typed-data: {name!r} must be a JSON {'object' if kind is dict else 'string'}")
    try:
        encode_typed_data(full_message=typed)
    except Exception as exc:  # eth-account's errors have no common base
        raise MalformedRequest(f"--typed-data: cannot be encoded as EIP-712: {_first_line(exc)}") from None
    return typed


def _tx_address(name: str, value: Any) -> str:
    if not isinstance(value, str) or not ADDRESS.fullmatch(value):
        raise MalformedRequest(f"--tx: {name!r} must be a 20-byte 0x address, got {_show(value)}")
    mixed_case = value[2:] != value[2:].lower() and value[2:] != value[2:].upper()
    if mixed_case and not eth.is_checksum_address(value):
        raise MalformedRequest(f"--tx: {name!r} has a wrong EIP-55 checksum (a typo?): {value}")
    return _checksummed(value)


def _tx_quantity(name: str, value: Any) -> str:
    if isinstance(value, str) and HEX_QUANTITY.fullmatch(value):
        number = int(value, 16)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise MalformedRequest(f"--tx: {name!r} must be a 0x hex quantity or an integer, got {_show(value)}")
    if not 0 <= number <= MAX_UINT256:
        raise MalformedRequest(f"--tx: {name!r} must be between 0 and 2^256-1, got {_show(value)}")
    return hex(number)


def _tx_fields(text: Any) -> dict[str, Any]:
    """The transaction's fields, normalised; refused when it has neither a recipient nor code to deploy."""
    given = _parse_json(text, "--tx")
    if not isinstance(given, dict):
        raise MalformedRequest(f"--tx: must be a JSON object, got a {type(given).__name__}")
    unknown = [name for name in given if name not in TX_FIELDS]
    if unknown:
        raise MalformedRequest(f"--tx: unknown field {unknown[0]!r} (known: {', '.join(TX_FIELDS)})")
    tx: dict[str, Any] = {}
    for name, value in given.items():
        if name in ("from", "to"):
            if value is not None or name == "from":
                tx[name] = _tx_address(name, value)
        elif name in TX_QUANTITIES:
            tx[name] = _tx_quantity(name, value)
        elif name in TX_BYTES:
            if not isinstance(value, str) or not HEX_BYTES.fullmatch(value):
                raise MalformedRequest(f"--tx: {name!r} must be 0x hex bytes, got {_show(value)}")
            tx[name] = value
    if "to" not in tx and all(tx.get(name, "0x") == "0x" for name in TX_BYTES):
        raise MalformedRequest(
            "--tx: neither 'to' nor 'data': a transaction needs a recipient ('to'), or the code of a contract "
            "to create ('data'); this one would do nothing but spend gas"
        )
    return tx


@dataclass(frozen=True)
class UserRequest:
    """What the user asked the phone to sign, checked: all but the account, which the session gives.

    :func:`read_request` makes one before any session is looked up, so bad input is said first;
    :meth:`params` then fills in the account.
    """

    method: str
    content: Any
    """personal_sign: the message as 0x hex; eth_signTypedData_v4: the typed data object; eth_sendTransaction:
    the transaction's fields, normalised."""

    def params(self, account: str) -> list[Any]:
        """The request's params from ``account`` (a 0x address); :class:`MalformedRequest` if the input's
        ``from`` is another account."""
        account = _account(account)
        if self.method == "personal_sign":
            return [self.content, account]
        if self.method == "eth_signTypedData_v4":
            return [account, jsonrpc.dumps(self.content).decode("utf-8")]
        given = self.content
        if "from" in given and given["from"].lower() != account.lower():
            raise MalformedRequest(f"--tx: 'from' is {given['from']}, but the session account is {account}")
        return [{"from": account, **{name: value for name, value in given.items() if name != "from"}}]


def read_request(*, message: str | None = None, typed_data: str | None = None, tx: str | None = None) -> UserRequest:
    """Exactly one of message text, typed-data JSON text or transaction JSON text, checked.

    Raises :class:`MalformedRequest` with a one-line reason naming the flag; the
    CLI reads ``--typed-data`` files itself and passes their text.
    """
    given = [
        flag
        for flag, value in (("--message", message), ("--typed-data", typed_data), ("--tx", tx))
        if value is not None
    ]
    if len(given) != 1:
        extra = f", not {' and '.join(given)}" if given else ""
        raise MalformedRequest(f"give exactly one of --message, --typed-data or --tx{extra}")
    if message is not None:
        return UserRequest("personal_sign", _message_hex(message))
    if typed_data is not None:
        return UserRequest("eth_signTypedData_v4", _typed_data(typed_data))
    return UserRequest("eth_sendTransaction", _tx_fields(tx))


def build_request(
    *,
    message: str | None = None,
    typed_data: str | None = None,
    tx: str | None = None,
    account: str,
) -> tuple[str, list[Any]]:
    """``(method, params)`` for exactly one of: message text, typed-data JSON text, transaction JSON text."""
    request = read_request(message=message, typed_data=typed_data, tx=tx)
    return request.method, request.params(account)


def transaction_not_found(rpc_url: str, tx_hash: str, account: str) -> Verdict:
    """The verdict when the chain node at ``rpc_url`` has no transaction ``tx_hash``."""
    return Verdict(False, None, _checksummed(account), f"transaction {tx_hash[:12]}… not found at {rpc_url}")


def node_unreachable(rpc_url: str, account: str, exc: BaseException) -> Verdict:
    """The verdict when the chain node could not be asked (connection refused, a bad answer): ``exc`` says why."""
    return Verdict(False, None, _checksummed(account), f"could not ask {rpc_url}: {_first_line(exc)}")


def transaction_sender(sender: Any, account: str) -> Verdict:
    """The verdict on a transaction found on chain: verified iff ``sender`` is the session ``account``."""
    sender = _checksummed(sender)
    if sender.lower() != account.lower():
        return Verdict(
            False, sender, _checksummed(account), f"transaction sent by {sender}, not by the session account"
        )
    return Verdict(True, sender, _checksummed(account), "transaction found on chain, sent by the session account")
