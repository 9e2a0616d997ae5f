"""What a transaction would do: its calls (multicalls opened, within bounds), effects and warnings.

The transaction comes as ``walletsync sign --tx`` normalises it (:mod:`walletsync.signatures`) or as a dapp
sends it: ``data`` or ``input``, quantities as 0x hex (or integers). The calldata is the request's, so it may be
anything: what does not decode is shown as "unknown" with its raw data and an ``unknown_function`` warning,
never an exception. Only a transaction that is not one at all (not an object, a field of the wrong kind) is
:class:`Undecodable`.

Bounds: calls nested more than :data:`MAX_DEPTH` multicalls deep, or past :data:`MAX_CALLS` calls in all, are
not opened; they are shown as not decoded, with ``unknown_function``, so a policy knows it has not seen all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from walletsync import eth
from walletsync.chains.model import Lookup
from walletsync.decode import warning
from walletsync.decode.abi import Undecoded, decode_arguments
from walletsync.decode.functions import FUNCTIONS, Inner, Site
from walletsync.decode.model import NATIVE, Call, Decoded, Effect, RequestWarning, Undecodable
from walletsync.decode.plain import plain
from walletsync.decode.selectors import name_of
from walletsync.decode.words import Words, chain_ref

MAX_DEPTH = 3
"""Multicalls opened inside one another; calls deeper than this are not decoded."""
MAX_CALLS = 256
"""Calls decoded in one transaction, nested ones included."""
MAX_UINT256 = 2**256 - 1
_HEX_BYTES = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_HEX_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
_DECIMAL = re.compile(r"[0-9]{1,78}")


@dataclass(frozen=True)
class _Transaction:
    to: str | None
    value: int
    data: bytes
    sender: str | None
    chain_id: int | None


def _quantity(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise Undecodable(f"transaction: {name!r} must be a quantity, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _HEX_QUANTITY.fullmatch(value):
        number = int(value, 16)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = int(value)
    else:
        raise Undecodable(f"transaction: {name!r} must be a 0x hex quantity or an integer")
    if not 0 <= number <= MAX_UINT256:
        raise Undecodable(f"transaction: {name!r} must be between 0 and 2^256-1")
    return number


def _address(name: str, value: Any) -> str:
    if not isinstance(value, str) or not eth.ADDRESS.fullmatch(value):
        raise Undecodable(f"transaction: {name!r} must be a 0x address")
    return eth.checksum_address(value)


def read_transaction(tx: Any) -> _Transaction:
    """The fields decoding needs, checked; :class:`Undecodable` for anything that is not a transaction."""
    if not isinstance(tx, Mapping):
        raise Undecodable(f"transaction: must be a JSON object, not {type(tx).__name__}")
    raw = [tx[name] for name in ("data", "input") if tx.get(name) is not None]
    for given in raw:
        if not isinstance(given, str) or not _HEX_BYTES.fullmatch(given):
            raise Undecodable("transaction: 'data' and 'input' must be 0x hex bytes")
    if len({given.lower() for given in raw}) > 1:
        raise Undecodable("transaction: 'data' and 'input' differ (a node would refuse it)")
    data = bytes.fromhex(raw[0][2:]) if raw else b""
    to = tx.get("to")
    return _Transaction(
        to=None if to is None else _address("to", to),
        value=_quantity("value", tx.get("value", 0)),
        data=data,
        sender=None if tx.get("from") is None else _address("from", tx["from"]),
        chain_id=None if tx.get("chainId") is None else _quantity("chainId", tx["chainId"]),
    )


class _Walk:
    """One transaction's decoding: the calls it opens, and the effects and warnings gathered on the way."""

    def __init__(self, words: Words) -> None:
        self.words = words
        self.effects: list[Effect] = []
        self.warnings: list[RequestWarning] = []
        self.calls_left = MAX_CALLS

    def warn(self, *more: RequestWarning) -> None:
        self.warnings += [w for w in more if w not in self.warnings]

    def creation(self, value: int, code: bytes) -> Call:
        words = self.words
        self.warn(warning.contract_creation(len(code)))
        if value:
            self.effects.append(Effect("send", words.chain_id, NATIVE, value, None))
        with_value = f", sending it {words.native(value)}" if value else ""
        summary = f"Create a contract from {len(code)} bytes of code{with_value}"
        return Call(None, value, None, None, (), summary, "0x" + code.hex())

    def call(self, to: str, value: int, data: bytes, by_account: bool, depth: int) -> Call:
        """One call (and the calls nested in it): what it says, with effects and warnings added to the walk's."""
        words = self.words
        self.calls_left -= 1
        if value and by_account:
            self.effects.append(Effect("send", words.chain_id, NATIVE, value, to))
        if not data:
            return Call(to, value, None, None, (), f"Send {words.native(value)} to {words.address(to)}")
        if not words.known(to):
            self.warn(warning.unknown_contract(words, to))
        with_value = f", sending {words.native(value)} with it" if value else ""
        if len(data) < 4:
            self.warn(warning.unknown_function("0x" + data.hex(), None, "the calldata is shorter than a selector"))
            summary = f"Call {words.address(to)} with {len(data)} bytes of data{with_value}"
            return Call(to, value, None, None, (), summary, "0x" + data.hex())
        chosen = "0x" + data[:4].hex()
        known = FUNCTIONS.get(chosen)
        if known is None:
            name = name_of(chosen)
            self.warn(warning.unknown_function(chosen, name))
            called = name.split("(")[0] if name else f"unknown function {chosen}"
            summary = f"Call {called} on {words.address(to)}{with_value}"
            return Call(to, value, None, chosen, (), summary, "0x" + data.hex())
        try:
            values = decode_arguments(known.types, data[4:])
        except Undecoded as exc:
            self.warn(warning.unknown_function(chosen, known.signature, f"its arguments do not decode ({exc})"))
            summary = f"Call {known.name} on {words.address(to)} with arguments that do not decode{with_value}"
            return Call(to, value, known.signature, chosen, (), summary, "0x" + data.hex())
        arguments = dict(zip((name for name, _ in known.params), values))
        reading = known.read(Site(words, to, value, by_account), arguments)
        self.effects += reading.effects
        self.warn(*reading.warnings)
        inner = tuple(self._inner(call, depth + 1) for call in reading.inner)
        shown = tuple((name, kind, plain(kind, v)) for (name, kind), v in zip(known.params, values))
        summary = reading.summary + ("" if reading.value_said else with_value)
        return Call(to, value, known.signature, chosen, shown, summary, calls=inner)

    def _inner(self, call: Inner, depth: int) -> Call:
        if depth > MAX_DEPTH or self.calls_left <= 0:
            why = f"nested more than {MAX_DEPTH} deep" if depth > MAX_DEPTH else f"past the first {MAX_CALLS} calls"
            chosen = "0x" + call.data[:4].hex()
            self.warn(warning.unknown_function(chosen, None, f"a call {why} is not decoded"))
            summary = f"Call on {self.words.address(call.to)}, not decoded ({why})"
            return Call(
                call.to, call.value, None, chosen if len(call.data) >= 4 else None, (), summary, "0x" + call.data.hex()
            )
        return self.call(call.to, call.value, call.data, call.by_account, depth)


