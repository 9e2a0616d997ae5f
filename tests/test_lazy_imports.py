"""Starting the app must not load web3 / eth_account (≈1 s of imports): only signing and verifying need them; nor
aiohttp, which only the signer bridge (`walletsync rpc`) needs."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("web3", "eth_account", "eth_abi", "eth_keys", "aiohttp")

START_PATH = """
import json, sys
from walletsync.cli import build_parser
build_parser().parse_args([])
import walletsync.app, walletsync.service.companion
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy})))
"""


def test_the_app_start_path_leaves_web3_unloaded():
    """What ``walletsync`` imports before the first frame (CLI parser, service, app): none of the heavy signing stack."""
    code = START_PATH.format(heavy=set(HEAVY))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_the_check_sees_a_heavy_import():
    """Guard against a check that silently passes: a planted import is reported."""
    code = START_PATH.replace("import walletsync.app, walletsync.service.companion", "import eth_account").format(
        heavy=set(HEAVY)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) != []


CHECK_PERSONAL_SIGN = """
import json, sys
from walletsync.signatures import build_request, verify_response
method, params = build_request(message="hi", account="0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2a")
verdict = verify_response(method, params, "0x{signature}", params[1])
assert verdict.verified, verdict
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy})))
"""


def test_checking_a_personal_sign_answer_leaves_the_signing_stack_unloaded():
    """`walletsync sign --message` builds the request and checks the phone's answer with keccak and libsecp256k1
    alone: eth-account's second of imports would land on the first answer of every command."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    signature = bytes(Account.from_key(b"\x11" * 32).sign_message(encode_defunct(text="hi")).signature).hex()
    code = CHECK_PERSONAL_SIGN.format(heavy={*HEAVY, "eth_utils", "eth_hash", "Crypto"}, signature=signature)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


PARSE_ONLY = """
import json, sys
from walletsync.cli import build_parser
parser = build_parser()
for argv in ({argvs}):
    parser.parse_args(argv)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {{"keyring", "websockets", "web3", "aiohttp"}}
                        or m in {{"walletsync.service.companion", "walletsync.wallet", "walletsync.store.db",
                                  "walletsync.bridge.endpoint"}})))
"""


def test_parsing_any_command_leaves_the_companion_unloaded():
    """`walletsync --version`, `help` and every command's parsing import no companion, keyring, relay client,
    wallet or signer bridge: those are imported by the command that runs (about 100 ms of every start before)."""
    argvs = [
        ["--version"],
        ["sessions"],
        ["sign", "S", "--message", "hi"],
        ["phone", "wc:x"],
        ["lock"],
        ["relay"],
        ["rpc", "S"],
    ]
    code = PARSE_ONLY.format(argvs=", ".join(map(repr, argvs)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


OPEN_COMPANION = """
import json, sys
import walletsync.cli, walletsync.service.companion
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("walletsync.policy", "walletsync.decode",
      "walletsync.sync.link", "walletsync.service.linking", "walletsync.service.policy_file")))))
"""


def test_the_companion_loads_policy_decoding_and_linking_on_first_use():
    """A command that opens the companion (``sessions``) imports no policy rules, decoder or link handshake: they
    load when a request is judged or previewed, or a device is linked (about 30 dataclasses and 15 modules less
    on every start)."""
    out = subprocess.run([sys.executable, "-c", OPEN_COMPANION], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
