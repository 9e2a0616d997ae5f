"""The functions decoding knows: each one's ABI, and what a call of it does, in words and in effects.

One table, :data:`FUNCTIONS` (selector → :class:`Known`); each entry's reader gets the call's :class:`Site`
and its arguments by name, and returns a :class:`Reading`. Readers are small and alike on purpose; what they
share lives in the helpers just above the table.

Whose assets a call moves. A call's ``msg.sender`` is the account at the top and inside a self-multicall
(Uniswap's ``multicall`` delegatecalls itself), but it is Multicall3 inside ``aggregate*``: a ``transfer`` or
``approve`` there moves Multicall3's own tokens, not the account's, so it has no effect. Calls naming an owner
(``transferFrom(from, …)``, a permit's ``owner``) count when that owner is the account — or when the account
is unknown (``decode`` without ``from``), since what policies count must not be missed.

ERC-20 and ERC-721 share ``approve(address,uint256)`` and ``transferFrom(address,address,uint256)``: a contract
the registry knows as a token is read as ERC-20; any other is read as ERC-20 too, its number shown as "an
amount, or an NFT's id" where it matters, and the call carries ``unknown_contract`` anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from walletsync import eth
from walletsync.decode import universal_router as ur
from walletsync.decode import warning
from walletsync.decode.abi import selector
from walletsync.decode.model import Effect, RequestWarning
from walletsync.decode.words import Words, utc

Args = dict[str, Any]


@dataclass(frozen=True)
class Site:
    """Where a call happens: the contract called, the value sent, and whether ``msg.sender`` is the account."""

    words: Words
    to: str
    value: int
    by_account: bool

    def owns(self, owner: str) -> bool:
        """Whether ``owner``'s assets are the account's (any owner's are, when the account is unknown)."""
        return self.words.account is None or owner == self.words.account


@dataclass(frozen=True)
class Inner:
    """A call nested in a multicall, decoded in its turn."""

    to: str
    value: int
    data: bytes
    by_account: bool


@dataclass(frozen=True)
class Reading:
    """What one call does: its line for people, its effects and warnings, and the calls nested in it."""

    summary: str
    effects: tuple[Effect, ...] = ()
    warnings: tuple[RequestWarning, ...] = ()
    inner: tuple[Inner, ...] = ()
    value_said: bool = False
    """The summary already says what the call's native value does (a WETH deposit)."""


@dataclass(frozen=True)
class Known:
    """A function decoding knows: its name, its parameters ``(name, abi type)``, and how to read a call of it."""

    name: str
    params: tuple[tuple[str, str], ...]
    read: Callable[[Site, Args], Reading]

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(kind for _, kind in self.params)

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.types)})"


def address(value: Any) -> str:
    """An ABI-decoded address (lower case) in its EIP-55 form."""
    return eth.checksum_address(str(value))


# --- what the readers share ------------------------------------------------------------------------------------


def _send(site: Site, asset: str, amount: int, to: str, token_id: int | None = None) -> tuple[Effect, ...]:
    return (Effect("send", site.words.chain_id, asset, amount, to, token_id=token_id),)


def _grant(
    site: Site,
    kind: Literal["approve", "permit"],
    token: str,
    amount: int,
    spender: str,
    *,
    bits: int = 256,
    expiry: int | None = None,
    expires: bool = False,
) -> tuple[int | None, tuple[Effect, ...], tuple[RequestWarning, ...]]:
    """Letting ``spender`` take ``amount`` of ``token``: the effect's amount (None: unlimited), the effect, and its
    warnings (unlimited; far expiry when the grant ``expires`` at ``expiry`` — None is never)."""
    words = site.words
    limit = warning.allowance(amount, bits)
    effect = Effect(kind, words.chain_id, token, limit, spender, expiry=expiry)
    warnings = [] if limit is not None else [warning.unlimited_approval(words, token, spender)]
    if expires and warning.is_far(expiry, words.now):
        warnings.append(warning.far_expiry(words, expiry, f"the {kind} of {words.token_name(token)}"))
    return limit, (effect,), tuple(warnings)


def _permit2_expiry(site: Site, expiration: int) -> int:
    """Permit2 reads an ``expiration`` of 0 as "this block only": the allowance ends at once."""
    return expiration if expiration else site.words.now


def _is_token(site: Site) -> bool:
    return site.words.known_token(site.to) is not None


