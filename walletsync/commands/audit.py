"""``walletsync audit [SESSION] | audit verify | audit export``: the signed, hash-chained log."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from walletsync.commands.common import open_companion
from walletsync.commands.output import emit_json, quoted
from walletsync.names import MAX_CELLS
from walletsync.service.audit_words import headline
from walletsync.text import shown


def add_parser(commands, common: argparse.ArgumentParser, companion: argparse.ArgumentParser) -> None:
    audit = commands.add_parser(
        "audit",
        parents=[common, companion],
        help="show, verify or export the audit log",
        description=(
            "audit [SESSION]: show the log; audit verify: check the chain; audit export [--output FILE]: JSON lines "
            '(with --output and --json, stdout gets {"file": FILE, "entries": N})'
        ),
    )
    audit.add_argument("target", nargs="?", help="'verify', 'export', or a session name / topic prefix")
    audit.add_argument("--output", "-o", help="with export: write to this file instead of stdout")
    audit.set_defaults(run=run)


CHAIN_CELLS = 48


def chain_of(entry) -> str | None:
    """The chain an audit row names (a request's), if any: ``chain_id`` in its data."""
    chain = entry.data.get("chain_id")
    return chain if isinstance(chain, str) else None


def row_document(row, registry) -> dict:
    """An audit row's JSON (its signed fields unchanged), with ``chain_name`` added when it names a chain."""
    document = row.to_json()
    if (chain := chain_of(row.entry)) is not None:
        document["chain_name"] = registry.name(chain)
    return document


def run(args: argparse.Namespace) -> int:
    async def main() -> int:
        async with open_companion(args, connect=False) as companion:
            if args.target == "verify":
                verdict = companion.verify_audit()
                document = verdict.to_json()
                bad = document["first_bad"]
                text = (
                    f"audit log intact: {_entries(document['entries'])}"
                    if verdict.ok
                    else f"AUDIT LOG TAMPERED: row {bad['seq']}: {bad['reason']}"
                )
                for device in document.get("devices", []):
                    who = f"{quoted(device['name'], 32)} ({device['device'][:12]})"
                    if device["ok"]:
                        text += f"\n{who}: intact, {_entries(device['entries'])}"
                    else:
                        text += f"\n{who}: TAMPERED at row {device['first_bad']['seq']}: {shown(device['first_bad']['reason'])}"
                emit_json(args, document, text)
                return 0 if document["ok"] else 1
            if args.target == "export":
                lines = [json.dumps(e.to_json(), sort_keys=True) for e in companion.group_audit()]
                if args.output:
                    with open(args.output, "w") as out:
                        out.write("".join(line + "\n" for line in lines))
                    if args.json:  # the rows went to the file: stdout still gets its one document
                        emit_json(args, {"file": args.output, "entries": len(lines)}, "")
                    else:
                        print(f"wrote {_entries(len(lines))} to {args.output}", file=sys.stderr)
                else:
                    print("\n".join(lines))
                return 0
            rows = companion.group_audit(args.target)
            names = {s.topic: s.name for s in companion.sessions()}
            registry = companion.registry()
            grouped = any(not r.this_device for r in rows)
            text = (
                "\n".join(
                    f"{r.entry.seq:>5}  {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(r.entry.ts / 1000))}  "
                    + (f"{shown(r.device_name, 12):<12}  " if grouped else "")
                    + f"{r.entry.kind:<26} {shown(names.get(r.entry.session or '', '-'), MAX_CELLS)}"
                    + (f"  on {shown(registry.label(chain), CHAIN_CELLS)}" if (chain := chain_of(r.entry)) else "")
                    + (f"  {shown(said)}" if (said := headline(r.entry)) else "")
                    for r in rows
                )
                or "The audit log is empty."
            )
            emit_json(args, [row_document(r, registry) for r in rows], text)
            return 0

    return asyncio.run(main())


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"
