"""The README's `sign` examples work as printed: the files they name exist in the repository and are valid requests."""

from __future__ import annotations

import json
import re
import shlex

import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from tests.procs import REPO
from walletsync.signatures import read_request

DOCS = [REPO / "README.md", REPO / "examples" / "README.md"]
EIP712_MAIL_HASH = "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
"""The hash EIP-712 gives for its own "Ether Mail" example."""


def _sign_commands() -> list[tuple[str, list[str]]]:
    """Every ``walletsync sign …`` line of the docs' shell blocks, as (doc, words)."""
    found = []
    for doc in DOCS:
        for block in re.findall(r"```sh\n(.*?)```", doc.read_text(), re.S):
            for line in block.splitlines():
                command = line.split(" #")[0].strip()
                if re.match(r"(\S*/)?walletsync sign ", command):
                    found.append((doc.name, shlex.split(command, posix=True)))
    return found


def _file(word: str) -> str:
    """The file a command line names, read as the README's reader runs it: from the repository's root."""
    path = REPO / word
    assert path.is_file(), f"{word} is not in the repository"
    return path.read_text()


def test_the_docs_have_sign_examples_of_each_kind():
    flags = {word for _, words in _sign_commands() for word in words if word.startswith("--")}
    assert {"--message", "--typed-data", "--tx"} <= flags


def _cases() -> list:
    return [pytest.param(doc, words) for doc, words in _sign_commands()]


@pytest.mark.parametrize(("doc", "words"), _cases(), ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_each_sign_example_names_files_that_exist_and_are_valid(doc, words):
    flags = dict(zip(words, words[1:], strict=False))
    if "--typed-data" in flags:
        read_request(typed_data=_file(flags["--typed-data"]))
    if "--tx" in flags:
        given = flags["--tx"]
        cat = re.fullmatch(r"\$\(cat (\S+)\)", given)
        if cat:
            read_request(tx=_file(cat[1]))
        else:
            assert isinstance(json.loads(given), dict)  # inline, with "0x…" standing for an address


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "examples").glob("*.json")))
def test_each_example_file_is_a_request_walletsync_would_send(name):
    text = (REPO / "examples" / name).read_text()
    kind = "typed_data" if "primaryType" in json.loads(text) else "tx"
    read_request(**{kind: text})


def test_the_typed_data_example_is_eip712s_own():
    mail = json.loads((REPO / "examples" / "mail.json").read_text())
    signable = encode_typed_data(full_message=mail)
    assert keccak(b"\x19" + signable.version + signable.header + signable.body).hex() == EIP712_MAIL_HASH
