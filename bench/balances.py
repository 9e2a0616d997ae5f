"""Balances: 100 accounts on 5 chains read in JSON-RPC batches, against one call per balance, in the same run.

Run: .venv/bin/python bench/balances.py   (under a minute; loopback only; --accounts N, --rounds N to scale)

Five real anvil nodes (tests/interop's ``@foundry-rs/anvil``), one per chain (ids 31337…31341), each with the test
token of tests/balances/fixtures deployed and a balance sent to every tenth account: 100 accounts × 5 chains × 2
assets (the currency and the token) = 1,000 figures. **Batched** is what ``walletsync balances --refresh`` does
(:func:`walletsync.service.balances.read_balances`: each chain's head, then its figures at that block in batches
of 50, chains at once). **One call per balance** asks the same heads, then each figure in its own HTTP request
(all at once, through the same client and connection limit). Rounds alternate the two; the medians are printed,
and both results are checked to be the same figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from walletsync.balances.rpc import Call, figure_batches, read_figures  # noqa: E402
from walletsync.chains.model import Token  # noqa: E402
from walletsync.chains.registry import Registry  # noqa: E402
from walletsync.chains.user import Additions, ChainEntry  # noqa: E402
from walletsync.service.balance_reads import RpcClient  # noqa: E402
from walletsync.service.balances import Target, calls_of, read_balances  # noqa: E402

SENDER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TOKEN_BIN = (ROOT / "tests" / "balances" / "fixtures" / "Token.bin").read_text().strip()
CHAINS = [31337 + i for i in range(5)]


def rpc(url: str, method: str, *params: object) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    assert "error" not in answer, answer
    return answer["result"]


def start_node(chain_id: int, logs: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = sorted((ROOT / "tests" / "interop" / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil"))[0]
    log = logs / f"anvil-{chain_id}.log"
    node = subprocess.Popen(
        [str(binary), "--host", "127.0.0.1", "--port", "0", "--chain-id", str(chain_id)],
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if line.startswith("Listening on "):
                return node, "http://" + line.removeprefix("Listening on ").strip()
        time.sleep(0.05)
    raise RuntimeError(f"anvil {chain_id} did not start")


def fund(url: str, accounts: list[str]) -> None:
    """Deploy the token and send ETH and tokens to every tenth account (the rest hold real zeros)."""
    rpc(url, "eth_sendTransaction", {"from": SENDER, "data": "0x" + TOKEN_BIN + f"{10**12:064x}"})
    for index, account in enumerate(accounts[::10]):
        rpc(url, "eth_sendTransaction", {"from": SENDER, "to": account, "value": hex(index + 1)})
        data = "0xa9059cbb" + account[2:].lower().rjust(64, "0") + f"{index + 1:064x}"
        rpc(url, "eth_sendTransaction", {"from": SENDER, "to": TOKEN, "data": data})
    rpc(url, "evm_mine")


async def one_call_each(registry: Registry, calls: list[Call]) -> dict[tuple[str, str, str], int | str]:
    """Each chain's head, then every figure in its own request, all at once."""
    async with RpcClient() as client:
        heads = {}
        for chain in {c.asset.chain for c in calls}:
            url = registry.rpcs(chain)[0]
            head = await client.post(
                url, {"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["latest", False]}
            )
            heads[chain] = (url, int(head["result"]["number"], 16))

        async def one(index: int) -> tuple[tuple[str, str, str], int | str]:
            call = calls[index]
            url, block = heads[call.asset.chain]
            (request,) = figure_batches([call], block)[0]
            figure = read_figures([request], [call], [await client.post(url, request)])[0]
            return (call.holder.address.lower(), call.asset.chain, call.asset.address.lower()), figure

        return dict(await asyncio.gather(*(one(i) for i in range(len(calls)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    accounts = [f"0x{0xBA1A0000 + i:040x}" for i in range(args.accounts)]
    logs = Path(tempfile.mkdtemp(prefix="walletsync-bench-balances-"))
    nodes = [start_node(chain_id, logs) for chain_id in CHAINS]
    try:
        additions = Additions()
        for chain_id, (_, url) in zip(CHAINS, nodes):
            additions = additions.with_chain(
                ChainEntry(f"eip155:{chain_id}", f"Anvil {chain_id}", "ETH", 18, (), (url,))
            )
            additions = additions.with_token(Token(f"eip155:{chain_id}", TOKEN, "TST", 6, user=True))
            fund(url, accounts)
        registry = Registry(additions)
        targets = [Target(a, None, tuple(f"eip155:{c}" for c in CHAINS)) for a in accounts]
        calls = calls_of(registry, targets)
        batched, single = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            rows = asyncio.run(read_balances(registry, targets, time.time))
            batched.append(time.perf_counter() - started)
            started = time.perf_counter()
            figures = asyncio.run(one_call_each(registry, calls))
            single.append(time.perf_counter() - started)
            assert all(row.status == "ok" for row in rows), {row.status for row in rows}
            assert {r.key: r.amount for r in rows} == figures
        nonzero = sum(1 for r in rows if r.amount)
        print(f"{len(accounts)} accounts × {len(CHAINS)} chains × 2 assets = {len(calls)} figures ({nonzero} non-zero)")
        print(
            f"batched (50 a batch)   median {statistics.median(batched) * 1000:7.1f} ms  (min {min(batched) * 1000:.1f})"
        )
        print(
            f"one call per balance   median {statistics.median(single) * 1000:7.1f} ms  (min {min(single) * 1000:.1f})"
        )
        print(f"{args.rounds} rounds each, alternating; the same figures both ways")
    finally:
        for node, _ in nodes:
            node.terminate()
            node.wait()


if __name__ == "__main__":
    main()
