"""A chain's RPC list as balances ask it: the user's first (``chains rpc add|prefer|remove``), then the bundled ones,
never one with a ``${...}`` placeholder; a chain walletsync does not know is added with its first RPC."""

from __future__ import annotations

import pytest

from walletsync.chains.changes import BundledEntry, UnknownChain, change_rpc
from walletsync.chains.registry import Registry
from walletsync.chains.user import Additions, BadChainEntry, ChainEntry

MINE, OTHER = "http://127.0.0.1:8545", "https://rpc.example"


def test_add_prefer_remove_on_a_bundled_chain():
    bundled = Registry().rpcs("eip155:1")
    assert bundled and all("${" not in url for url in bundled)
    additions, chain, added = change_rpc(Registry(), "eip155:1", "add", MINE)
    assert not added and chain.name == "Ethereum" and Registry(additions).rpcs("eip155:1") == [MINE, *bundled]
    additions, _, _ = change_rpc(Registry(additions), "1", "prefer", OTHER + "/")
    assert Registry(additions).rpcs("eip155:1")[:2] == [OTHER, MINE]
    additions, _, _ = change_rpc(Registry(additions), "eip155:1", "prefer", MINE)
    assert Registry(additions).rpcs("eip155:1")[:2] == [MINE, OTHER]
    for url in (MINE, OTHER):
        additions, _, _ = change_rpc(Registry(additions), "eip155:1", "remove", url)
    assert Registry(additions).rpcs("eip155:1") == bundled and "eip155:1" not in additions.chains
    with pytest.raises(BundledEntry):
        change_rpc(Registry(additions), "eip155:1", "remove", bundled[0])
    assert Registry(Additions().with_chain(ChainEntry("eip155:1", rpcs=(bundled[0],)))).rpcs("eip155:1") == bundled


def test_an_unknown_chain_is_added_with_its_first_rpc():
    additions, chain, added = change_rpc(Registry(), "eip155:31337", "add", MINE)
    assert added and (chain.name, chain.currency, chain.decimals, chain.user) == ("Chain 31337", "ETH", 18, True)
    assert Registry(additions).rpcs("eip155:31337") == [MINE]
    with pytest.raises(UnknownChain):
        change_rpc(Registry(), "eip155:31338", "remove", MINE)


def test_a_placeholder_url_is_never_asked():
    entry = ChainEntry("eip155:1", rpcs=("https://mainnet.example/v3/${API_KEY}", MINE))
    assert "${" not in "".join(Registry(Additions().with_chain(entry)).rpcs("eip155:1"))


@pytest.mark.parametrize("url", ["ws://127.0.0.1:8545", "not a url", "http://a.example/\x1b[2J"])
def test_a_bad_url_is_refused(url):
    with pytest.raises(BadChainEntry):
        change_rpc(Registry(), "eip155:1", "add", url)