def _moved(site: Site, number: int) -> str:
    """The token amount a shared ERC-20/ERC-721 selector moves: exact for a known token, hedged otherwise."""
    if _is_token(site):
        return site.words.token(site.to, number)
    return f"{number} (an amount, or an NFT's id) of {site.words.token_name(site.to)}"


# --- ERC-20 -----------------------------------------------------------------------------------------------------


def _transfer(site: Site, a: Args) -> Reading:
    words, to, amount = site.words, address(a["to"]), a["amount"]
    summary = f"Transfer {words.token(site.to, amount)} to {words.address(to)}"
    return Reading(summary, _send(site, site.to, amount, to) if site.by_account else ())


def _approve(site: Site, a: Args) -> Reading:
    words, spender, amount = site.words, address(a["spender"]), a["amount"]
    if amount == 0:
        return Reading(f"Revoke the approval of {words.address(spender)} for {words.token_name(site.to)}")
    limit, effects, warnings = _grant(site, "approve", site.to, amount, spender)
    what = words.token(site.to, limit) if _is_token(site) or limit is None else _moved(site, amount)
    summary = f"Approve {what} for {words.address(spender)}"
    return Reading(summary, effects, warnings) if site.by_account else Reading(summary)


def _increase_allowance(site: Site, a: Args) -> Reading:
    words, spender = site.words, address(a["spender"])
    limit, effects, warnings = _grant(site, "approve", site.to, a["added"], spender)
    summary = f"Raise the approval of {words.address(spender)} by {words.token(site.to, limit)}"
    return Reading(summary, effects, warnings) if site.by_account else Reading(summary)


def _decrease_allowance(site: Site, a: Args) -> Reading:
    words, spender = site.words, address(a["spender"])
    return Reading(f"Lower the approval of {words.address(spender)} by {words.token(site.to, a['subtracted'])}")


def _transfer_from(site: Site, a: Args) -> Reading:
    words, src, dst, amount = site.words, address(a["from"]), address(a["to"]), a["amount"]
    summary = f"Transfer {_moved(site, amount)} from {words.address(src)} to {words.address(dst)}"
    return Reading(summary, _send(site, site.to, amount, dst) if site.owns(src) else ())


def _erc2612_permit(site: Site, a: Args) -> Reading:
    words, owner, spender = site.words, address(a["owner"]), address(a["spender"])
    limit, effects, warnings = _grant(site, "permit", site.to, a["value"], spender)
    summary = (
        f"Submit a permit: {words.address(owner)} lets {words.address(spender)} take {words.token(site.to, limit)}"
    )
    return Reading(summary, effects, warnings) if site.owns(owner) else Reading(summary)


def _self_permit(site: Site, a: Args) -> Reading:
    """Uniswap's routers' ``selfPermit``: the caller's EIP-2612 permit letting the router itself take the token."""
    words, token = site.words, address(a["token"])
    limit, effects, warnings = _grant(site, "permit", token, a["value"], site.to)
    summary = f"Submit a permit letting {words.address(site.to)} take {words.token(token, limit)}"
    return Reading(summary, effects, warnings) if site.by_account else Reading(summary)


def _self_permit_allowed(site: Site, a: Args) -> Reading:
    """The same with DAI's permit, which allows everything."""
    return _self_permit(site, {"token": a["token"], "value": 2**256 - 1})


# --- NFTs: ERC-721 and ERC-1155 ---------------------------------------------------------------------------------


def _nft_transfer(site: Site, a: Args) -> Reading:
    words, src, dst, token_id = site.words, address(a["from"]), address(a["to"]), a["id"]
    summary = f"Transfer NFT #{token_id} of {words.address(site.to)} from {words.address(src)} to {words.address(dst)}"
    return Reading(summary, _send(site, site.to, 1, dst, token_id) if site.owns(src) else ())


def _approval_for_all(site: Site, a: Args) -> Reading:
    words, operator = site.words, address(a["operator"])
    if not a["approved"]:
        return Reading(f"Revoke the approval of {words.address(operator)} for all tokens of {words.address(site.to)}")
    summary = f"Approve {words.address(operator)} for ALL your tokens of {words.address(site.to)}"
    if not site.by_account:
        return Reading(summary)
    effect = Effect("approve_all", words.chain_id, site.to, None, operator)
    return Reading(summary, (effect,), (warning.approval_for_all(words, site.to, operator),))