def _summary(call: Call) -> str:
    """The transaction in one line: its call's, with the first nested calls' after a colon."""
    if not call.calls:
        return call.summary
    said = "; ".join(inner.summary for inner in call.calls[:3]) + ("; …" if len(call.calls) > 3 else "")
    return f"{call.summary}: {said}"


def decode_transaction(tx: Any, chain_id: str, lookup: Lookup, *, account: str | None = None, now: int) -> Decoded:
    """What ``tx`` (an ``eth_sendTransaction`` object) would do on ``chain_id`` (CAIP-2), sent by ``account``
    (default: the transaction's ``from``; None when neither says), as of ``now`` (unix seconds).

    Raises :class:`Undecodable` only when ``tx`` is not a transaction object; calldata that does not decode
    is "unknown" in the result, with a warning.
    """
    fields = read_transaction(tx)
    sender = _address("account", account) if account is not None else fields.sender
    words = Words(chain_id, lookup, sender, now)
    walk = _Walk(words)
    if fields.to is None:
        call = walk.creation(fields.value, fields.data)
    else:
        call = walk.call(fields.to, fields.value, fields.data, True, 0)
    if fields.chain_id is not None and f"eip155:{fields.chain_id}" != chain_id:
        walk.warn(warning.chain_mismatch(words, str(fields.chain_id), "the transaction's chainId"))
    return Decoded(
        "transaction",
        _summary(call),
        chain_ref(chain_id, lookup),
        calls=(call,),
        effects=tuple(walk.effects),
        warnings=tuple(walk.warnings),
    )
