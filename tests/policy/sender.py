"""Another walletsync process for tests: a companion on a data dir that sends transactions all at once.

``python -m tests.policy.sender --data-dir DIR --relay URL --session NAME --tx JSON --count N`` opens the
companion, goes online, prints ``{"event": "ready"}``, waits for a line on stdin (so two senders can start
together), sends the ``--tx`` transaction N times at once (``asyncio.gather``), and prints one JSON line per
outcome: ``{"event": "outcome", "ok": …}`` or ``{"event": "refused", "rule": …}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from walletsync.service import Companion, Config, PolicyRefused


async def send(args: argparse.Namespace) -> None:
    companion = await Companion.open(Config(data_dir=args.data_dir, relay=args.relay))
    try:
        await companion.start()
        await companion.sync()
        print(json.dumps({"event": "ready"}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

        async def one() -> dict:
            try:
                outcome = await companion.sign(args.session, tx=args.tx, timeout=60)
            except PolicyRefused as exc:
                return {"event": "refused", "rule": exc.rule}
            return {"event": "outcome", "ok": outcome.ok, "result": outcome.result, "error": outcome.error}

        for result in await asyncio.gather(*(one() for _ in range(args.count))):
            print(json.dumps(result), flush=True)
    finally:
        await companion.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    for option in ("--data-dir", "--relay", "--session", "--tx"):
        parser.add_argument(option, required=True)
    parser.add_argument("--count", type=int, required=True)
    asyncio.run(send(parser.parse_args()))


if __name__ == "__main__":
    main()
