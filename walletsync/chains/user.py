"""The user's additions to the registry: chains added or changed, and tokens added, as config.json keeps them.

``config.json`` holds them under two keys (the service reads and writes the file; this module only says
what its content means, and checks it)::

    "chains": {"eip155:31337": {"name": "Anvil", "currency": "ETH", "decimals": 18,
                                "explorers": [], "rpcs": ["http://127.0.0.1:8545"]}},
    "tokens": {"eip155:1": {"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48":
                                {"symbol": "USDC", "decimals": 6, "name": "USD Coin"}}}

A chain entry may name only some fields: over a bundled chain they replace the bundled values (``rpcs``
alone is how a preferred RPC list is kept); a chain walletsync does not ship needs a name and a currency.
What the user typed and what a hand edit left are checked alike: a bad entry is a :class:`BadChainEntry`
naming it, never a crash or a name that could forge a line on the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from walletsync.chains.model import Token
from walletsync.errors import WalletsyncError
from walletsync.eth import ADDRESS, checksum_address
from walletsync.protocol.namespaces import is_chain_id
from walletsync.text import cells, is_escaped

MAX_NAME_CELLS = 64
MAX_SYMBOL_CHARS = 16
MAX_DECIMALS = 255
"""ERC-20's ``decimals()`` is a uint8."""
MAX_URLS = 16
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*")


class BadChainEntry(WalletsyncError):
    """A chain or token the user gave (on the command line or in config.json) is not one walletsync can use."""

    code = "bad_chain"


@dataclass(frozen=True)
class ChainEntry:
    """One chain the user added or changed; ``None`` leaves the bundled value (if any) as it is."""

    id: str
    name: str | None = None
    currency: str | None = None
    decimals: int | None = None
    explorers: tuple[str, ...] | None = None
    rpcs: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry as config.json keeps it: only the fields it sets."""
        out: dict[str, Any] = {}
        for key in ("name", "currency", "decimals", "explorers", "rpcs"):
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class Additions:
    """Everything the user added: chain entries by CAIP-2 id, tokens by chain and lower-case address."""

    chains: Mapping[str, ChainEntry] = field(default_factory=dict)
    tokens: Mapping[str, Mapping[str, Token]] = field(default_factory=dict)

    def with_chain(self, entry: ChainEntry) -> Additions:
        """These additions with ``entry`` (its fields over those of an entry already there)."""
        old = self.chains.get(entry.id)
        if old is not None:
            entry = replace(old, **{k: v for k, v in vars(entry).items() if v is not None})
        return replace(self, chains={**self.chains, entry.id: entry})

    def without_chain(self, chain_id: str) -> Additions:
        """These additions without the chain's entry, nor its tokens."""
        return Additions(
            {k: v for k, v in self.chains.items() if k != chain_id},
            {k: v for k, v in self.tokens.items() if k != chain_id},
        )

    def with_token(self, token: Token) -> Additions:
        on_chain = {**self.tokens.get(token.chain_id, {}), token.address.lower(): token}
        return replace(self, tokens={**self.tokens, token.chain_id: on_chain})

    def without_token(self, chain_id: str, address: str) -> Additions:
        on_chain = {k: v for k, v in self.tokens.get(chain_id, {}).items() if k != address.lower()}
        tokens = {k: v for k, v in self.tokens.items() if k != chain_id}
        return replace(self, tokens={**tokens, chain_id: on_chain} if on_chain else tokens)

    def to_settings(self) -> dict[str, Any]:
        """The ``chains`` and ``tokens`` values of config.json."""
        return {
            "chains": {chain_id: entry.to_json() for chain_id, entry in self.chains.items()},
            "tokens": {
                chain_id: {
                    t.address: {"symbol": t.symbol, "decimals": t.decimals, **({"name": t.name} if t.name else {})}
                    for t in on_chain.values()
                }
                for chain_id, on_chain in self.tokens.items()
            },
        }


def chain_id_of(value: Any) -> str:
    """A CAIP-2 chain id (``eip155:137``); a bare number is taken as an EVM chain (``137`` → ``eip155:137``)."""
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        value = f"eip155:{int(value)}"
    if not is_chain_id(value) or len(value) > 64 or any(c.isspace() or is_escaped(c) for c in value):
        raise BadChainEntry(f"{_said(value)} is not a CAIP-2 chain id (namespace:reference, e.g. eip155:137)")
    assert isinstance(value, str)
    if value.startswith("eip155:") and not value[7:].isdigit():
        raise BadChainEntry(f"{_said(value)} is not an EVM chain id: eip155: is followed by the chain's number")
    return value


