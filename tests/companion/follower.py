"""A second walletsync process for tests: a companion that stays online on a data dir and reports what it hears.

``python -m tests.companion.follower --data-dir DIR --relay URL`` prints ``{"event": "ready"}``
once online, then one JSON line per companion event (its class name, and its topic when it
has one). It stands in for a long-running app sharing the data dir; it ends when killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from walletsync.service import Companion, Config


async def follow(data_dir: str, relay: str) -> None:
    companion = await Companion.open(Config(data_dir=data_dir, relay=relay))
    try:
        events = companion.events()
        await companion.start()
        await companion.online()
        print(json.dumps({"event": "ready"}), flush=True)
        async for event in events:
            topic = getattr(event, "topic", None) or getattr(getattr(event, "session", None), "topic", None)
            print(json.dumps({"event": type(event).__name__, "topic": topic}), flush=True)
    finally:
        await companion.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--relay", required=True)
    args = parser.parse_args()
    try:
        asyncio.run(follow(args.data_dir, args.relay))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
