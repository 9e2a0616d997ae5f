#!/usr/bin/env python3
"""Rebuild walletsync's bundled chain registry (walletsync/chains/data/) from its upstream lists.

Usage (from the repository root, with walletsync installed in .venv):

    git clone https://github.com/ethereum-lists/chains /tmp/chains
    git clone https://github.com/bgd-labs/aave-address-book /tmp/aave
    .venv/bin/python scripts/update-chains.py --chains /tmp/chains --tokens /tmp/aave/tokenlist.json

then update the commits and dates in walletsync/chains/data/README.md (the script prints them) and run
``./scripts/test tests/chains -q``. Each upstream license is copied next to the data it licenses.

What goes in (and why), kept small so that naming a chain costs a few milliseconds:
- chains: every chain of ethereum-lists/chains that is not deprecated and has no red flag, except
  testnets (SLIP-44 coin type 1, or "testnet"/"devnet" in the name) other than the major ones in
  ``MAJOR``: a forgotten testnet often reuses a chain id that local nodes use (31337 is "GoChain
  Testnet" there, and anvil's chain here). A chain whose name is a major chain's own is left out (a
  newcomer calling itself "Ethereum" is not shown as Ethereum). Names drop a trailing " Mainnet"
  ("Polygon Mainnet" → "Polygon") unless two letters would be left ("OP Mainnet"); ``MAJOR`` names
  a few testnets better than upstream does ("Amoy" → "Polygon Amoy").
- RPC URLs: https only, none with a ``${API_KEY}`` placeholder (no ws://, wss:// or plain http), four at most.
- explorers: https ones following EIP-3091 (``/tx/HASH``, ``/address/ADDRESS``), three at most.
- tokens: the Aave token list's underlying assets (not aTokens, debt or wrapped-static tokens), EIP-55
  checksummed, on the chains kept (a symbol with a space, or that is not printable, is left out).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from walletsync.eth import checksum_address

DATA = Path(__file__).resolve().parents[1] / "walletsync" / "chains" / "data"

MAJOR: dict[int, str | None] = {
    # mainnets (None: the upstream name, " Mainnet" dropped)
    1: None,
    10: None,
    56: None,
    100: None,
    137: None,
    8453: None,
    42161: None,
    43114: None,
    # their testnets
    11155111: "Ethereum Sepolia",
    17000: "Ethereum Holesky",
    560048: "Ethereum Hoodi",
    11155420: "OP Sepolia",
    84532: "Base Sepolia",
    421614: "Arbitrum Sepolia",
    80002: "Polygon Amoy",
    97: "BNB Smart Chain Testnet",
    43113: "Avalanche Fuji",
    10200: "Gnosis Chiado",
}
"""The chains ``walletsync chains`` lists without ``--all`` (with those that have bundled tokens)."""

TESTNET_WORDS = re.compile(r"\b(testnet|devnet|test)\b", re.IGNORECASE)
MAX_RPCS, MAX_EXPLORERS = 4, 3


def display_name(chain: dict) -> str:
    chosen = MAJOR.get(chain["chainId"])
    if chosen:
        return chosen
    name = " ".join(str(chain["name"]).split())
    if name.endswith(" Mainnet") and len(name) > len(" Mainnet") + 2:
        name = name[: -len(" Mainnet")]
    return name


def is_testnet(chain: dict) -> bool:
    return chain.get("slip44") == 1 or bool(TESTNET_WORDS.search(chain["name"]))


def usable_rpc(url: str) -> bool:
    return url.startswith("https://") and "${" not in url and "{" not in url and " " not in url


def usable_explorer(explorer: dict) -> bool:
    url = str(explorer.get("url", ""))
    return explorer.get("standard") == "EIP3091" and url.startswith("https://") and " " not in url


def printable(text: str) -> bool:
    return text.isprintable() and 0 < len(text) <= 64


def load_chains(checkout: Path) -> list[dict]:
    chains = []
    for path in sorted((checkout / "_data" / "chains").glob("eip155-*.json")):
        chains.append(json.loads(path.read_text(encoding="utf-8")))
    return chains


def build_chains(upstream: list[dict]) -> list[list]:
    major_names = {display_name(c).casefold() for c in upstream if c["chainId"] in MAJOR}
    kept: dict[int, list] = {}
    for chain in upstream:
        cid = chain["chainId"]
        major = cid in MAJOR
        if not major and (chain.get("status") == "deprecated" or chain.get("redFlags") or is_testnet(chain)):
            continue
        name = display_name(chain)
        currency = chain.get("nativeCurrency") or {}
        symbol, decimals = str(currency.get("symbol", "")), currency.get("decimals")
        if not (printable(name) and printable(symbol) and isinstance(decimals, int) and 0 <= decimals <= 255):
            continue
        if not major and name.casefold() in major_names:
            continue
        if cid in kept:
            raise SystemExit(f"chain id {cid} appears twice upstream")
        explorers = [str(e["url"]).rstrip("/") for e in chain.get("explorers") or [] if usable_explorer(e)]
        rpcs = [url for url in chain.get("rpc") or [] if usable_rpc(url)]
        kept[cid] = [cid, name, symbol, decimals, explorers[:MAX_EXPLORERS], rpcs[:MAX_RPCS], int(major)]
    return [kept[cid] for cid in sorted(kept)]


def build_tokens(tokenlist: dict, chain_ids: set[int]) -> list[list]:
    tokens: dict[tuple[int, str], list] = {}
    for token in tokenlist["tokens"]:
        if "underlying" not in token.get("tags", []) or token["chainId"] not in chain_ids:
            continue
        symbol = str(token["symbol"]).strip()
        name, decimals = " ".join(str(token.get("name", "")).split()), token["decimals"]
        if not (printable(symbol) and " " not in symbol and isinstance(decimals, int) and 0 <= decimals <= 255):
            continue
        address = checksum_address(token["address"])
        tokens[(token["chainId"], address)] = [token["chainId"], address, symbol, decimals, name[:64]]
    return [tokens[key] for key in sorted(tokens, key=lambda k: (k[0], k[1].lower()))]


def commit_of(path: Path) -> tuple[str, str]:
    """The checkout's commit and its date, or ("unknown", "") outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "log", "-1", "--format=%H %cs"], capture_output=True, text=True, check=True
        ).stdout.split()
        return out[0], out[1]
    except (subprocess.CalledProcessError, FileNotFoundError, IndexError):
        return "unknown", ""


