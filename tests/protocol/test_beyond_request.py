"""What a session granted beyond the request (issue #9, item 9): the pure helpers, with Hypothesis."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletsync.protocol.errors import InvalidNamespaces
from walletsync.protocol.namespaces import (
    Beyond,
    beyond_request,
    build_approved_namespaces,
    granted_by_chain,
    request_beyond,
    requested_by_chain,
    validate_proposal_namespaces,
    validate_session_namespaces,
)
from walletsync.service import ChainNotRequested
from walletsync.service.accounts import default_chain as _default_chain
from walletsync.store.db import SessionRecord

ADDRESS = "0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"
NAMESPACES = {"eip155": ["1", "56", "137"], "solana": ["mainnet"], "cosmos": ["hub"]}
METHODS = ["personal_sign", "eth_sign", "eth_sendTransaction", "eth_signTypedData_v4"]
EVENTS = ["chainChanged", "accountsChanged", "custom"]

names = st.sampled_from(sorted(NAMESPACES))
methods = st.lists(st.sampled_from(METHODS), unique=True, max_size=4)
events = st.lists(st.sampled_from(EVENTS), unique=True, max_size=3)


@st.composite
def chains_of(draw, name: str) -> list[str]:
    return draw(st.lists(st.sampled_from([f"{name}:{ref}" for ref in NAMESPACES[name]]), unique=True, min_size=1))


@st.composite
def proposal(draw) -> dict:
    """Proposal namespaces: ``eip155`` keys with a chains list, or inline ``eip155:1`` keys."""
    out: dict = {}
    for name in draw(st.lists(names, unique=True, max_size=3)):
        if draw(st.booleans()):
            out[name] = {"chains": draw(chains_of(name)), "methods": draw(methods), "events": draw(events)}
        else:
            for chain in draw(chains_of(name)):
                out[chain] = {"methods": draw(methods), "events": draw(events)}
    return validate_proposal_namespaces(out)


@st.composite
def granted(draw) -> dict:
    """Session namespaces as any wallet may send them (also under inline keys)."""
    out: dict = {}
    for name in draw(st.lists(names, unique=True, min_size=1, max_size=3)):
        chains = draw(chains_of(name))
        key = chains[0] if len(chains) == 1 and draw(st.booleans()) else name
        out[key] = {
            "chains": chains,
            "accounts": [f"{c}:{ADDRESS}" for c in chains],
            "methods": draw(methods),
            "events": draw(events),
        }
    return validate_session_namespaces(out)


def record(required: dict | None, optional: dict | None, namespaces: dict) -> SessionRecord:
    return SessionRecord(
        "ab" * 32, "desk", {}, namespaces, 0, "active", 0, None, None, "cd" * 32, False, required, optional
    )


@given(proposal(), proposal(), granted())
def test_every_grant_is_either_requested_or_beyond_and_never_both(required, optional, namespaces):
    """Sound and complete: each granted (chain, method/event) was asked for on that chain, or is reported — the chain
    as a whole when the chain was never asked for; nothing asked for is ever reported; nothing reported is ungranted."""
    beyond = beyond_request(required, optional, namespaces)
    asked = requested_by_chain(required, optional)
    items = beyond.items()
    for chain, (methods_, events_) in granted_by_chain(namespaces).items():
        assert (("chain", chain) in items) == (chain not in asked)
        for kind, names_, pool in (("method", methods_, 0), ("event", events_, 1)):
            for name in names_:
                requested = chain in asked and name in asked[chain][pool]
                reported = ("chain", chain) in items or (kind, chain, name) in items
                assert requested != reported, (chain, kind, name)
    asked_namespaces = {k.split(":")[0] for k in (*required, *optional)}
    granted_names = {c.split(":")[0] for c in granted_by_chain(namespaces)}
    assert set(beyond.namespaces) == granted_names - asked_namespaces
    for _kind, per_chain in (("method", beyond.methods), ("event", beyond.events)):
        assert all(chain in asked and names_ for chain, names_ in per_chain)


ALL_CHAINS = [f"{n}:{r}" for n, refs in NAMESPACES.items() for r in refs]


@given(proposal(), proposal(), st.lists(st.sampled_from(ALL_CHAINS), unique=True, min_size=1))
def test_what_a_wallet_builds_from_the_proposal_is_never_beyond_it(required, optional, chains):
    """The reference wallet's approval (requested ∩ supported) never counts as beyond the request."""
    try:
        approved = build_approved_namespaces(
            required, optional, accounts=[f"{c}:{ADDRESS}" for c in chains], methods=METHODS, events=EVENTS
        )
    except InvalidNamespaces:
        return
    assert not beyond_request(required, optional, approved)


