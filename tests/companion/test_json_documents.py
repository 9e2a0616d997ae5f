"""With --json every command prints exactly one JSON document on stdout (or the JSON lines it documents)."""

from __future__ import annotations

import json

from tests.companion.conftest import paired


async def test_audit_export_to_a_file_prints_one_document_saying_where_and_how_many(cli, tmp_path):
    session, phone = await paired(cli, "--auto-approve")
    await phone.close()
    rows = cli.json("audit")
    target = tmp_path / "audit.jsonl"

    out = cli.run("audit", "export", "--json", "-o", str(target))
    assert out.returncode == 0 and out.stderr == ""
    assert json.loads(out.stdout) == {"file": str(target), "entries": len(rows)}
    assert [json.loads(line)["seq"] for line in target.read_text().splitlines()] == [r["seq"] for r in rows]

    text = cli.run("audit", "export", "-o", str(target))  # for people: a line on stderr, stdout left empty
    assert text.stdout == "" and text.stderr == f"wrote {len(rows)} entries to {target}\n"
    lines = cli.run("audit", "export", "--json").stdout.splitlines()  # without a file: the documented JSON lines
    assert [json.loads(line)["seq"] for line in lines] == [r["seq"] for r in rows]