def write(name: str, document: dict) -> None:
    (DATA / name).write_text(json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chains", type=Path, required=True, help="a checkout of ethereum-lists/chains")
    parser.add_argument("--tokens", type=Path, required=True, help="the Aave token list (tokenlist.json)")
    args = parser.parse_args()
    chains = build_chains(load_chains(args.chains))
    majors = {row[0] for row in chains if row[6]}
    missing = set(MAJOR) - majors
    if missing:
        raise SystemExit(f"major chains missing upstream: {sorted(missing)}")
    tokens = build_tokens(json.loads(args.tokens.read_text(encoding="utf-8")), {row[0] for row in chains})
    with_tokens = {row[0] for row in tokens}
    for row in chains:
        row[6] = int(row[6] or row[0] in with_tokens)
    columns = {"chains": ["chain_id", "name", "currency", "decimals", "explorers", "rpcs", "major"]}
    write("chains.json", {"columns": columns["chains"], "chains": chains})
    write("tokens.json", {"columns": ["chain_id", "address", "symbol", "decimals", "name"], "tokens": tokens})
    shutil.copyfile(args.chains / "LICENSE", DATA / "LICENSE-ethereum-lists-chains")
    shutil.copyfile(args.tokens.parent / "LICENSE", DATA / "LICENSE-aave-address-book")
    for what, path in (("ethereum-lists/chains", args.chains), ("bgd-labs/aave-address-book", args.tokens.parent)):
        commit, date = commit_of(path)
        print(f"{what}: commit {commit} ({date})")
    print(
        f"{len(chains)} chains ({sum(r[6] for r in chains)} major), {len(tokens)} tokens on {len(with_tokens)} chains"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
