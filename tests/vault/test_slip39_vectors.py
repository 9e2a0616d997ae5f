"""SLIP-39's official vectors through the share code as the vault uses it: valid sets give the secret,
the rest (bad checksums, padding, thresholds, mixed sets) are refused with our error, quoting no word."""

import json
from pathlib import Path

import pytest

from walletsync.vault import ShareError
from walletsync.vault.shares import combine, read_share

VECTORS = json.loads((Path(__file__).parent / "vectors" / "slip39-vectors.json").read_text())


@pytest.mark.parametrize("description, mnemonics, secret_hex", [v[:3] for v in VECTORS], ids=[v[0] for v in VECTORS])
def test_vector(description, mnemonics, secret_hex):
    identifier = _identifier(mnemonics[0])
    if secret_hex:
        assert combine(mnemonics, "TREZOR", identifier) == bytes.fromhex(secret_hex)
    else:
        with pytest.raises(ShareError) as caught:
            combine(mnemonics, "", identifier if identifier is not None else 0)
        words = {w for m in mnemonics for w in m.split()}
        assert not words & set(str(caught.value).split()), "an error quotes a share's word"


def _identifier(mnemonic):
    try:
        return read_share(mnemonic).identifier
    except ShareError:
        return None


def test_there_are_both_kinds_of_vector():
    assert sum(1 for v in VECTORS if v[2]) >= 10 and sum(1 for v in VECTORS if not v[2]) >= 10
