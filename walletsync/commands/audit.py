"""``walletsync audit [SESSION] | audit verify | audit export``: the signed, hash-chained log."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from walletsync.commands.common import open_companion
from walletsync.commands.output import emit_json
from walletsync.names import MAX_CELLS
from walletsync.text import shown


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    audit = commands.add_parser(
        "audit",
        parents=[common, companion],
        help="show, verify or export the audit log",
        description="audit [SESSION]: show the log; audit verify: check the chain; audit export [--output FILE]: JSON lines",
    )
    audit.add_argument("target", nargs="?", help="'verify', 'export', or a session name / topic prefix")
    audit.add_argument("--output", "-o", help="with export: write to this file instead of stdout")
    audit.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    async def main() -> int:
        async with open_companion(args, connect=False) as companion:
            if args.target == "verify":
                verdict = companion.verify_audit()
                document = verdict.to_json()
                bad = document["first_bad"]
                text = (
                    f"audit log intact: {document['entries']} entries"
                    if document["ok"]
                    else f"AUDIT LOG TAMPERED: row {bad['seq']}: {bad['reason']}"
                )
                emit_json(args, document, text)
                return 0 if document["ok"] else 1
            if args.target == "export":
                lines = [json.dumps(e.to_json(), sort_keys=True) for e in companion.audit_entries()]
                if args.output:
                    with open(args.output, "w") as out:
                        out.write("".join(line + "\n" for line in lines))
                    print(f"wrote {len(lines)} entries to {args.output}", file=sys.stderr)
                else:
                    print("\n".join(lines))
                return 0
            entries = companion.audit_entries(args.target)
            names = {s.topic: s.name for s in companion.sessions()}
            text = (
                "\n".join(
                    f"{e.seq:>5}  {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(e.ts / 1000))}  {e.kind:<26} {shown(names.get(e.session or '', '-'), MAX_CELLS)}"
                    for e in entries
                )
                or "The audit log is empty."
            )
            emit_json(args, [e.to_json() for e in entries], text)
            return 0

    return asyncio.run(main())
