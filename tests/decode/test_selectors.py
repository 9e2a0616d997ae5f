"""The bundled selector list: each name is its selector's, none shadows a decoded function, its license is there."""

from __future__ import annotations

from importlib import resources

from walletsync.decode.abi import selector
from walletsync.decode.functions import FUNCTIONS
from walletsync.decode.selectors import name_of

DATA = resources.files("walletsync.decode").joinpath("data")


def test_every_line_names_its_own_selector_and_says_where_it_was_read():
    lines = [line.split("\t") for line in DATA.joinpath("selectors.tsv").read_text().splitlines() if line[:1] != "#"]
    assert len(lines) >= 50
    for hex_selector, signature, commit in lines:
        assert selector(signature) == "0x" + hex_selector, signature
        assert len(commit) == 40 and int(commit, 16) >= 0
        assert "0x" + hex_selector not in FUNCTIONS, f"{signature} is decoded: it needs no name from the list"
        assert name_of("0x" + hex_selector.upper()) == signature


def test_the_lists_license_and_origin_are_bundled_with_it():
    assert "MIT License" in DATA.joinpath("LICENSE-4bytes").read_text()
    assert "ethereum-lists/4bytes" in DATA.joinpath("README.md").read_text()


def test_the_decoded_functions_selectors_are_their_signatures():
    assert FUNCTIONS["0xa9059cbb"].signature == "transfer(address,uint256)"
    assert FUNCTIONS["0x095ea7b3"].signature == "approve(address,uint256)"
    assert FUNCTIONS["0x87517c45"].signature == "approve(address,address,uint160,uint48)"
    assert FUNCTIONS["0x82ad56cb"].signature == "aggregate3((address,bool,bytes)[])"
    assert all(selector(known.signature) == chosen for chosen, known in FUNCTIONS.items())
