"""``walletsync lock``: forget the key files unlocked for this login session, so the next command asks again."""

from __future__ import annotations

import argparse

from walletsync.commands.output import emit_json


def add_parser(commands, common: argparse.ArgumentParser) -> None:
    lock = commands.add_parser(
        "lock", parents=[common], help="forget the key files unlocked for this login session (asks again next time)"
    )
    lock.set_defaults(run=_lock)


def _lock(args: argparse.Namespace) -> int:
    from walletsync.service import lock_key_files

    locked = lock_key_files()
    text = "\n".join(f"locked {path}" for path in locked) or "no key file was unlocked"
    emit_json(args, {"locked": [str(path) for path in locked]}, text)
    return 0
