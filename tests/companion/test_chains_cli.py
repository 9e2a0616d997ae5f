"""``walletsync chains``: listing the registry, and the user's chains and tokens, as a user runs it (no keys needed)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.companion.conftest import Cli

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


@pytest.fixture
def chains_cli(tmp_path) -> Cli:
    """The CLI on a fresh data dir; no relay runs (the chains commands never go online)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    return Cli(tmp_path / "home", "ws://127.0.0.1:9", logs)


def test_the_default_list_is_the_major_chains_and_all_lists_every_one(chains_cli):
    major = chains_cli.json("chains")
    ids = [c["id"] for c in major]
    assert {"eip155:1", "eip155:10", "eip155:56", "eip155:137", "eip155:8453", "eip155:42161"} <= set(ids)
    assert "eip155:11155111" in ids and len(ids) < 60
    polygon = next(c for c in major if c["id"] == "eip155:137")
    assert polygon["name"] == "Polygon" and polygon["currency"] == "POL" and polygon["decimals"] == 18
    assert polygon["explorers"][0] == "https://polygonscan.com" and polygon["user"] is False
    assert len(chains_cli.json("chains", "--all")) > 1000
    text = chains_cli.run("chains")
    assert text.returncode == 0 and "Polygon" in text.stdout and "'walletsync chains --all'" in text.stdout


def test_listing_needs_no_keys_nor_database(chains_cli):
    """`walletsync chains` reads config.json only: no device keys are made or asked for, no database; listing
    does not even make the data dir."""
    chains_cli.json("chains")
    assert not chains_cli.home.exists()
    chains_cli.json("chains", "add", "31337", "--name", "Anvil", "--currency", "ETH")
    assert sorted(p.name for p in chains_cli.home.iterdir()) == [".config.lock", "config.json"]


def test_a_chain_of_the_users_own_is_added_listed_and_removed(chains_cli):
    added = chains_cli.json(
        "chains", "add", "eip155:31337", "--name", "Anvil", "--currency", "ETH", "--rpc", "http://127.0.0.1:8545"
    )
    assert added == {
        "id": "eip155:31337",
        "name": "Anvil",
        "currency": "ETH",
        "decimals": 18,
        "explorers": [],
        "rpcs": ["http://127.0.0.1:8545"],
        "user": True,
    }
    assert added in chains_cli.json("chains")
    token = chains_cli.json("chains", "token", "add", "31337", TOKEN.lower(), "--symbol", "TST", "--decimals", "18")
    assert token["address"] == TOKEN and token["user"] is True
    assert chains_cli.json("chains", "token", "list", "eip155:31337") == [token]
    removed = chains_cli.json("chains", "remove", "eip155:31337")
    assert removed == {"removed": added, "now": None}
    assert "eip155:31337" not in [c["id"] for c in chains_cli.json("chains")]
    assert json.loads((chains_cli.home / "config.json").read_text()) == {"chains": {}, "tokens": {}}


def test_a_bundled_chain_is_changed_and_given_back_but_never_removed(chains_cli):
    changed = chains_cli.json("chains", "add", "eip155:1", "--explorer", "https://eth.blockscout.com/")
    assert changed["name"] == "Ethereum" and changed["explorers"] == ["https://eth.blockscout.com"] and changed["user"]
    back = chains_cli.json("chains", "remove", "eip155:1")
    assert back["now"]["explorers"][0] == "https://etherscan.io" and back["now"]["user"] is False
    refused = chains_cli.run("chains", "remove", "eip155:137")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip() == (
        "walletsync: Polygon (eip155:137) comes with walletsync and cannot be removed; "
        "'walletsync chains remove' takes back only chains you added or changed"
    )
    assert chains_cli.json("chains", "remove", "eip155:137", ok=False)["error"]["code"] == "bundled"
    assert chains_cli.json("chains", "token", "remove", "1", USDC, ok=False)["error"]["code"] == "bundled"


@pytest.mark.parametrize(
    "args, code, said",
    [
        (["add", "eip155:5"], "bad_chain", "nothing to add"),
        (["add", "eip155:99999999", "--name", "X"], "bad_chain", "give its --name and --currency"),
        (["add", "polygon", "--name", "P", "--currency", "POL"], "bad_chain", "not a CAIP-2 chain id"),
        (["add", "31337", "--name", "A", "--currency", "ETH", "--rpc", "ws://127.0.0.1:8545"], "bad_chain", "http"),
        (["add", "31337", "--name", "A\x1b]0;x\x07", "--currency", "ETH"], "bad_chain", "visible text"),
        (["remove", "eip155:31337"], "unknown_chain", "no chain eip155:31337"),
        (["token", "add", "31337", TOKEN, "--symbol", "T", "--decimals", "1"], "unknown_chain", "add it first"),
        (
            ["token", "add", "1", USDC.replace("A0b8", "a0B8"), "--symbol", "U", "--decimals", "6"],
            "bad_chain",
            "checksum",
        ),
        (["token", "add", "1", TOKEN, "--symbol", "T", "--decimals", "300"], "bad_chain", "decimals"),
        (["token", "remove", "1", TOKEN], "unknown_token", "you added no token"),
    ],
)
def test_errors_are_typed_and_one_line(chains_cli, args, code, said):
    document = chains_cli.json("chains", *args, ok=False)
    assert document["error"]["code"] == code and said in document["error"]["message"]
    text = chains_cli.run("chains", *args)
    assert text.returncode == 1 and len(text.stderr.splitlines()) == 1 and "\x1b" not in text.stderr


def test_a_broken_hand_edit_is_named(chains_cli):
    chains_cli.home.mkdir()
    (chains_cli.home / "config.json").write_text(json.dumps({"chains": {"eip155:5": {"decimals": "many"}}}))
    out = chains_cli.run("chains")
    assert out.returncode == 1
    assert out.stderr.startswith("walletsync: config.json, 'eip155:5': decimals is a whole number")


def test_the_other_settings_are_kept_and_two_writers_both_land(chains_cli):
    chains_cli.home.mkdir()
    (chains_cli.home / "config.json").write_text(json.dumps({"rpc": {"eip155:1": "http://127.0.0.1:8545"}}))
    writers = [
        subprocess.Popen(
            [*chains_cli.base, "chains", "add", str(n), "--name", f"Chain {n}", "--currency", "ETH"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n in (900001, 900002, 900003)
    ]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0], [w.stderr.read() for w in writers]
    settings = json.loads((chains_cli.home / "config.json").read_text())
    assert settings["rpc"] == {"eip155:1": "http://127.0.0.1:8545"}
    assert sorted(settings["chains"]) == ["eip155:900001", "eip155:900002", "eip155:900003"]


RUN_CHAINS = """
import contextlib, io, json, sys
from walletsync.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["--data-dir", sys.argv[1], "chains", "--json"]) == 0
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {"keyring", "websockets", "nacl", "sqlite3"}
                        or m in {"walletsync.service.companion", "walletsync.store.db"})))
"""


def test_listing_loads_no_companion_keyring_or_store(tmp_path):
    """The registry is read without the service façade, the keyring, the relay client or the database."""
    out = subprocess.run(
        [sys.executable, "-c", RUN_CHAINS, str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []
