"""The layering in DESIGN.md is a rule: this test fails the build when an import breaks it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "walletsync"

# protocol/ is sans-IO: no sockets, event loop, clock, disk, keyring, randomness or UI.
PROTOCOL_FORBIDDEN = {
    "socket",
    "asyncio",
    "websockets",
    "keyring",
    "sqlite3",
    "textual",
    "time",
    "datetime",
    "os",
    "random",
    "secrets",
    "threading",
    "subprocess",
    "pathlib",
    "io",
    "shutil",
    "requests",
    "aiohttp",
    "urllib.request",
    "http",
    "redis",
    "platformdirs",
    "web3",
    "eth_account",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _hits(module: str, forbidden: set[str]) -> bool:
    return any(module == f or module.startswith(f + ".") for f in forbidden)


def test_protocol_is_sans_io():
    """protocol/ imports nothing that does I/O, reads the clock or draws randomness."""
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(m for m in imports_of(path) if _hits(m, PROTOCOL_FORBIDDEN))
        for path in (PACKAGE / "protocol").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_protocol_imports_nothing_above_it():
    """protocol/ may use walletsync.errors and itself, nothing else of walletsync."""
    allowed = ("walletsync.protocol", "walletsync.errors")
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m for m in imports_of(path) if m.startswith("walletsync") and not m.startswith(allowed)
        )
        for path in (PACKAGE / "protocol").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_app_imports_textual():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "app" not in path.relative_to(PACKAGE).parts[:1] and any(_hits(m, {"textual"}) for m in imports_of(path))
    ]
    assert offenders == []


def test_app_speaks_only_the_services_words():
    """app/ gets records, statuses and events from walletsync.service, never from the layers under the service."""
    below = {"walletsync.store", "walletsync.transport", "walletsync.audit", "walletsync.protocol"}
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(m for m in imports_of(path) if _hits(m, below))
        for path in (PACKAGE / "app").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_checker_sees_forbidden_imports(tmp_path):
    """Guard against a checker that silently passes: it must flag a planted import."""
    planted = tmp_path / "bad.py"
    planted.write_text("import asyncio\nfrom time import time\nimport os.path\n")
    assert {m for m in imports_of(planted) if _hits(m, PROTOCOL_FORBIDDEN)} == {"asyncio", "time", "os.path"}