def _erc1155_transfer(site: Site, a: Args) -> Reading:
    words, src, dst, token_id, amount = site.words, address(a["from"]), address(a["to"]), a["id"], a["amount"]
    summary = (
        f"Transfer {amount} of token #{token_id} of {words.address(site.to)} "
        f"from {words.address(src)} to {words.address(dst)}"
    )
    return Reading(summary, _send(site, site.to, amount, dst, token_id) if site.owns(src) else ())


def _erc1155_batch(site: Site, a: Args) -> Reading:
    words, src, dst = site.words, address(a["from"]), address(a["to"])
    pairs = list(zip(a["ids"], a["amounts"]))
    listed = ", ".join(f"{amount} of #{token_id}" for token_id, amount in pairs[:5]) + (", …" if len(pairs) > 5 else "")
    mismatch = " (ids and amounts differ in length: the call would fail)" if len(a["ids"]) != len(a["amounts"]) else ""
    summary = (
        f"Transfer {len(pairs)} kinds of token of {words.address(site.to)} from {words.address(src)} "
        f"to {words.address(dst)}: {listed}{mismatch}"
    )
    if not site.owns(src) or mismatch:
        return Reading(summary)
    return Reading(summary, tuple(e for token_id, n in pairs for e in _send(site, site.to, n, dst, token_id)))


# --- WETH --------------------------------------------------------------------------------------------------------


def _deposit(site: Site, a: Args) -> Reading:
    words = site.words
    return Reading(f"Wrap {words.native(site.value)} into {words.token_name(site.to)}", value_said=True)


def _withdraw(site: Site, a: Args) -> Reading:
    words = site.words
    chain = words.lookup.chain(words.chain_id)
    into = chain.currency if chain is not None else "the native currency"
    return Reading(f"Unwrap {words.token(site.to, a['amount'])} into {into}")


# --- Permit2 ----------------------------------------------------------------------------------------------------

_DETAILS = "(address,uint160,uint48,uint48)"
"""Permit2's PermitDetails: token, amount, expiration, nonce."""


def _permit2_approve(site: Site, a: Args) -> Reading:
    words, token, spender = site.words, address(a["token"]), address(a["spender"])
    expiry = _permit2_expiry(site, a["expiration"])
    limit, effects, warnings = _grant(
        site, "approve", token, a["amount"], spender, bits=160, expiry=expiry, expires=True
    )
    summary = (
        f"Approve {words.token(token, limit)} for {words.address(spender)} through Permit2 until {words.moment(expiry)}"
    )
    return Reading(summary, effects, warnings) if site.by_account else Reading(summary)


def _permit2_grants(site: Site, owner: str, details: list[Any], spender: str) -> Reading:
    """The effects and warnings of Permit2 permits for each ``(token, amount, expiration, nonce)``, and their words."""
    words, said = site.words, []
    effects: list[Effect] = []
    warnings: list[RequestWarning] = []
    for token_raw, amount, expiration, _nonce in details:
        token, expiry = address(token_raw), _permit2_expiry(site, expiration)
        limit, effect, cautions = _grant(site, "permit", token, amount, spender, bits=160, expiry=expiry, expires=True)
        effects += effect
        warnings += cautions
        said.append(f"{words.token(token, limit)} until {words.moment(expiry)}")
    listed = "; ".join(said[:3]) + ("; …" if len(said) > 3 else "")
    summary = f"Submit a Permit2 permit: {words.address(owner)} lets {words.address(spender)} take {listed}"
    return Reading(summary, tuple(effects), tuple(warnings)) if site.owns(owner) else Reading(summary)


def _permit2_permit(site: Site, a: Args) -> Reading:
    details, spender, _deadline = a["permit"]
    return _permit2_grants(site, address(a["owner"]), [details], address(spender))


def _permit2_permit_batch(site: Site, a: Args) -> Reading:
    details, spender, _deadline = a["permit"]
    return _permit2_grants(site, address(a["owner"]), list(details), address(spender))


