"""The developer tools the rpc endpoint serves, as test clients: Foundry's ``cast`` and ``forge``, and ethers.

All come from npm, pinned in tests/interop/package.json and installed by scripts/test: ``@foundry-rs/cast`` and
``@foundry-rs/forge`` (each binary an optional dependency per platform, as anvil's), ``ethers`` (driven by
tests/bridge_tools/ethers_client.mjs) and ``solc``, the Solidity compiler built to WebAssembly, which forge runs
through tests/bridge_tools/solc.cjs because no native compiler can be downloaded offline.

Every tool runs as a real process with its own ``HOME`` (``tool_env``), so Foundry's caches under ``~/.foundry``
stay out of the user's and the test run's.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.procs import INTEROP, REPO

BRIDGE_TOOLS = REPO / "tests" / "bridge_tools"
FORGE_PROJECT = BRIDGE_TOOLS / "forge"
ETHERS_CLIENT = BRIDGE_TOOLS / "ethers_client.mjs"


def foundry_binary(tool: str) -> Path:
    """``cast``, ``forge`` or ``anvil``: the platform binary npm installed (as ``AnvilNode.binary()`` finds anvil)."""
    found = sorted((INTEROP / "node_modules" / "@foundry-rs").glob(f"{tool}-*/bin/{tool}"))
    if not found:
        pytest.fail(f"{tool} missing: run the tests through ./scripts/test (it installs tests/interop's npm packages)")
    return found[0]


def tool_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a tool process: a ``HOME`` of its own, no colours, and ``extra`` on top."""
    return {**os.environ, "HOME": str(home), "NO_COLOR": "1", **extra}


@dataclass(frozen=True)
class Ran:
    """A finished tool process: its exit status and what it printed."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def ok(self) -> Ran:
        """This, if the tool exited 0; else an AssertionError quoting its output."""
        assert self.returncode == 0, f"{' '.join(self.argv)} exited {self.returncode}:\n{self.stdout}\n{self.stderr}"
        return self

    def json(self) -> Any:
        """The last line of stdout as JSON (the tools print their result last)."""
        return json.loads(self.stdout.strip().splitlines()[-1])


async def run_tool(*argv: str | Path, env: dict[str, str], cwd: Path | None = None, timeout: float = 120) -> Ran:
    """Run a tool to its end without blocking the event loop (a reference phone may be answering meanwhile)."""
    args = tuple(str(a) for a in argv)
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd or REPO,
        env=env,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(
            f"{' '.join(args)} still running after {timeout:g} s:\n{out.decode()}\n{err.decode()}"
        ) from None
    assert proc.returncode is not None
    return Ran(args, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


class Foundry:
    """``cast`` and ``forge`` for one test run: one ``HOME`` and one place for forge's build output, cache and
    broadcast records (``FOUNDRY_OUT``, ``FOUNDRY_CACHE_PATH``, ``FOUNDRY_BROADCAST``), so the forge project in the
    repo stays as committed and is compiled once.

    forge runs in the project's folder: its foundry.toml names the compiler by a path relative to it.
    """

    def __init__(self, workdir: Path) -> None:
        self.home = workdir / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.out = workdir / "out"
        self.env = tool_env(
            self.home,
            FOUNDRY_OUT=str(self.out),
            FOUNDRY_CACHE_PATH=str(workdir / "cache"),
            FOUNDRY_BROADCAST=str(workdir / "broadcast"),
        )
        self.broadcast = workdir / "broadcast"

    async def cast(self, *args: str, timeout: float = 120) -> Ran:
        return await run_tool(foundry_binary("cast"), *args, env=self.env, timeout=timeout)

    async def forge(self, *args: str, timeout: float = 180) -> Ran:
        return await run_tool(foundry_binary("forge"), *args, env=self.env, cwd=FORGE_PROJECT, timeout=timeout)

    def artifact(self, source: str, contract: str) -> dict[str, Any]:
        """What ``forge build`` wrote for ``contract`` of ``source`` (its ABI and bytecode)."""
        return json.loads((self.out / source / f"{contract}.json").read_text())

    def broadcast_record(self, script: str, chain_id: int) -> dict[str, Any]:
        """forge's record of the last ``forge script --broadcast`` of ``script`` on ``chain_id``."""
        return json.loads((self.broadcast / script / str(chain_id) / "run-latest.json").read_text())


async def ethers(url: str, account: str, command: str, *args: str, home: Path, timeout: float = 120) -> Ran:
    """One ethers signer call through ``new JsonRpcProvider(url).getSigner(account)`` (tests/bridge_tools/
    ethers_client.mjs): its JSON line is the result, or ``{"error": {"code", "message"}}`` with exit status 1."""
    return await run_tool(
        "node", ETHERS_CLIENT, url, account, command, *args, env=tool_env(home), cwd=BRIDGE_TOOLS, timeout=timeout
    )
