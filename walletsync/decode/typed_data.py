"""What signing EIP-712 typed data would allow: permits read as effects, anything else shown as a tree.

The message is walked by its own ``types`` (as EIP-712 encodes it), so the tree shows exactly the fields that
are signed: a key of the message that no type names is not signed, and is not shown. Values are normalised as
they are encoded (integers from decimal or 0x text, addresses checksummed). Typed data that EIP-712 could not
encode, or that is larger or deeper than the bounds, is :class:`Undecodable`.

Recognised, by their primary type and field names (and types), wherever they come from:
EIP-2612 ``Permit`` (and DAI's older ``Permit`` with ``allowed``), Permit2's ``PermitSingle``, ``PermitBatch``,
``PermitTransferFrom``, ``PermitBatchTransferFrom`` and their ``…WitnessTransferFrom`` forms (UniswapX orders).
A Permit2-shaped message whose domain is not the Permit2 contract carries ``unknown_contract``.

The effects' expiry: for EIP-2612, the signature's ``deadline`` (the allowance it sets, once submitted, has
none, like ``approve``); for Permit2 allowances, the allowance's ``expiration``; for Permit2 signature
transfers, the ``deadline`` of the one transfer it allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from walletsync import eth
from walletsync.chains.model import Lookup
from walletsync.decode import warning
from walletsync.decode.contracts import PERMIT2
from walletsync.decode.model import Decoded, Effect, RequestWarning, Undecodable
from walletsync.decode.words import Words, chain_ref

MAX_DEPTH = 16
"""Structs and arrays nested in one another."""
MAX_NODES = 4096
"""Fields and array items in the whole message."""

_ARRAY = re.compile(r"(.+)\[([0-9]*)\]")
_INT = re.compile(r"(u?)int([0-9]*)")
_BYTES_N = re.compile(r"bytes([0-9]+)")
_HEX = re.compile(r"0x[0-9a-fA-F]*")

Node = dict[str, Any]


def _fail(why: str) -> Undecodable:
    return Undecodable(f"typed data: {why}")


@dataclass
class _Tree:
    """Builds the tree of one message, counting nodes against :data:`MAX_NODES`."""

    types: dict[str, list[tuple[str, str]]]
    nodes: int = 0

    def node(self, name: str, kind: str, value: Any, depth: int) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _fail(f"more than {MAX_NODES} fields and items")
        if depth > MAX_DEPTH:
            raise _fail(f"nested more than {MAX_DEPTH} deep")
        array = _ARRAY.fullmatch(kind)
        if array:
            item, size = array.groups()
            if not isinstance(value, list):
                raise _fail(f"{name!r} must be an array ({kind})")
            if size and len(value) != int(size):
                raise _fail(f"{name!r} must have {int(size)} items, not {len(value)}")
            items = [self.node(f"{name}[{i}]", item, v, depth + 1) for i, v in enumerate(value)]
            return {"name": name, "type": kind, "fields": items}
        if kind in self.types:
            if not isinstance(value, dict):
                raise _fail(f"{name!r} must be an object ({kind})")
            missing = [field for field, _ in self.types[kind] if field not in value]
            if missing:
                raise _fail(f"{name!r} has no {missing[0]!r} ({kind} needs it)")
            fields = [self.node(field, sub, value[field], depth + 1) for field, sub in self.types[kind]]
            return {"name": name, "type": kind, "fields": fields}
        return {"name": name, "type": kind, "value": _atom(name, kind, value)}


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise _fail(f"{name!r} must be a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _HEX.fullmatch(text) and len(text) > 2:
            return int(text, 16)
        if re.fullmatch(r"-?[0-9]{1,80}", text):
            return int(text)
    raise _fail(f"{name!r} must be a number, or one written as decimal or 0x text")


def _atom(name: str, kind: str, value: Any) -> Any:
    """An atomic value as the tree shows it: JSON-able, normalised as EIP-712 encodes it."""
    if kind == "address":
        if isinstance(value, str) and eth.ADDRESS.fullmatch(value):
            return eth.checksum_address(value)
        raise _fail(f"{name!r} must be a 0x address")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise _fail(f"{name!r} must be true or false")
    if kind == "string":
        if isinstance(value, str):
            return value
        raise _fail(f"{name!r} must be a string")
    integer = _INT.fullmatch(kind)
    if integer:
        unsigned, bits_text = integer.groups()
        bits = int(bits_text or "256")
        if not (0 < bits <= 256 and bits % 8 == 0):
            raise _fail(f"{kind!r} is not an EIP-712 type")
        number = _integer(name, value)
        low, high = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if not low <= number <= high:
            raise _fail(f"{name!r} does not fit a {kind}")
        return str(number)
    sized = _BYTES_N.fullmatch(kind)
    if kind == "bytes" or sized:
        if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) % 2:
            raise _fail(f"{name!r} must be 0x hex bytes")
        if sized and not (1 <= int(sized.group(1)) <= 32 and len(value) - 2 <= 2 * int(sized.group(1))):
            raise _fail(f"{name!r} does not fit a {kind}")
        return value.lower()
    raise _fail(f"the type {kind!r} is not defined")


def _types(given: Any) -> dict[str, list[tuple[str, str]]]:
    if not isinstance(given, dict):
        raise _fail("'types' must be an object")
    types: dict[str, list[tuple[str, str]]] = {}
    for type_name, fields in given.items():
        if not isinstance(fields, list) or not all(
            isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("type"), str) for f in fields
        ):
            raise _fail(f"the type {str(type_name)[:40]!r} must be a list of {{name, type}}")
        types[type_name] = [(f["name"], f["type"]) for f in fields]
    return types


def read_typed_data(data: Any) -> tuple[dict[str, list[tuple[str, str]]], str, dict[str, Any], Node]:
    """``(types, primaryType, domain, message tree)``, checked; :class:`Undecodable` for anything else."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            raise _fail("not JSON") from None
    if not isinstance(data, dict):
        raise _fail(f"must be a JSON object, not {type(data).__name__}")
    for field, kind in (("types", dict), ("primaryType", str), ("domain", dict), ("message", dict)):
        if not isinstance(data.get(field), kind):
            raise _fail(f"{field!r} must be a JSON {'string' if kind is str else 'object'}")
    types = _types(data["types"])
    primary = data["primaryType"]
    if primary not in types:
        raise _fail(f"the primary type {primary[:40]!r} is not among the types")
    tree = _Tree(types).node("message", primary, data["message"], 0)
    return types, primary, data["domain"], tree