def _permit2_transfer(site: Site, moves: list[Any]) -> Reading:
    words, said = site.words, []
    effects: list[Effect] = []
    for src_raw, dst_raw, amount, token_raw in moves:
        src, dst, token = address(src_raw), address(dst_raw), address(token_raw)
        said.append(f"{words.token(token, amount)} from {words.address(src)} to {words.address(dst)}")
        if site.owns(src):
            effects += _send(site, token, amount, dst)
    listed = "; ".join(said[:3]) + ("; …" if len(said) > 3 else "")
    return Reading(f"Transfer through Permit2: {listed}", tuple(effects))


def _permit2_transfer_from(site: Site, a: Args) -> Reading:
    return _permit2_transfer(site, [(a["from"], a["to"], a["amount"], a["token"])])


def _permit2_transfer_batch(site: Site, a: Args) -> Reading:
    return _permit2_transfer(site, list(a["transfers"]))


# --- multicalls --------------------------------------------------------------------------------------------------


def _self_multicall(site: Site, a: Args) -> Reading:
    """Uniswap's ``multicall``: the contract delegatecalls itself, so each call is the account's, to ``to``."""
    calls = tuple(Inner(site.to, 0, bytes(data), site.by_account) for data in a["data"])
    deadline = f", deadline {utc(a['deadline'])}" if "deadline" in a else ""
    return Reading(f"{_calls(len(calls))} to {site.words.address(site.to)} in one (multicall{deadline})", inner=calls)


def _calls(count: int) -> str:
    return "1 call" if count == 1 else f"{count} calls"


def _aggregate(site: Site, calls: list[Inner]) -> Reading:
    """Multicall3: it calls each target itself, so ``msg.sender`` there is Multicall3, not the account."""
    return Reading(
        f"{_calls(len(calls))} through {site.words.address(site.to)}, made by that contract as itself",
        inner=tuple(calls),
    )


def _aggregate_plain(site: Site, a: Args) -> Reading:
    return _aggregate(site, [Inner(address(target), 0, bytes(data), False) for target, data in a["calls"]])


def _aggregate3(site: Site, a: Args) -> Reading:
    return _aggregate(site, [Inner(address(target), 0, bytes(data), False) for target, _fail, data in a["calls"]])


def _aggregate3_value(site: Site, a: Args) -> Reading:
    return _aggregate(
        site, [Inner(address(target), value, bytes(data), False) for target, _fail, value, data in a["calls"]]
    )


# --- Uniswap's Universal Router ------------------------------------------------------------------------------------

_EXECUTE = selector("execute(bytes,bytes[],uint256)")


def _router(site: Site, a: Args) -> Reading:
    """``execute``: its commands in order. What the account pays (a swap it pays for, a Permit2 transfer or permit
    from it) is an effect; what the router pays out of its own balance (swept, wrapped, paid on) is not."""
    said: list[str] = []
    effects: list[Effect] = []
    warnings: list[RequestWarning] = []
    plan = ur.commands(bytes(a["commands"]), [bytes(data) for data in a["inputs"]])
    for command in plan:
        reading = _router_command(site, command)
        said.append(reading.summary + (" (allowed to fail)" if command.may_fail else ""))
        effects += reading.effects
        warnings += [w for w in reading.warnings if w not in warnings]
    listed = "; ".join(said[:6]) + ("; …" if len(said) > 6 else "")
    deadline = f", deadline {utc(a['deadline'])}" if "deadline" in a else ""
    count = "1 command" if len(plan) == 1 else f"{len(plan)} commands"
    summary = f"Run {count} on Uniswap's Universal Router {site.words.address(site.to)}{deadline}: {listed}"
    return Reading(summary, tuple(effects), tuple(warnings))