def name_of(value: Any, what: str = "name") -> str:
    """A chain's or token's name: trimmed, one line of visible characters, at most 64 cells wide."""
    if not isinstance(value, str) or not " ".join(value.split()):
        raise BadChainEntry(f"a {what} is some text, not {_said(value)}")
    text = " ".join(value.split())
    if any(is_escaped(c) for c in text) or cells(text) > MAX_NAME_CELLS:
        raise BadChainEntry(f"a {what} is visible text of at most {MAX_NAME_CELLS} cells, not {_said(text)}")
    return text


def symbol_of(value: Any) -> str:
    """A currency or token symbol: visible characters, no spaces, at most 16."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_SYMBOL_CHARS
        or any(c.isspace() or is_escaped(c) for c in value)
    ):
        raise BadChainEntry(
            f"a symbol is 1 to {MAX_SYMBOL_CHARS} visible characters without spaces, not {_said(value)}"
        )
    return value


def decimals_of(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DECIMALS:
        raise BadChainEntry(f"decimals is a whole number from 0 to {MAX_DECIMALS}, not {_said(value)}")
    return value


def address_of(value: Any) -> str:
    """A token's address, EIP-55 checksummed; mixed case that is not the checksum is refused (a typo, EIP-55 says)."""
    if not isinstance(value, str) or not ADDRESS.fullmatch(value):
        raise BadChainEntry(f"{_said(value)} is not an address (0x and 40 hex digits)")
    checksummed = checksum_address(value)
    if value != checksummed and value not in (value.lower(), "0x" + value[2:].upper()):
        raise BadChainEntry(f"{value} has a wrong EIP-55 checksum (mistyped?): did you mean {checksummed}?")
    return checksummed


def urls_of(value: Any, what: str) -> tuple[str, ...]:
    """http(s) URLs (no websocket: the registry's RPCs are asked over HTTP), without a trailing slash."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_URLS:
        raise BadChainEntry(f"{what} is a list of at most {MAX_URLS} URLs")
    out = []
    for url in value:
        if not isinstance(url, str) or len(url) > 2000 or not _URL.fullmatch(url) or any(is_escaped(c) for c in url):
            raise BadChainEntry(f"{what}: {_said(url)} is not an http:// or https:// URL")
        out.append(url.rstrip("/"))
    return tuple(out)


def read_additions(settings: Mapping[str, Any]) -> Additions:
    """The additions config.json's ``chains`` and ``tokens`` hold; :class:`BadChainEntry` names a bad one."""
    chains_value, tokens_value = ({} if settings.get(key) is None else settings[key] for key in ("chains", "tokens"))
    if not isinstance(chains_value, dict) or not isinstance(tokens_value, dict):
        raise BadChainEntry("config.json: chains and tokens are JSON objects keyed by chain id")
    additions = Additions()
    for key, fields in chains_value.items():
        additions = additions.with_chain(_chain_entry(key, fields))
    for key, on_chain in tokens_value.items():
        chain_id = _in_config(key, chain_id_of, key)
        if not isinstance(on_chain, dict):
            raise BadChainEntry(f"config.json: tokens[{key!r}] is an object keyed by token address")
        for address, fields in on_chain.items():
            additions = additions.with_token(_token(chain_id, address, fields))
    return additions


def _chain_entry(key: str, fields: Any) -> ChainEntry:
    chain_id = _in_config(key, chain_id_of, key)
    if not isinstance(fields, dict):
        raise BadChainEntry(f"config.json: chains[{key!r}] is an object (name, currency, decimals, explorers, rpcs)")
    checks = {"name": name_of, "currency": symbol_of, "decimals": decimals_of}
    values: dict[str, Any] = {}
    for name, check in checks.items():
        if fields.get(name) is not None:
            values[name] = _in_config(key, check, fields[name])
    for name in ("explorers", "rpcs"):
        if fields.get(name) is not None:
            values[name] = _in_config(key, lambda v, name=name: urls_of(v, name), fields[name])
    return ChainEntry(chain_id, **values)


def _token(chain_id: str, address: Any, fields: Any) -> Token:
    if not isinstance(fields, dict):
        raise BadChainEntry(f"config.json: tokens[{chain_id!r}][{address!r}] is an object (symbol, decimals, name)")
    where = f"{chain_id} {address}"
    return Token(
        chain_id,
        _in_config(where, address_of, address),
        _in_config(where, symbol_of, fields.get("symbol")),
        _in_config(where, decimals_of, fields.get("decimals")),
        _in_config(where, name_of, fields["name"]) if fields.get("name") else "",
        user=True,
    )


def _in_config(where: str, check: Any, value: Any) -> Any:
    try:
        return check(value)
    except BadChainEntry as exc:
        raise BadChainEntry(f"config.json, {_said(where)}: {exc}") from None


def _said(value: Any) -> str:
    """A value in an error message: repr'd (escaped) and short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
