"""The façade's answers for the bridge that need no phone: which node a chain's upstream is."""

from __future__ import annotations

import json

from walletsync.service import Companion, Config


async def test_the_upstream_is_config_rpc_else_the_first_registry_rpc_without_a_placeholder(tmp_path):
    companion = await Companion.open(Config(data_dir=str(tmp_path / "home")), offline=True)
    try:
        assert companion.chain_rpc("eip155:1") == companion.registry().chain("eip155:1").rpcs[0]
        companion.add_chain(
            "eip155:424242", name="Test", currency="TST", rpcs=["https://a.example/${API_KEY}", "https://b.example"]
        )
        assert companion.chain_rpc("eip155:424242") == "https://b.example"
        assert companion.chain_rpc("eip155:7777777777") is None
        settings = json.loads((tmp_path / "home" / "config.json").read_text())
        settings["rpc"] = {"eip155:424242": "http://127.0.0.1:8545"}
        (tmp_path / "home" / "config.json").write_text(json.dumps(settings))
        assert companion.chain_rpc("eip155:424242") == "http://127.0.0.1:8545"
    finally:
        await companion.close()