def _router_command(site: Site, c: ur.Command) -> Reading:
    if c.problem is not None or c.name is None:
        what = f"command 0x{c.kind:02x}" if c.kind >= 0 else "the commands"
        why = c.problem or "unknown"
        return Reading(
            f"{what}, not decoded", warnings=(warning.unknown_function(_EXECUTE, f"Universal Router {what}", why),)
        )
    words, args = site.words, c.args
    if c.name.endswith(("swap_exact_in", "swap_exact_out")):
        return _router_swap(site, c)
    if c.name in ("permit2_permit", "permit2_permit_batch"):
        (details, spender, _deadline), _signature = args
        listed = [details] if c.name == "permit2_permit" else list(details)
        reading = _permit2_grants(site, words.account or ur.MSG_SENDER, listed, address(spender))
        return reading if site.by_account else Reading(reading.summary)
    if c.name == "permit2_transfer_from":
        token, recipient, amount = address(args[0]), _recipient(site, args[1]), args[2]
        summary = f"move {words.token(token, amount)} of yours to {_whom(site, args[1])} through Permit2"
        moved = site.by_account and recipient != words.account
        return Reading(summary, _send(site, token, amount, recipient) if moved else ())
    if c.name == "permit2_transfer_from_batch":
        reading = _permit2_transfer(site, list(args[0]))
        return reading if site.by_account else Reading(reading.summary)
    if c.name in ("wrap_eth", "unwrap_weth", "unwrap_weth_exact"):
        whom, amount = _whom(site, args[0]), args[1]
        if c.name == "wrap_eth":
            return Reading(f"wrap {_held(site, ur.ETH, amount)} into the wrapped native token for {whom}")
        exactly = "exactly" if c.name == "unwrap_weth_exact" else "at least"
        return Reading(f"unwrap the router's wrapped native token ({exactly} {words.native(amount)}) for {whom}")
    token, whom, number = address(args[0]), _whom(site, args[1]), args[2]
    if c.name == "balance_check_erc20":
        return Reading(
            f"check that {words.address(address(args[0]))} holds at least {words.token(address(args[1]), number)}"
        )
    if c.name == "sweep":
        return Reading(
            f"send all the router's {_token_name(site, token)} (at least {_held(site, token, number)}) to {whom}"
        )
    if c.name == "transfer":
        return Reading(f"pay {_held(site, token, number)} from the router to {whom}")
    share = number / 100 if c.name == "pay_portion" else number / 10**16
    return Reading(f"pay {share:g}% of the router's {_token_name(site, token)} to {whom}")


def _router_swap(site: Site, c: ur.Command) -> Reading:
    """A V2 or V3 swap: what goes in (at most, for an exact-out swap), what comes out (at least), to whom, who pays."""
    words = site.words
    recipient, first, second, path, payer_is_user = c.args
    exact_in = c.name is not None and c.name.endswith("exact_in")
    v3 = c.name is not None and c.name.startswith("v3")
    tokens = ur.v3_tokens(bytes(path)) if v3 else [address(t) for t in path]
    if tokens is None or len(tokens) < 2:
        why = "its path names fewer than two tokens"
        return Reading(
            "a swap, not decoded", warnings=(warning.unknown_function(_EXECUTE, "Universal Router swap", why),)
        )
    tokens = [address(t) for t in tokens]
    if v3 and not exact_in:
        tokens.reverse()  # an exact-output V3 path starts at the token bought
    sold, bought = tokens[0], tokens[-1]
    given = _held(site, sold, first) if exact_in else f"at most {words.token(sold, second)}"
    got = f"at least {words.token(bought, second)}" if exact_in else words.token(bought, first)
    via = "Uniswap V3" if v3 else "Uniswap V2"
    paid = "paid by you" if payer_is_user else "from the router's balance"
    summary = f"swap {given} ({paid}) for {got} on {via}, to {_whom(site, recipient)}"
    spent = first if exact_in else second
    if not (payer_is_user and site.by_account) or spent == ur.CONTRACT_BALANCE:
        return Reading(summary)
    return Reading(summary, _send(site, sold, spent, site.to))


def _recipient(site: Site, raw: Any) -> str:
    """Where the router sends: the account for MSG_SENDER (when it called), the router for ADDRESS_THIS."""
    found = str(raw).lower()
    if found == ur.MSG_SENDER and site.by_account and site.words.account is not None:
        return site.words.account
    return site.to if found == ur.ADDRESS_THIS else address(found)


def _whom(site: Site, raw: Any) -> str:
    found = str(raw).lower()
    if found == ur.MSG_SENDER:
        return "you" if site.by_account else "the caller"
    if found == ur.ADDRESS_THIS:
        return "the router (for the next command)"
    return site.words.address(address(found))


def _token_name(site: Site, token: str) -> str:
    if token != address(ur.ETH):
        return site.words.token_name(token)
    chain = site.words.lookup.chain(site.words.chain_id)
    return chain.currency if chain is not None else "native currency"


def _held(site: Site, token: str, amount: int) -> str:
    """An amount the router handles: ``all the router's USDC`` for its whole balance."""
    if amount == ur.CONTRACT_BALANCE:
        return f"all the router's {_token_name(site, token)}"
    return site.words.native(amount) if token == address(ur.ETH) else site.words.token(token, amount)


