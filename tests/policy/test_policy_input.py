"""What the user types for `policy set`, read with the registry: amounts in each currency's decimals, tokens by
symbol or address, and errors that name the fix."""

from __future__ import annotations

import pytest

from tests.policy.conftest import FRIEND, USDC, SmallRegistry
from walletsync.chains.model import NoRegistry
from walletsync.policy.model import NativeCap, PolicyFileError, TokenCap
from walletsync.service import BadAmount, UnknownToken
from walletsync.service.policy_input import policy_from_input

USDC_500 = TokenCap("eip155:1", USDC, "USDC", 6, "500")


@pytest.mark.parametrize("text", ["USDC=500", "500 USDC", "usdc=500", "eip155:1:USDC=500", f"{USDC.lower()}=500"])
def test_a_token_by_symbol_or_address_with_its_decimals(text):
    policy = policy_from_input(SmallRegistry(), ["eip155:1"], max_token_per_day=[text])
    assert policy.token_caps == (USDC_500,) and policy.token_caps[0].units == 500 * 10**6


def test_a_token_is_looked_up_on_the_policy_chains_first():
    with pytest.raises(UnknownToken, match="on eip155:137"):
        policy_from_input(SmallRegistry(), ["eip155:1"], chains=["eip155:137"], max_token_per_day=["USDC=1"])


def test_an_unknown_or_ambiguous_token_says_how_to_fix_it():
    with pytest.raises(UnknownToken, match="walletsync chains token add CHAIN ADDRESS"):
        policy_from_input(NoRegistry(), ["eip155:1"], max_token_per_day=["USDC=500"])
    with pytest.raises(UnknownToken, match="several share that symbol"):
        policy_from_input(SmallRegistry(), ["eip155:1"], max_token_per_day=["DAI=5"])


def test_a_token_amount_with_more_decimals_than_the_token_is_an_error():
    with pytest.raises(BadAmount, match="more decimals"):
        policy_from_input(SmallRegistry(), ["eip155:1"], max_token_per_day=["USDC=0.0000001"])


def test_native_caps_for_every_chain_or_one_with_its_currency_checked():
    policy = policy_from_input(SmallRegistry(), [], max_native_per_day=["0.1", "eip155:1=0.05 ETH", "eip155:10=1"])
    assert policy.native_caps == (
        NativeCap("*", "0.1"),
        NativeCap("eip155:1", "0.05"),
        NativeCap("eip155:10", "1"),
    )
    with pytest.raises(PolicyFileError, match="counts in ETH, not POL"):
        policy_from_input(SmallRegistry(), [], max_native_per_day=["eip155:1=1 POL"])
    with pytest.raises(PolicyFileError, match="needs a chain"):
        policy_from_input(SmallRegistry(), [], max_native_per_day=["0.1 ETH"])


def test_lists_are_checked():
    policy = policy_from_input(NoRegistry(), [], chains=["eip155:1"], recipients=[FRIEND.lower()])
    assert policy.recipients == frozenset({FRIEND}) and policy.chains == frozenset({"eip155:1"})
    with pytest.raises(PolicyFileError, match="wrong checksum"):
        policy_from_input(NoRegistry(), [], recipients=[FRIEND.replace("C", "c", 1)])
    with pytest.raises(PolicyFileError, match="CAIP-2"):
        policy_from_input(NoRegistry(), [], chains=["ethereum"])