# --- permits ------------------------------------------------------------------------------------------------------


def _fields(node: Node) -> dict[str, Node]:
    return {field["name"]: field for field in node.get("fields", [])}


def _shape(types: dict[str, list[tuple[str, str]]], kind: str) -> dict[str, str]:
    """A struct's fields as ``{name: type}``, with struct names replaced by their own shapes' markers."""
    return dict(types.get(kind, []))


def _has(types: dict[str, list[tuple[str, str]]], kind: str, wanted: dict[str, str]) -> bool:
    """Whether struct ``kind`` has (at least) these fields; a wanted type ``uint`` matches any ``uintN``."""
    shape = _shape(types, kind)
    for field, want in wanted.items():
        got = shape.get(field)
        if got is None or not (got == want or (want == "uint" and _INT.fullmatch(got) and got.startswith("uint"))):
            return False
    return True


@dataclass(frozen=True)
class _Permit:
    """What a recognised message grants: one permit effect per token, and how to say it."""

    summary: str
    effects: tuple[Effect, ...]
    warnings: tuple[RequestWarning, ...]


def _grants(
    words: Words, spender: str, grants: Sequence[tuple[str, int, int | None]], bits: int, what: str
) -> tuple[list[str], list[Effect], list[RequestWarning]]:
    said, effects, warnings = [], [], []
    for token, amount, expiry in grants:
        limit = warning.allowance(amount, bits)
        effects.append(Effect("permit", words.chain_id, token, limit, spender, expiry=expiry))
        if limit is None:
            warnings.append(warning.unlimited_approval(words, token, spender))
        if warning.is_far(expiry, words.now):
            warnings.append(warning.far_expiry(words, expiry, f"the {what} of {words.token_name(token)}"))
        said.append(f"{words.token(token, limit)} until {words.moment(expiry)}")
    return said, effects, warnings


