"""The relay under the attacks of issue #9: its RSS and a healthy client's publish→deliver p99, next to no attack.

Run: .venv/bin/python bench/attack.py   (about a minute; loopback only; --scale N multiplies the attack sizes)

Each scenario starts a fresh ``walletsync relay --store memory`` process (default limits, except that the
rate limits are lifted where the attack is not about rates: those runs show the byte bounds alone) and a
healthy pair (its own topic, one small message every 20 ms, every push acked) that runs for the whole
scenario. The loads are those of tests/relay/attacks.py:

  none           — the healthy pair alone, for as long as the slowest attack took
  slow readers   — 10 subscribers stop reading while 150 × 200 KB go to their topic
  amplification  — a topic of 20 × 200 KB, then irn_batchFetchMessages (paged to the end) and
                   irn_batchSubscribe naming it 40 times
  storage flood  — 300 × 250 KB with 30-day TTLs, each from a new client id, all from 127.0.0.2
                   (default limits: the per-address byte budget is what stops it)

RSS is VmRSS of the relay process, sampled every 5 ms: before (with the healthy pair connected) and the
peak during the scenario. Nothing asserts; tests/relay/test_attacks.py holds the bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from websockets import __version__ as websockets_version

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.relay.attacks import (  # noqa: E402
    NO_RATE_LIMITS,
    Healthy,
    RelayProc,
    RssSampler,
    batch_amplification,
    slow_readers,
    storage_flood,
)

UNBOUNDED_TOPICS = ("--max-topic-bytes", "1G", "--max-store-bytes", "2G")


async def scenario(log_dir: Path, name: str, flags: tuple[str, ...], attack, seconds: float | None = None) -> dict:
    relay = RelayProc(log_dir, *flags)
    try:
        healthy = Healthy(relay.url)
        await healthy.start()
        before = relay.rss_mb()
        sampler = RssSampler(relay)
        started = time.monotonic()
        result = await attack(relay.url) if attack is not None else await asyncio.sleep(seconds or 5.0, {})
        took = time.monotonic() - started
        peak = await sampler.stop()
        await healthy.stop()
        return {
            "name": name,
            "before": before,
            "peak": peak,
            "p99": healthy.p99_ms(),
            "sent": healthy.sent,
            "missing": healthy.missing,
            "dropped": healthy.dropped,
            "took": took,
            "result": result,
            "cut_off": relay.log().count("reads too slowly"),
        }
    finally:
        relay.stop()


async def bench(scale: int) -> None:
    with tempfile.TemporaryDirectory(prefix="walletsync-attack-") as tmp:
        log_dir = Path(tmp)
        runs = [
            await scenario(
                log_dir,
                "slow readers",
                NO_RATE_LIMITS + UNBOUNDED_TOPICS,
                lambda url: slow_readers(url, readers=10, messages=150 * scale, size=200_000),
            ),
            await scenario(
                log_dir,
                "amplification",
                NO_RATE_LIMITS,
                lambda url: batch_amplification(url, repeats=40, messages=20 * scale, size=200_000),
            ),
            await scenario(
                log_dir, "storage flood", (), lambda url: storage_flood(url, messages=300 * scale, size=250_000)
            ),
        ]
        quiet = await scenario(log_dir, "none", (), None, seconds=max(r["took"] for r in runs))
    print(
        f"walletsync relay under attack — {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"websockets {websockets_version}, memory store, scale {scale}"
    )
    print(
        f"{'attack':<15}{'RSS before':>11}{'RSS peak':>10}{'Δ RSS':>8}{'healthy p99':>13}{'vs none':>9}{'sent':>6}{'lost':>6}  notes"
    )
    for r in [quiet, *runs]:
        ratio = r["p99"] / quiet["p99"] if quiet["p99"] == quiet["p99"] and quiet["p99"] > 0 else float("nan")
        notes = {k: v for k, v in r["result"].items() if k != "topic"} if r["result"] else {}
        if r["cut_off"]:
            notes["cut_off_logged"] = r["cut_off"]
        if r["dropped"]:
            notes["healthy_dropped"] = r["dropped"]
        print(
            f"{r['name']:<15}{r['before']:>9.0f}MB{r['peak']:>8.0f}MB{r['peak'] - r['before']:>6.0f}MB{r['p99']:>10.1f} ms"
            f"{ratio:>8.1f}x{r['sent']:>6}{r['missing']:>6}  {notes}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="multiply the attack sizes (default 1)")
    args = parser.parse_args()
    asyncio.run(bench(args.scale))


if __name__ == "__main__":
    main()
