"""Starting the app must not load web3 / eth_account (≈1 s of imports): only signing and verifying need them."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("web3", "eth_account", "eth_abi", "eth_keys")

START_PATH = """
import json, sys
from walletsync.cli import build_parser
build_parser().parse_args([])
import walletsync.app, walletsync.service
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy})))
"""


def test_the_app_start_path_leaves_web3_unloaded():
    """What ``walletsync`` imports before the first frame (CLI parser, service, app): none of the heavy signing stack."""
    code = START_PATH.format(heavy=set(HEAVY))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_the_check_sees_a_heavy_import():
    """Guard against a check that silently passes: a planted import is reported."""
    code = START_PATH.replace("import walletsync.app, walletsync.service", "import eth_account").format(
        heavy=set(HEAVY)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) != []
