"""Bad namespaces: malformed, non-conforming or out-of-scope input gets a specific error and SDK code.

Each parser must turn bad input into one specific ``WalletsyncError`` subclass whose text
says what was wrong; otherwise a user (or a misbehaving peer or relay) gets a traceback, a
vague message, or silently wrong behaviour.
"""

from __future__ import annotations

import pytest

from walletsync.protocol import namespaces
from walletsync.protocol.errors import (
    InvalidNamespaces,
    OutOfScope,
)

REQUIRED = {"eip155": {"chains": ["eip155:1"], "methods": ["personal_sign"], "events": ["chainChanged"]}}
SESSION = {
    "eip155": {
        "accounts": [
            "eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb",
            "eip155:137:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb",
        ],
        "methods": ["personal_sign", "eth_sendTransaction"],
        "events": ["chainChanged", "accountsChanged"],
    }
}


def ns_with(**changes: object) -> dict:
    """REQUIRED's eip155 namespace with some fields replaced."""
    return {"eip155": {**REQUIRED["eip155"], **changes}}


class TestNamespaces:
    """A dapp asking for malformed or unsatisfiable namespaces gets the SDK error code it expects."""

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("eip155:1", True),
            ("cosmos:cosmoshub-4", True),
            ("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", True),
            ("eip155", False),
            ("eip155:", False),
            (":1", False),
            ("eip155:1:0xab", False),
            ("", False),
            ("   ", False),
            (None, False),
            (1, False),
        ],
    )
    def test_is_chain_id(self, value: object, expected: bool) -> None:
        assert namespaces.is_chain_id(value) is expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb", True),
            ("cosmos:cosmoshub-4:cosmos1abc", True),
            ("eip155:1", False),
            ("eip155:1:", False),
            ("eip155::0xab", False),
            ("eip155:1:0xab:extra", False),
            ("", False),
            (None, False),
            (["eip155:1:0xab"], False),
        ],
    )
    def test_is_account_id(self, value: object, expected: bool) -> None:
        assert namespaces.is_account_id(value) is expected

    def test_valid_proposal_returned_unchanged(self) -> None:
        assert namespaces.validate_proposal_namespaces(REQUIRED) is REQUIRED

    def test_inline_chain_key_accepted(self) -> None:
        inline = {"eip155:1": {"methods": ["personal_sign"], "events": ["chainChanged"]}}
        assert namespaces.validate_proposal_namespaces(inline) == inline
        assert namespaces.requested_chains("eip155:1", inline["eip155:1"]) == ["eip155:1"]

    def test_empty_proposal_is_allowed(self) -> None:
        assert namespaces.validate_proposal_namespaces({}) == {}

    @pytest.mark.parametrize(
        ("proposal", "message"),
        [
            (ns_with(chains=[]), "requiredNamespaces.eip155.chains must not be empty"),
            (ns_with(chains=["cosmos:cosmoshub-4"]), "'cosmos:cosmoshub-4' is not a chain of namespace 'eip155'"),
            (ns_with(chains=["eip155"]), "'eip155' is not a chain of namespace 'eip155'"),
            ({"eip155": {"methods": [], "events": []}}, "requiredNamespaces.eip155.chains must be a list"),
            (ns_with(methods="personal_sign"), "requiredNamespaces.eip155.methods must be a list of non-blank strings"),
            (ns_with(methods=[""]), "requiredNamespaces.eip155.methods must be a list"),
            (ns_with(events=None), "requiredNamespaces.eip155.events must be a list"),
            ({"eip155": []}, "requiredNamespaces.eip155 must be an object"),
            ({"eip155:": {"methods": [], "events": []}}, "is not a CAIP-2 chain id"),
            (
                {"eip155:1": {"chains": ["eip155:5"], "methods": [], "events": []}},
                "inline chain key must not list other chains",
            ),
            ([], "requiredNamespaces must be an object"),
        ],
        ids=[
            "empty-chains",
            "other-namespace",
            "bare-namespace",
            "no-chains",
            "methods-str",
            "blank-method",
            "events-none",
            "ns-list",
            "bad-inline",
            "inline-others",
            "not-object",
        ],
    )
    def test_invalid_proposal(self, proposal: object, message: str) -> None:
        with pytest.raises(InvalidNamespaces, match=message) as info:
            namespaces.validate_proposal_namespaces(proposal)
        assert info.value.sdk_code == 5

    def test_invalid_proposal_label_is_used(self) -> None:
        with pytest.raises(InvalidNamespaces, match="optionalNamespaces.eip155.chains must not be empty"):
            namespaces.validate_proposal_namespaces(ns_with(chains=[]), "optionalNamespaces")

    def test_valid_session_namespaces(self) -> None:
        assert namespaces.validate_session_namespaces(SESSION) is SESSION

    @pytest.mark.parametrize(
        ("session", "message"),
        [
            ({}, "namespaces must be a non-empty object"),
            (
                {"eip155": {**SESSION["eip155"], "accounts": ["eip155:1"]}},
                "'eip155:1' is not a CAIP-10 account of 'eip155'",
            ),
            (
                {"eip155": {**SESSION["eip155"], "accounts": ["cosmos:cosmoshub-4:abc"]}},
                "is not a CAIP-10 account of 'eip155'",
            ),
            ({"eip155": {**SESSION["eip155"], "chains": ["eip155"]}}, "'eip155' is not a CAIP-2 chain id"),
            ({"eip155": {**SESSION["eip155"], "methods": None}}, "namespaces.eip155.methods must be a list"),
        ],
        ids=["empty", "short-account", "foreign-account", "bad-chain", "methods-none"],
    )
    def test_invalid_session_namespaces(self, session: object, message: str) -> None:
        with pytest.raises(InvalidNamespaces, match=message) as info:
            namespaces.validate_session_namespaces(session)
        assert info.value.sdk_code == 5

    def test_require_conforming_subset_ok(self) -> None:
        assert namespaces.require_conforming(REQUIRED, SESSION) is None
        assert (
            namespaces.require_conforming({"eip155:137": {"methods": ["eth_sendTransaction"], "events": []}}, SESSION)
            is None
        )

    @pytest.mark.parametrize(
        ("required", "message"),
        [
            (ns_with(chains=["eip155:1", "eip155:10"]), r"required chains not approved: \['eip155:10'\]"),
            (
                ns_with(methods=["personal_sign", "eth_signTypedData_v4"]),
                r"required methods not approved: \['eth_signTypedData_v4'\]",
            ),
            (ns_with(events=["chainChanged", "disconnect"]), r"required events not approved: \['disconnect'\]"),
            (
                {"cosmos": {"chains": ["cosmos:cosmoshub-4"], "methods": [], "events": []}},
                "required namespace 'cosmos' was not approved",
            ),
            ({"eip155:10": {"methods": [], "events": []}}, r"required chains not approved: \['eip155:10'\]"),
        ],
        ids=["missing-chain", "missing-method", "missing-event", "missing-namespace", "missing-inline-chain"],
    )
    def test_require_conforming_rejects(self, required: dict, message: str) -> None:
        with pytest.raises(InvalidNamespaces, match=message) as info:
            namespaces.require_conforming(required, SESSION)
        assert info.value.sdk_code == 9

    def test_require_in_scope_ok(self) -> None:
        assert namespaces.require_in_scope(SESSION, "eip155:137", "eth_sendTransaction") is None

    def test_require_in_scope_wrong_chain(self) -> None:
        with pytest.raises(OutOfScope, match="chain 'eip155:10' is not in this session") as info:
            namespaces.require_in_scope(SESSION, "eip155:10", "personal_sign")
        assert info.value.sdk_code == 5100

    def test_require_in_scope_wrong_method(self) -> None:
        with pytest.raises(OutOfScope, match="method 'eth_sign' is not allowed on eip155:1") as info:
            namespaces.require_in_scope(SESSION, "eip155:1", "eth_sign")
        assert info.value.sdk_code == 3001

    def test_require_in_scope_malformed_chain(self) -> None:
        with pytest.raises(OutOfScope) as info:
            namespaces.require_in_scope(SESSION, None, "personal_sign")
        assert info.value.sdk_code == 5100

    def test_build_approved_namespaces_happy_path(self) -> None:
        optional = {
            "eip155": {
                "chains": ["eip155:137", "eip155:10"],
                "methods": ["eth_signTypedData_v4", "wallet_addEthereumChain"],
                "events": ["accountsChanged"],
            }
        }
        accounts = ["eip155:1:0xab", "eip155:137:0xab", "cosmos:cosmoshub-4:cosmos1x"]
        approved = namespaces.build_approved_namespaces(
            REQUIRED,
            optional,
            accounts=accounts,
            methods=["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"],
            events=["chainChanged", "accountsChanged"],
        )
        assert approved == {
            "eip155": {
                "chains": ["eip155:1", "eip155:137"],
                "accounts": ["eip155:1:0xab", "eip155:137:0xab"],
                "methods": ["personal_sign", "eth_signTypedData_v4"],
                "events": ["chainChanged", "accountsChanged"],
            }
        }
        # What we grant must satisfy what was required, and be a valid session.
        namespaces.require_conforming(REQUIRED, approved)
        namespaces.validate_session_namespaces(approved)

    def test_build_approved_namespaces_unsupported_required_method(self) -> None:
        with pytest.raises(InvalidNamespaces, match=r"required methods unsupported: \['personal_sign'\]") as info:
            namespaces.build_approved_namespaces(
                REQUIRED, {}, accounts=["eip155:1:0xab"], methods=["eth_sign"], events=["chainChanged"]
            )
        assert (info.value.sdk_code, info.value.by) == (5101, "caller")

    def test_build_approved_namespaces_required_chain_without_account(self) -> None:
        with pytest.raises(InvalidNamespaces, match="required chain eip155:1 has no account") as info:
            namespaces.build_approved_namespaces(
                REQUIRED, {}, accounts=["eip155:137:0xab"], methods=["personal_sign"], events=["chainChanged"]
            )
        assert info.value.sdk_code == 5100
