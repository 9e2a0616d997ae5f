"""The façade's registry: what the app reads and changes, the same as the `chains` command sees."""

from __future__ import annotations

import pytest

from walletsync.service import BundledEntry, Companion, Config, load_registry

TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


@pytest.fixture
async def offline(tmp_path):
    companion = await Companion.open(Config(data_dir=str(tmp_path / "home")), offline=True)
    yield companion
    await companion.close()


async def test_the_facade_changes_what_every_reader_sees(offline, tmp_path):
    anvil = offline.add_chain("31337", name="Anvil", currency="ETH", rpcs=["http://127.0.0.1:8545"])
    assert anvil.label() == "Anvil (eip155:31337)" and anvil.user
    token = offline.add_token("eip155:31337", TOKEN, symbol="TST", decimals=18, name="Test")
    assert offline.registry().token_by_symbol("eip155:31337", "tst") == token
    assert load_registry(tmp_path / "home").label("eip155:31337") == "Anvil (eip155:31337)"  # no keys needed

    with pytest.raises(BundledEntry):
        offline.remove_chain("eip155:1")
    assert offline.remove_token("eip155:31337", TOKEN) == token
    removed, now = offline.remove_chain("eip155:31337")
    assert removed == anvil and now is None
    assert offline.registry().label("eip155:31337") == "eip155:31337"
