"""The policy file: people can read it, walletsync reads it strictly (nothing it cannot enforce is ignored)."""

from __future__ import annotations

import json

import pytest

from walletsync.policy.model import ALL, NativeCap, Policies, Policy, PolicyFileError, TokenCap

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
TOPIC = "ab" * 32


def full_policy() -> Policy:
    return Policy(
        chains=frozenset({"eip155:1"}),
        methods=frozenset({"eth_sendTransaction"}),
        native_caps=(NativeCap("*", "0.1"), NativeCap("eip155:137", "50")),
        token_caps=(TokenCap("eip155:1", USDC, "USDC", 6, "500"),),
        recipients=frozenset({"0x70997970C51812dc3A010C7d01b50e0d17dc79C8"}),
        max_requests_per_hour=10,
        allow_unlimited_approvals=True,
    )


def test_the_file_round_trips_and_hashes_the_same_every_time():
    policies = Policies(full_policy(), {TOPIC: Policy(max_requests_per_hour=3)}, {TOPIC: "laptop"})
    text = policies.to_text()
    assert Policies.from_text(text) == policies
    assert Policies.from_text(text).to_text() == text
    assert "\n  " in text  # indented for people
    assert policies.applying(TOPIC) == [(TOPIC, Policy(max_requests_per_hour=3)), (ALL, full_policy())]
    assert policies.applying("cd" * 32) == [(ALL, full_policy())]


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (lambda d: d["all"].update(max_native_per_dya=[]), "unknown field"),
        (lambda d: d["all"].update(max_requests_per_hour="10"), "max_requests_per_hour"),
        (lambda d: d["all"].update(allow_unlimited_approvals="yes"), "true or false"),
        (lambda d: d["all"]["max_native_per_day"][0].update(per_day=0.1), "in quotes"),
        (lambda d: d["all"]["max_native_per_day"][0].update(per_day="0.1 ETH"), "not an amount"),
        (lambda d: d["all"]["max_token_per_day"][0].update(per_day="0.0000001"), "more decimals"),
        (lambda d: d["all"]["max_token_per_day"][0].update(token=USDC.replace("A", "a", 1)), "wrong checksum"),
        (lambda d: d["all"].update(recipients=["0x1234"]), "not a 0x address"),
        (lambda d: d["all"].update(chains=["polygon"]), "CAIP-2"),
        (lambda d: d.update(format=2), "format"),
        (lambda d: d["sessions"].update(laptop={}), "session topic"),
    ],
)
def test_a_file_walletsync_cannot_enforce_is_refused_saying_where(edit, complaint):
    document = json.loads(Policies(full_policy()).to_text())
    edit(document)
    with pytest.raises(PolicyFileError, match=complaint):
        Policies.from_text(json.dumps(document))


def test_not_json_is_refused():
    with pytest.raises(PolicyFileError, match="not JSON"):
        Policies.from_text("{")