def _listed(said: list[str]) -> str:
    return "; ".join(said[:3]) + ("; …" if len(said) > 3 else "")


def _eip2612(words: Words, domain: dict[str, Any], message: Node) -> _Permit | None:
    token = domain.get("verifyingContract")
    if token is None:
        return None
    fields = _fields(message)
    spender = fields["spender"]["value"]
    said, effects, warnings = _grants(
        words, spender, [(token, int(fields["value"]["value"]), int(fields["deadline"]["value"]))], 256, "permit"
    )
    return _Permit(f"Permit {words.address(spender)} to take {said[0]} (EIP-2612)", tuple(effects), tuple(warnings))


def _dai(words: Words, domain: dict[str, Any], message: Node) -> _Permit | None:
    token = domain.get("verifyingContract")
    if token is None:
        return None
    fields = _fields(message)
    spender = fields["spender"]["value"]
    if not fields["allowed"]["value"]:
        return _Permit(f"Revoke the approval of {words.address(spender)} for {words.token_name(token)}", (), ())
    expiry = int(fields["expiry"]["value"]) or None  # DAI: an expiry of 0 is none
    said, effects, warnings = _grants(words, spender, [(token, 2**256 - 1, expiry)], 256, "permit")
    return _Permit(
        f"Permit {words.address(spender)} to take {said[0]} (DAI-style permit)", tuple(effects), tuple(warnings)
    )


def _allowances(words: Words, domain: dict[str, Any], message: Node) -> _Permit | None:
    fields = _fields(message)
    details = fields["details"]
    items = details["fields"] if details["type"].endswith("]") else [details]
    grants = []
    for item in items:
        f = _fields(item)
        expiration = int(f["expiration"]["value"])
        grants.append((f["token"]["value"], int(f["amount"]["value"]), expiration if expiration else words.now))
    spender = fields["spender"]["value"]
    said, effects, warnings = _grants(words, spender, grants, 160, "Permit2 allowance")
    summary = f"Permit {words.address(spender)} to take {_listed(said)} through Permit2"
    return _Permit(summary, tuple(effects), tuple(warnings))


def _transfers(words: Words, domain: dict[str, Any], message: Node) -> _Permit | None:
    fields = _fields(message)
    permitted = fields["permitted"]
    items = permitted["fields"] if permitted["type"].endswith("]") else [permitted]
    deadline = int(fields["deadline"]["value"])
    grants = [(_fields(i)["token"]["value"], int(_fields(i)["amount"]["value"]), deadline) for i in items]
    spender = fields["spender"]["value"]
    said, effects, warnings = _grants(words, spender, grants, 256, "Permit2 transfer permit")
    witness = " with a witness (an order it settles)" if "witness" in fields else ""
    summary = f"Permit {words.address(spender)} to transfer once {_listed(said)} through Permit2{witness}"
    return _Permit(summary, tuple(effects), tuple(warnings))


_DETAILS = {"token": "address", "amount": "uint", "expiration": "uint", "nonce": "uint"}
_PERMITTED = {"token": "address", "amount": "uint"}


