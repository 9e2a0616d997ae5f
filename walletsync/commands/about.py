"""``walletsync help [COMMAND]`` and ``walletsync version``: what people type before reading ``--help``.

``help`` prints what ``--help`` prints (the command's own help with a COMMAND), ``version`` what
``--version`` prints; with ``--json`` each is one JSON document, as every command promises.
"""

from __future__ import annotations

import argparse
from typing import Any

from walletsync import __version__
from walletsync.commands.output import emit_json, fail


def add_parser(commands: Any, common: argparse.ArgumentParser, root: argparse.ArgumentParser) -> None:
    """``help`` and ``version``; ``root`` is the whole command line's parser, whose help ``help`` shows."""
    helping = commands.add_parser("help", parents=[common], help="show this help, or a command's (same as --help)")
    helping.add_argument("topic", nargs="?", metavar="COMMAND", help="the command to explain")
    helping.set_defaults(run=lambda args: show_help(args, root, commands))
    version = commands.add_parser("version", parents=[common], help="show walletsync's version (same as --version)")
    version.set_defaults(run=show_version)


def listing(commands: Any) -> list[dict[str, str]]:
    """Each command's name and one-line summary, in the order ``--help`` lists them."""
    return [{"command": choice.dest, "summary": choice.help or ""} for choice in commands._choices_actions]


def show_help(args: argparse.Namespace, root: argparse.ArgumentParser, commands: Any) -> int:
    if args.topic is None:
        emit_json(args, {"version": __version__, "commands": listing(commands)}, root.format_help().rstrip())
        return 0
    command = commands.choices.get(args.topic)
    if command is None:
        return fail(args, "usage", f"no command '{args.topic}' (see 'walletsync help')", exit_code=2)
    emit_json(args, {"command": args.topic, "help": command.format_help()}, command.format_help().rstrip())
    return 0


def show_version(args: argparse.Namespace) -> int:
    emit_json(args, {"version": __version__}, f"walletsync {__version__}")
    return 0