@given(proposal(), proposal(), granted(), granted())
def test_more_grants_never_hide_an_extra_and_minus_is_set_difference(required, optional, first, extra):
    """Granting more keeps every earlier extra reported; ``minus`` is the set difference (an update's additions)."""
    widened = {**first, **{k: v for k, v in extra.items() if k not in first}}
    before, after = beyond_request(required, optional, first), beyond_request(required, optional, widened)
    assert before.items() <= after.items()
    added = after.minus(before)
    assert added.items() == after.items() - before.items()
    assert not before.minus(before) and not added.minus(after)
    assert Beyond.from_items(after.items()) == after


@given(proposal(), proposal(), granted())
def test_json_shape_is_stable_and_sorted(required, optional, namespaces):
    document = beyond_request(required, optional, namespaces).to_json()
    assert set(document) == {"namespaces", "chains", "methods", "events"}
    assert document["chains"] == sorted(document["chains"]) and document["namespaces"] == sorted(document["namespaces"])
    assert json.loads(json.dumps(document)) == document


@given(proposal(), proposal(), granted(), st.sampled_from(METHODS))
def test_a_request_is_beyond_exactly_when_its_chain_or_method_was_not_asked_for(required, optional, namespaces, method):
    asked = requested_by_chain(required, optional)
    for chain in granted_by_chain(namespaces):
        flagged = request_beyond(required, optional, chain, method)
        assert (flagged.get("chain") == chain) == (chain not in asked)
        if chain in asked:
            assert ("method" in flagged) == (method not in asked[chain][0])


@given(st.lists(st.text(max_size=80), min_size=1, max_size=20), st.lists(st.text(max_size=20), max_size=5))
def test_summary_is_one_printable_line_whatever_the_phone_named_things(chains, methods_):
    """Chain ids and method names come from the phone: the summary escapes controls/bidi and stays short."""
    beyond = Beyond(
        chains=tuple(sorted(set(chains))), methods=(("eip155:1", tuple(sorted(set(methods_)))),) if methods_ else ()
    )
    text = beyond.summary()
    assert text.isprintable() and "\n" not in text
    assert len(text) < 12 * 80


def test_the_issue_case_a_phone_granting_only_an_unasked_chain():
    """`pair --chains eip155:1`, the phone grants only eip155:56: that is beyond, and no request goes there unasked."""
    optional = {"eip155": {"chains": ["eip155:1"], "methods": ["personal_sign"], "events": ["chainChanged"]}}
    granted = {
        "chains": ["eip155:56"],
        "accounts": [f"eip155:56:{ADDRESS}"],
        "methods": ["personal_sign", "eth_sendTransaction"],
        "events": [],
    }
    namespaces = {"eip155": granted}
    session = record({}, optional, namespaces)
    assert session.beyond_request.to_json() == {"namespaces": [], "chains": ["eip155:56"], "methods": {}, "events": {}}
    assert session.beyond_request.summary() == "+eip155:56"
    assert session.to_json()["beyond_request"]["chains"] == ["eip155:56"]
    with pytest.raises(ChainNotRequested, match=r"eip155:56.*--chain"):
        _default_chain(session)


def test_the_default_chain_is_the_first_asked_for_not_the_first_granted():
    optional = {"eip155:1": {"methods": ["personal_sign"], "events": []}}
    accounts = [f"eip155:56:{ADDRESS}", f"eip155:1:{ADDRESS}"]
    namespaces = {"eip155": {"accounts": accounts, "methods": ["personal_sign", "eth_sign"], "events": []}}
    session = record({}, optional, namespaces)
    assert _default_chain(session) == "eip155:1"
    assert session.beyond_request.summary() == "+eip155:56, +method eth_sign (eip155:1)"
    assert request_beyond({}, optional, "eip155:56", "personal_sign") == {"chain": "eip155:56"}
    assert request_beyond({}, optional, "eip155:1", "eth_sign") == {"method": "eth_sign"}
    assert request_beyond({}, optional, "eip155:56", "eth_sign") == {"chain": "eip155:56", "method": "eth_sign"}


def test_a_whole_new_namespace_is_named():
    optional = {"eip155": {"chains": ["eip155:1"], "methods": ["personal_sign"], "events": []}}
    namespaces = {
        "eip155": {"accounts": [f"eip155:1:{ADDRESS}"], "methods": ["personal_sign"], "events": []},
        "solana": {"accounts": ["solana:mainnet:abc"], "methods": ["solana_signMessage"], "events": []},
    }
    beyond = beyond_request({}, optional, namespaces)
    assert beyond.summary() == "+namespace solana, +solana:mainnet"


def test_a_record_that_does_not_know_its_request_reports_nothing():
    namespaces = {"eip155": {"accounts": [f"eip155:56:{ADDRESS}"], "methods": ["personal_sign"], "events": []}}
    session = record(None, None, namespaces)
    assert not session.beyond_request and _default_chain(session) == "eip155:56"