def _recognise(
    types: dict[str, list[tuple[str, str]]], primary: str
) -> tuple[Callable[[Words, dict[str, Any], Node], _Permit | None], bool] | None:
    """The reader of a recognised primary type, and whether it is a Permit2 message; None for others."""
    shape = _shape(types, primary)
    if primary == "Permit":
        eip2612 = {
            "owner": "address",
            "spender": "address",
            "value": "uint256",
            "nonce": "uint256",
            "deadline": "uint256",
        }
        dai = {"holder": "address", "spender": "address", "nonce": "uint256", "expiry": "uint256", "allowed": "bool"}
        if _has(types, primary, eip2612):
            return _eip2612, False
        if _has(types, primary, dai):
            return _dai, False
        return None
    if primary in ("PermitSingle", "PermitBatch") and _has(
        types, primary, {"spender": "address", "sigDeadline": "uint"}
    ):
        details = shape.get("details", "")
        single, batch = details in types, details.endswith("[]") and details[:-2] in types
        if (single and primary == "PermitSingle") or (batch and primary == "PermitBatch"):
            if _has(types, details.removesuffix("[]"), _DETAILS):
                return _allowances, True
        return None
    if primary in (
        "PermitTransferFrom",
        "PermitBatchTransferFrom",
        "PermitWitnessTransferFrom",
        "PermitBatchWitnessTransferFrom",
    ) and _has(types, primary, {"spender": "address", "nonce": "uint", "deadline": "uint"}):
        permitted = shape.get("permitted", "")
        batch = "Batch" in primary
        if permitted.endswith("[]") == batch and _has(types, permitted.removesuffix("[]"), _PERMITTED):
            return _transfers, True
    return None


# --- the whole ---------------------------------------------------------------------------------------------------


def _domain_tree(types: dict[str, list[tuple[str, str]]], domain: dict[str, Any]) -> Node:
    """The domain's fields by its ``EIP712Domain`` type (or as given, when the type is absent: eth-account infers
    it from the fields present)."""
    if "EIP712Domain" in types:
        return _fields(_Tree(types).node("domain", "EIP712Domain", domain, 0))
    inferred = {
        "name": "string",
        "version": "string",
        "chainId": "uint256",
        "verifyingContract": "address",
        "salt": "bytes32",
    }
    tree = _Tree({"EIP712Domain": [(k, t) for k, t in inferred.items() if k in domain]})
    return _fields(tree.node("domain", "EIP712Domain", domain, 0))


def decode_typed_data(data: Any, chain_id: str, lookup: Lookup, *, now: int) -> Decoded:
    """What signing ``data`` (an ``eth_signTypedData_v4`` object, or its JSON text) on ``chain_id`` would allow,
    as of ``now`` (unix seconds); :class:`Undecodable` when it is not typed data EIP-712 could encode."""
    types, primary, domain_given, message = read_typed_data(data)
    domain = _domain_tree(types, domain_given)
    values = {name: node.get("value") for name, node in domain.items()}
    words = Words(chain_id, lookup, None, now)
    warnings: list[RequestWarning] = []
    named_chain = values.get("chainId")
    if named_chain is not None and f"eip155:{named_chain}" != chain_id:
        warnings.append(warning.chain_mismatch(words, str(named_chain), "the typed data's domain"))
    recognised = _recognise(types, primary)
    permit = None
    if recognised is not None:
        reader, is_permit2 = recognised
        permit = reader(words, values, message)
        if permit is not None and is_permit2 and values.get("verifyingContract") != PERMIT2:
            contract = values.get("verifyingContract") or "no contract"
            warnings.append(warning.unknown_contract(words, str(contract)))
    if permit is not None:
        summary, effects = permit.summary, permit.effects
        warnings += [w for w in permit.warnings if w not in warnings]
    else:
        summary, effects = _generic_summary(words, primary, values), ()
    return Decoded(
        "typed_data", summary, chain_ref(chain_id, lookup), effects=effects, warnings=tuple(warnings), tree=message
    )


def _generic_summary(words: Words, primary: str, domain: dict[str, Any]) -> str:
    name = domain.get("name")
    by = f" for {_clipped(name)!r}" if isinstance(name, str) and name else ""
    contract = domain.get("verifyingContract")
    at = f" at {words.address(contract)}" if isinstance(contract, str) else ""
    return f"Sign {_clipped(primary)}{by}{at} (EIP-712 typed data)"


def _clipped(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
