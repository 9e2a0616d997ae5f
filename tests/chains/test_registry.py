"""Registry lookups and naming, with and without the user's additions."""

from __future__ import annotations

import pytest

from walletsync.chains.model import Lookup, Token
from walletsync.chains.registry import Registry
from walletsync.chains.user import Additions, BadChainEntry, ChainEntry, read_additions

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
TX = "0x" + "ab" * 32


def test_a_bundled_chain_is_named_with_its_id():
    registry = Registry()
    assert registry.label("eip155:137") == "Polygon (eip155:137)"
    assert registry.label("eip155:1") == "Ethereum (eip155:1)"
    assert registry.name("eip155:8453") == "Base"
    assert registry.currency("eip155:137") == "POL"
    assert registry.chain("eip155:137").decimals == 18


def test_an_unknown_chain_stays_its_id():
    registry = Registry()
    for unknown in ("eip155:31337", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "not a chain", ""):
        assert registry.chain(unknown) is None
        assert registry.label(unknown) == unknown
        assert registry.name(unknown) is None and registry.currency(unknown) is None
        assert registry.tx_url(unknown, TX) is None


def test_tokens_by_address_in_any_case_and_by_symbol():
    registry = Registry()
    token = registry.token("eip155:1", USDC.lower())
    assert token is not None and (token.symbol, token.decimals, token.address) == ("USDC", 6, USDC)
    assert registry.token_label("eip155:1", USDC.upper().replace("0X", "0x")) == "USDC 0xA0b8…eB48"
    assert registry.token_by_symbol("eip155:1", "usdc") == token
    assert registry.token("eip155:10", USDC) is None  # the same address on another chain is another contract
    assert registry.token_label("eip155:1", "0x" + "12" * 20) == "0x" + "12" * 20
    assert registry.token("eip155:1", "not an address") is None


def test_an_ambiguous_symbol_names_no_token():
    """Polygon has bridged and native USDC: a symbol two tokens share must be given as an address."""
    assert Registry().token_by_symbol("eip155:137", "USDC") is None
    assert Registry().token_by_symbol("eip155:137", "WETH") is not None


def test_explorer_links_only_for_hashes_and_addresses():
    registry = Registry()
    assert registry.tx_url("eip155:1", TX) == f"https://etherscan.io/tx/{TX}"
    assert registry.address_url("eip155:137", USDC) == f"https://polygonscan.com/address/{USDC}"
    for hostile in ("0x12", TX + "00", "javascript:alert(1)", TX[:-1] + "\n", None, 5):
        assert registry.tx_url("eip155:1", hostile) is None
    assert registry.address_url("eip155:1", "0x" + "zz" * 20) is None


def test_the_user_adds_a_chain_and_overrides_a_bundled_one():
    additions = (
        Additions()
        .with_chain(ChainEntry("eip155:31337", "Anvil", "ETH", 18, (), ("http://127.0.0.1:8545",)))
        .with_chain(ChainEntry("eip155:1", explorers=("https://eth.blockscout.com",)))
    )
    registry = Registry(additions)
    anvil = registry.chain("eip155:31337")
    assert anvil is not None and anvil.user and anvil.label() == "Anvil (eip155:31337)"
    assert anvil.rpcs == ("http://127.0.0.1:8545",) and registry.tx_url("eip155:31337", TX) is None
    mainnet = registry.chain("eip155:1")
    assert mainnet.user and mainnet.name == "Ethereum" and mainnet.explorers == ("https://eth.blockscout.com",)
    assert registry.tx_url("eip155:1", TX) == f"https://eth.blockscout.com/tx/{TX}"
    assert [c.id for c in registry.chains(major_only=True)][:2] == ["eip155:1", "eip155:10"]
    assert "eip155:31337" in [c.id for c in registry.chains(major_only=True)]


def test_a_partial_entry_for_an_unknown_chain_names_nothing():
    """An entry with RPCs only (as `chains rpc` may keep) does not make up a name for a chain walletsync lacks."""
    registry = Registry(Additions().with_chain(ChainEntry("eip155:999999999", rpcs=("https://rpc.example",))))
    assert registry.chain("eip155:999999999") is None
    assert registry.label("eip155:999999999") == "eip155:999999999"


def test_user_tokens_come_first():
    mine = Token("eip155:137", "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", "USDC", 6, "native USDC", user=True)
    registry = Registry(Additions().with_token(mine))
    assert registry.token_by_symbol("eip155:137", "usdc") == mine
    assert registry.token("eip155:137", mine.address.lower()) == mine
    assert [t for t in registry.tokens("eip155:137") if t.address == mine.address] == [mine]


def test_removing_additions():
    token = Token("eip155:31337", "0x" + "11" * 20, "TST", 18, user=True)
    additions = Additions().with_chain(ChainEntry("eip155:31337", "Anvil", "ETH")).with_token(token)
    assert (
        Registry(additions.without_token("eip155:31337", token.address.upper().replace("0X", "0x"))).tokens(
            "eip155:31337"
        )
        == []
    )
    gone = additions.without_chain("eip155:31337")
    assert Registry(gone).chain("eip155:31337") is None and not gone.tokens


def test_additions_round_trip_through_config():
    additions = (
        Additions()
        .with_chain(ChainEntry("eip155:31337", "Anvil", "ETH", 18, (), ("http://127.0.0.1:8545",)))
        .with_token(Token("eip155:1", USDC, "USDC", 6, "USD Coin", user=True))
    )
    settings = additions.to_settings()
    assert settings["tokens"]["eip155:1"][USDC] == {"symbol": "USDC", "decimals": 6, "name": "USD Coin"}
    assert read_additions(settings) == additions


@pytest.mark.parametrize(
    "settings, said",
    [
        ({"chains": []}, "JSON objects"),
        ({"chains": {"polygon": {"name": "P"}}}, "not a CAIP-2 chain id"),
        ({"chains": {"eip155:x": {"name": "P"}}}, "not an EVM chain id"),
        ({"chains": {"eip155:5": {"name": "evil\x1b[2J"}}}, "visible text"),
        ({"chains": {"eip155:5": {"currency": "E T H"}}}, "symbol"),
        ({"chains": {"eip155:5": {"decimals": 18.5}}}, "decimals"),
        ({"chains": {"eip155:5": {"decimals": True}}}, "decimals"),
        ({"chains": {"eip155:5": {"rpcs": ["wss://x.example"]}}}, "not an http"),
        ({"tokens": {"eip155:1": {"0x1234": {"symbol": "X", "decimals": 1}}}}, "not an address"),
        ({"tokens": {"eip155:1": {USDC.replace("A0b8", "a0B8"): {"symbol": "X", "decimals": 1}}}}, "checksum"),
        ({"tokens": {"eip155:1": {USDC: {"decimals": 6}}}}, "symbol"),
        ({"tokens": {"eip155:1": {USDC: {"symbol": "USDC", "decimals": 300}}}}, "decimals"),
    ],
)
def test_a_bad_entry_in_config_is_named(settings, said):
    with pytest.raises(BadChainEntry, match=said) as caught:
        read_additions(settings)
    assert "\x1b" not in str(caught.value)


def test_registry_is_a_lookup():
    lookup: Lookup = Registry()
    assert lookup.chain("eip155:1") is not None
