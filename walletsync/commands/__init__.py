"""One module per CLI command: ``add_parser(subparsers)`` declares it, ``run(args) -> int`` runs it.

Helpers shared by commands (output in text or ``--json``, one-line errors) live in
:mod:`walletsync.commands.output`.
"""
