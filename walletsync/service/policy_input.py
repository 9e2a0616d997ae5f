"""What the user types for ``policy set``, turned into a :class:`~walletsync.policy.model.Policy`.

Native caps: ``0.1`` (each chain, in its own currency) or ``eip155:137=50`` (one chain; ``eip155:1=0.1 ETH``
checks the currency's symbol). Token caps: ``SYMBOL_OR_ADDRESS=AMOUNT`` or ``AMOUNT SYMBOL_OR_ADDRESS``,
optionally ``CHAIN:SYMBOL=AMOUNT``; a token is looked up in the registry on the named chain, else on each chain
the policy allows (else the session's chains, else every chain an active session has), and each chain where it
is found gets its own cap. The token's decimals are written into the file, so a cap keeps its meaning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from walletsync.chains.changes import UnknownToken
from walletsync.chains.model import Lookup, Token
from walletsync.decode.amounts import BadAmount, parse_amount
from walletsync.policy.model import EVERY_CHAIN, NativeCap, Policy, PolicyFileError, TokenCap, address

_CHAIN = re.compile(r"[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}")
_METHOD = re.compile(r"[A-Za-z0-9_]{1,64}")


def policy_from_input(
    lookup: Lookup,
    fallback_chains: Sequence[str],
    *,
    chains: Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    max_native_per_day: Iterable[str] = (),
    max_token_per_day: Iterable[str] = (),
    recipients: Iterable[str] | None = None,
    max_requests_per_hour: int | None = None,
    allow_unlimited_approvals: bool = False,
) -> Policy:
    """The policy these options describe (every option a limit; none given: no limit of that kind).

    ``fallback_chains``: where a token named without a chain is looked up when ``chains`` is not given.
    :class:`PolicyFileError`, :class:`BadAmount` or :class:`UnknownToken` say what is wrong with which option.
    """
    chain_set = None if chains is None else frozenset(_each(chains, _CHAIN, "--chains", "a CAIP-2 chain like eip155:1"))
    method_set = (
        None
        if methods is None
        else frozenset(_each(methods, _METHOD, "--methods", "a method like eth_sendTransaction"))
    )
    if max_requests_per_hour is not None and not 0 <= max_requests_per_hour <= 10**6:
        raise PolicyFileError("--max-requests-per-hour must be from 0 to 1000000")
    where = sorted(chain_set) if chain_set is not None else list(dict.fromkeys(fallback_chains))
    return Policy(
        chains=chain_set,
        methods=method_set,
        native_caps=tuple(_native_cap(text, lookup) for text in max_native_per_day),
        token_caps=tuple(cap for text in max_token_per_day for cap in _token_caps(text, lookup, where)),
        recipients=None if recipients is None else frozenset(address(r.strip(), "--recipients") for r in recipients),
        max_requests_per_hour=max_requests_per_hour,
        allow_unlimited_approvals=allow_unlimited_approvals,
    )


def _each(items: Iterable[str], pattern: re.Pattern[str], option: str, what: str) -> list[str]:
    found = []
    for item in items:
        item = item.strip()
        if not pattern.fullmatch(item):
            raise PolicyFileError(f"{option}: {item[:70]!r} is not {what}")
        found.append(item)
    return found


def _native_cap(text: str, lookup: Lookup) -> NativeCap:
    chain, equals, amount = text.rpartition("=")
    chain = chain.strip() if equals else EVERY_CHAIN
    if chain != EVERY_CHAIN and not _CHAIN.fullmatch(chain):
        raise PolicyFileError(f"--max-native-per-day: {chain[:70]!r} is not a CAIP-2 chain like eip155:1")
    known = lookup.chain(chain) if chain != EVERY_CHAIN else None
    number, _, symbol = amount.strip().partition(" ")
    symbol = symbol.strip()
    if symbol and known is None:
        raise PolicyFileError(
            f"--max-native-per-day {text!r}: a currency symbol needs a chain walletsync knows "
            "(write eip155:1=0.1, or 0.1 for every chain in its own currency)"
        )
    if symbol and known is not None and symbol.upper() != known.currency.upper():
        raise PolicyFileError(f"--max-native-per-day: {known.label()} counts in {known.currency}, not {symbol}")
    try:
        parse_amount(number, known.decimals if known else 18)
    except BadAmount as exc:
        raise BadAmount(f"--max-native-per-day: {exc}") from None
    return NativeCap(chain, number.strip())


def _token_caps(text: str, lookup: Lookup, chains: Sequence[str]) -> list[TokenCap]:
    name, equals, amount = text.partition("=")
    if not equals:  # "500 USDC"
        amount, _, name = text.strip().partition(" ")
    name, amount = name.strip(), amount.strip()
    if not name or not amount:
        raise PolicyFileError(f"--max-token-per-day {text[:70]!r}: write SYMBOL_OR_ADDRESS=AMOUNT, like USDC=500")
    chain, colon, token = name.rpartition(":")
    if colon and _CHAIN.fullmatch(chain):
        chains, name = [chain], token
    found = [t for t in (_token(lookup, c, name) for c in chains) if t is not None]
    if not found:
        where = ", ".join(chains) or "no chain (name one: CHAIN:SYMBOL=AMOUNT, or --chains)"
        raise UnknownToken(
            f"--max-token-per-day: walletsync knows no single token {name[:50]!r} on {where} (unknown, or several "
            "share that symbol): use its address, and add it first if walletsync does not know it: "
            "walletsync chains token add CHAIN ADDRESS --symbol SYMBOL --decimals DECIMALS"
        )
    caps = []
    for known in found:
        try:
            parse_amount(amount, known.decimals)
        except BadAmount as exc:
            raise BadAmount(f"--max-token-per-day {known.label()}: {exc}") from None
        caps.append(TokenCap(known.chain_id, known.address, known.symbol, known.decimals, amount))
    return caps


def _token(lookup: Lookup, chain_id: str, name: str) -> Token | None:
    if name[:2].lower() == "0x":
        return lookup.token(chain_id, address(name, "--max-token-per-day"))
    return lookup.token_by_symbol(chain_id, name)