# --- the table ---------------------------------------------------------------------------------------------------


def _known(name: str, params: str, read: Callable[[Site, Args], Reading]) -> Known:
    """``params`` as ``"type name, type name"``; a tuple type is written without spaces."""
    pairs = tuple((item.split()[1], item.split()[0]) for item in params.split(", ")) if params else ()
    return Known(name, pairs, read)


_PERMIT_SIGNED = "address token, {}, uint8 v, bytes32 r, bytes32 s"

_TABLE = [
    # ERC-20 (approve and transferFrom are ERC-721's too)
    _known("transfer", "address to, uint256 amount", _transfer),
    _known("approve", "address spender, uint256 amount", _approve),
    _known("transferFrom", "address from, address to, uint256 amount", _transfer_from),
    _known("increaseAllowance", "address spender, uint256 added", _increase_allowance),
    _known("decreaseAllowance", "address spender, uint256 subtracted", _decrease_allowance),
    _known(
        "permit",
        "address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s",
        _erc2612_permit,
    ),
    # EIP-2612 permits the caller submits to a router that then takes the tokens itself
    _known("selfPermit", _PERMIT_SIGNED.format("uint256 value, uint256 deadline"), _self_permit),
    _known("selfPermitIfNecessary", _PERMIT_SIGNED.format("uint256 value, uint256 deadline"), _self_permit),
    _known("selfPermitAllowed", _PERMIT_SIGNED.format("uint256 nonce, uint256 expiry"), _self_permit_allowed),
    _known(
        "selfPermitAllowedIfNecessary", _PERMIT_SIGNED.format("uint256 nonce, uint256 expiry"), _self_permit_allowed
    ),
    # ERC-721 and ERC-1155
    _known("safeTransferFrom", "address from, address to, uint256 id", _nft_transfer),
    _known("safeTransferFrom", "address from, address to, uint256 id, bytes data", _nft_transfer),
    _known("setApprovalForAll", "address operator, bool approved", _approval_for_all),
    _known("safeTransferFrom", "address from, address to, uint256 id, uint256 amount, bytes data", _erc1155_transfer),
    _known(
        "safeBatchTransferFrom",
        "address from, address to, uint256[] ids, uint256[] amounts, bytes data",
        _erc1155_batch,
    ),
    # WETH
    _known("deposit", "", _deposit),
    _known("withdraw", "uint256 amount", _withdraw),
    # Permit2 (AllowanceTransfer)
    _known("approve", "address token, address spender, uint160 amount, uint48 expiration", _permit2_approve),
    _known("permit", f"address owner, ({_DETAILS},address,uint256) permit, bytes signature", _permit2_permit),
    _known("permit", f"address owner, ({_DETAILS}[],address,uint256) permit, bytes signature", _permit2_permit_batch),
    _known("transferFrom", "address from, address to, uint160 amount, address token", _permit2_transfer_from),
    _known("transferFrom", "(address,address,uint160,address)[] transfers", _permit2_transfer_batch),
    # multicalls: Uniswap's (self) and Multicall3's (as itself)
    _known("multicall", "bytes[] data", _self_multicall),
    _known("multicall", "uint256 deadline, bytes[] data", _self_multicall),
    _known("multicall", "bytes32 previousBlockhash, bytes[] data", _self_multicall),
    _known("aggregate", "(address,bytes)[] calls", _aggregate_plain),
    _known("tryAggregate", "bool requireSuccess, (address,bytes)[] calls", _aggregate_plain),
    _known("blockAndAggregate", "(address,bytes)[] calls", _aggregate_plain),
    _known("tryBlockAndAggregate", "bool requireSuccess, (address,bytes)[] calls", _aggregate_plain),
    _known("aggregate3", "(address,bool,bytes)[] calls", _aggregate3),
    _known("aggregate3Value", "(address,bool,uint256,bytes)[] calls", _aggregate3_value),
    # Uniswap's Universal Router
    _known("execute", "bytes commands, bytes[] inputs, uint256 deadline", _router),
    _known("execute", "bytes commands, bytes[] inputs", _router),
]

FUNCTIONS: dict[str, Known] = {selector(known.signature): known for known in _TABLE}
"""Each known function by its selector (``0xa9059cbb``)."""
