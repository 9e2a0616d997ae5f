"""``walletsync decode`` as a user runs it: no relay, no device keys, text for people and one JSON document."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.companion.conftest import Cli
from tests.decode.registry import BOB, MAX, PERMIT2, ROUTER, USDC, hexdata
from tests.procs import REPO

UNREACHABLE_RELAY = "ws://127.0.0.1:1"
APPROVE_PERMIT2 = json.dumps({"to": USDC, "data": hexdata("approve(address,uint256)", PERMIT2, MAX)})


@pytest.fixture
def cli(tmp_path) -> Cli:
    """The companion's CLI fixture, with a relay nothing listens on: decoding must not need one."""
    logs = tmp_path / "logs"
    logs.mkdir()
    return Cli(tmp_path / "home", UNREACHABLE_RELAY, logs)


def test_a_transaction_is_said_in_words_without_keys_or_relay(cli):
    out = cli.run("decode", "--tx", APPROVE_PERMIT2)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "Approve UNLIMITED USDC 0xA0b8…eB48 for 0x0000…8BA3 (Permit2)",
        "chain: Ethereum (eip155:1)",
        "calls:",
        "  Approve UNLIMITED USDC 0xA0b8…eB48 for 0x0000…8BA3 (Permit2)",
        "effects:",
        f"  approve unlimited of {USDC} → {PERMIT2}",
        "warnings:",
        "  unlimited_approval: unlimited approval: 0x0000…8BA3 (Permit2) may take all the USDC 0xA0b8…eB48 you "
        "hold, now and later (an amount of at least half the type's maximum counts as unlimited)",
    ]
    assert not cli.home.exists(), "decoding opens no data dir (and so no device key)"


def test_json_is_the_decoded_document(cli):
    document = cli.json("decode", "--tx", APPROVE_PERMIT2, "--chain", "eip155:10")
    assert document["kind"] == "transaction"
    assert document["chain"] == {"id": "eip155:10", "name": "OP Mainnet", "currency": "ETH"}
    assert [w["code"] for w in document["warnings"]] == ["unknown_contract", "unlimited_approval"], (
        "mainnet USDC's address is no token on OP Mainnet"
    )
    assert document["effects"][0] == {
        "kind": "approve",
        "chain": "eip155:10",
        "asset": USDC,
        "amount": None,
        "counterparty": PERMIT2,
        "expiry": None,
        "token_id": None,
    }
    assert document["calls"][0]["function"] == "approve(address,uint256)"


def test_the_chain_defaults_to_the_one_the_transaction_names(cli):
    tx = json.dumps({"to": BOB, "value": "0x1", "chainId": "0x89"})
    assert cli.json("decode", "--tx", tx)["chain"]["id"] == "eip155:137"
    mismatch = cli.json("decode", "--tx", tx, "--chain", "eip155:1")
    assert [w["code"] for w in mismatch["warnings"]] == ["chain_mismatch"]


def test_nested_calls_are_indented_and_unknown_ones_show_their_data(cli):
    inner = [bytes.fromhex(hexdata("transfer(address,uint256)", BOB, 5)[2:]), bytes.fromhex("deadbeef")]
    out = cli.run("decode", "--tx", json.dumps({"to": ROUTER, "data": hexdata("multicall(bytes[])", inner)}))
    lines = out.stdout.splitlines()
    start = lines.index("calls:")
    assert lines[start + 1].startswith("  2 calls to 0x68b3…Fc45 (Uniswap SwapRouter02) in one (multicall)")
    assert lines[start + 2] == "    Transfer 5 base units of token 0x68b3…Fc45 to 0xbBbB…BBbB"
    assert lines[start + 3] == "    Call unknown function 0xdeadbeef on 0x68b3…Fc45 (Uniswap SwapRouter02)"
    assert lines[start + 4] == "      data: 0xdeadbeef"


def test_typed_data_is_a_tree_and_its_strings_are_escaped_in_text_only(cli, tmp_path):
    mail = json.loads((REPO / "examples" / "mail.json").read_text())
    mail["message"]["contents"] = "Hello\x1b[2J\nBob"
    path = tmp_path / "mail.json"
    path.write_text(json.dumps(mail))
    out = cli.run("decode", "--typed-data", str(path), "--chain", "eip155:137")
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout
    assert "    contents (string): Hello\\x1b[2J\\nBob" in out.stdout.splitlines()
    assert (
        "  chain_mismatch: chain mismatch: the typed data's domain names chain 1, but the request is for Polygon (eip155:137)"
        in (out.stdout.splitlines())
    )
    document = cli.json("decode", "--typed-data", str(path))
    assert document["tree"]["fields"][2]["value"] == "Hello\x1b[2J\nBob" and document["warnings"] == []


def test_typed_data_from_stdin(cli):
    out = subprocess.run(
        [*cli.base, "decode", "--typed-data", "-", "--json"],
        input=(REPO / "examples" / "mail.json").read_text(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["summary"] == "Sign Mail for 'Ether Mail' at 0xCcCC…cccC (EIP-712 typed data)"


def test_input_sign_would_refuse_is_refused_in_the_same_words(cli, tmp_path):
    bad = cli.run("decode", "--tx", "{not json")
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "--tx: input is not JSON" in bad.stderr
    error = cli.json("decode", "--tx", '{"to": "0x12"}', ok=False)["error"]
    assert error["code"] == "malformed_request" and "'to' must be a 20-byte 0x address" in error["message"]
    chain = cli.json("decode", "--tx", APPROVE_PERMIT2, "--chain", "polygon", ok=False)["error"]
    assert chain["code"] == "malformed_request" and chain["message"].startswith("--chain:")
    missing = cli.json("decode", "--typed-data", str(tmp_path / "nope.json"), ok=False)["error"]
    assert missing["code"] == "bad_input"
    usage = cli.run("decode")
    assert usage.returncode == 2 and "one of the arguments --tx --typed-data is required" in usage.stderr


def test_parsing_decode_loads_nothing_heavy():
    code = (
        "import json, sys\n"
        "from walletsync.cli import build_parser\n"
        "build_parser().parse_args(['decode', '--tx', '{}'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'eth_abi', 'eth_account', 'web3', 'keyring', 'websockets'} or m.startswith('walletsync.decode'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert json.loads(out) == []
