"""The bundled registry data is sane: unique ids, integer decimals, checksummed addresses, licenses beside it."""

from __future__ import annotations

import json
from importlib.resources import files

from walletsync.chains import bundled
from walletsync.eth import is_checksum_address

DATA = files("walletsync.chains").joinpath("data")


def document(name: str) -> dict:
    return json.loads(DATA.joinpath(name).read_text(encoding="utf-8"))


def test_every_chain_id_is_unique_and_each_row_is_well_formed():
    rows = document("chains.json")["chains"]
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids)) > 1000
    for chain_id, name, currency, decimals, explorers, rpcs, major in rows:
        assert isinstance(chain_id, int) and chain_id > 0
        assert name and name.isprintable() and currency and currency.isprintable()
        assert type(decimals) is int and 0 <= decimals <= 255
        assert all(url.startswith("https://") and not url.endswith("/") for url in explorers)
        assert all(url.startswith("https://") and "${" not in url for url in rpcs), rpcs
        assert major in (0, 1)


def test_tokens_are_checksummed_unique_and_on_bundled_chains():
    rows = document("tokens.json")["tokens"]
    chains = {row[0] for row in document("chains.json")["chains"]}
    seen = set()
    for chain_id, address, symbol, decimals, name in rows:
        assert chain_id in chains
        assert is_checksum_address(address), address
        assert (chain_id, address.lower()) not in seen
        seen.add((chain_id, address.lower()))
        assert symbol and " " not in symbol and symbol.isprintable() and name.isprintable()
        assert type(decimals) is int and 0 <= decimals <= 255


def test_the_major_chains_have_tokens_and_explorers():
    """Ethereum, OP, BNB, Polygon, Base, Arbitrum, Avalanche and Gnosis: named, with an explorer and major tokens."""
    for number in (1, 10, 56, 137, 8453, 42161, 43114, 100):
        chain = bundled.chain(f"eip155:{number}")
        assert chain is not None and chain.explorers, number
        assert f"eip155:{number}" in bundled.chain_ids(major_only=True)
        assert bundled.tokens(f"eip155:{number}"), number
    assert "eip155:11155111" in bundled.chain_ids(major_only=True)


def test_a_local_node_chain_id_is_not_named_after_a_forgotten_testnet():
    """31337 (anvil, hardhat) is "GoChain Testnet" upstream: testnets outside the major ones are left out."""
    assert bundled.chain("eip155:31337") is None
    assert bundled.chain("eip155:1337") is None


def test_license_files_and_sources_are_beside_the_data():
    for name in ("LICENSE-ethereum-lists-chains", "LICENSE-aave-address-book"):
        assert "Permission is hereby granted" in DATA.joinpath(name).read_text(encoding="utf-8")
    readme = DATA.joinpath("README.md").read_text(encoding="utf-8")
    assert "ethereum-lists/chains" in readme and "aave-address-book" in readme and "commit" in readme
