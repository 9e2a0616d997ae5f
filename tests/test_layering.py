"""The layering in docs/ARCHITECTURE.md is a rule: import-linter enforces it (contracts in pyproject.toml).

The test command runs ``lint-imports`` on the tree; these tests plant a violation in a copy of the
tree and check the contract that should catch it does, so a contract that silently passes fails the
build. What import-linter cannot see (a submodule of an outside package, e.g. ``nacl.utils``'s
randomness) is checked here from the syntax tree, relative imports included.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "walletsync"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# Submodules import-linter cannot tell from their harmless siblings (it sees outside packages whole).
PROTOCOL_FORBIDDEN_SUBMODULES = {"nacl.utils", "urllib.request"}


def imports_of(path: Path, package: str) -> set[str]:
    """Every module ``path`` imports, relative imports resolved against ``package`` (its dotted package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _hits(module: str, forbidden: set[str]) -> bool:
    return any(module == f or module.startswith(f + ".") for f in forbidden)


def submodule_offenders(root: Path) -> dict[str, list[str]]:
    offenders = {}
    for path in [*(root / "protocol").rglob("*.py"), *(root / "sync").rglob("*.py")]:
        top = path.relative_to(root).parts[0]
        package = f"walletsync.{top}" + "".join(f".{p}" for p in path.parent.relative_to(root / top).parts)
        hits = sorted(m for m in imports_of(path, package) if _hits(m, PROTOCOL_FORBIDDEN_SUBMODULES))
        if hits:
            offenders[str(path.relative_to(root))] = hits
    return offenders


def lint_imports(tree: Path, *contracts: str) -> subprocess.CompletedProcess:
    """``lint-imports`` on ``tree`` (only the given contract ids, if any)."""
    return subprocess.run(
        [
            str(LINT_IMPORTS),
            "--config",
            str(tree / "pyproject.toml"),
            "--no-cache",
            *(f"--contract={c}" for c in contracts),
        ],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy_of_the_tree(tmp_path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "walletsync", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(tree: Path, module: str, line: str) -> None:
    path = tree / "walletsync" / module
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_tree_keeps_every_contract():
    out = lint_imports(REPO)
    assert out.returncode == 0, out.stdout[-3000:]


def test_protocol_and_sync_import_no_randomness_or_io_submodule():
    assert submodule_offenders(PACKAGE) == {}


@pytest.mark.parametrize(
    "module, line, contract",
    [
        ("protocol/engine.py", "from ..service import Companion", "layers"),
        ("store/db.py", "from walletsync.service import Companion", "layers"),
        ("relay/server.py", "from walletsync.service import Companion", "relay-knows-no-companion"),
        ("relay/server.py", "from walletsync.store.db import Database", "relay-knows-no-companion"),
        ("protocol/crypto.py", "import time", "protocol-sans-io"),
        ("protocol/uri.py", "import asyncio", "protocol-sans-io"),
        ("sync/ids.py", "import sqlite3", "sync-sans-io"),
        ("sync/ids.py", "from walletsync.store.db import Database", "sync-sans-io"),
        ("decode/model.py", "import time", "rules-sans-io"),
        ("chains/model.py", "from walletsync.store.db import Database", "rules-sans-io"),
        ("chains/model.py", "from walletsync.decode.model import Effect", "layers"),
        ("vault/sealing.py", "import os", "rules-sans-io"),
        ("vault/format.py", "from walletsync.store.db import Database", "rules-sans-io"),
        ("app/format.py", "from walletsync.store.db import Database", "app-through-service"),
        ("commands/sessions.py", "from walletsync.transport.client import RelayClient", "commands-through-service"),
        ("bridge/endpoint.py", "from walletsync.store.db import Database", "bridge-through-service"),
        ("bridge/server.py", "from walletsync.protocol.engine import SignEngine", "bridge-through-service"),
        ("service/companion.py", "from walletsync.bridge.endpoint import Bridge", "layers"),
        ("bridge/nonces.py", "import asyncio", "bridge-rules-sans-io"),
        ("bridge/params.py", "from walletsync.service import Companion", "bridge-rules-sans-io"),
        ("bridge/guard.py", "import aiohttp", "bridge-rules-sans-io"),
    ],
)
def test_a_planted_violation_breaks_its_contract(copy_of_the_tree, module, line, contract):
    plant(copy_of_the_tree, module, line)
    out = lint_imports(copy_of_the_tree, contract)
    assert out.returncode != 0 and "BROKEN" in out.stdout, f"contract {contract} kept with {line!r} in {module}"


def test_a_planted_randomness_import_in_the_protocol_is_caught(copy_of_the_tree):
    """`from nacl.utils import random` (and its relative cousins) in protocol/ or sync/ is refused by the syntax check."""
    plant(copy_of_the_tree, "protocol/crypto.py", "from nacl.utils import random")
    plant(copy_of_the_tree, "protocol/uri.py", "import urllib.request")
    plant(copy_of_the_tree, "sync/ids.py", "from nacl.utils import random")
    assert submodule_offenders(copy_of_the_tree / "walletsync") == {
        "protocol/crypto.py": ["nacl.utils", "nacl.utils.random"],
        "protocol/uri.py": ["urllib.request"],
        "sync/ids.py": ["nacl.utils", "nacl.utils.random"],
    }


def test_relative_imports_are_resolved(tmp_path):
    """The old check skipped relative imports, so `from ..service import Companion` in the engine went unseen."""
    module = tmp_path / "engine.py"
    module.write_text("from ..service import Companion\nfrom . import events\nfrom .crypto import seal\n")
    assert imports_of(module, "walletsync.protocol") >= {
        "walletsync.service.Companion",
        "walletsync.protocol.events",
        "walletsync.protocol.crypto.seal",
    }


def test_only_app_imports_textual():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "app"
        and any(_hits(m, {"textual"}) for m in imports_of(path, "walletsync"))
    ]
    assert offenders == []
