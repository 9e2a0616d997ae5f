"""The upstream node: the chain's JSON-RPC endpoint the bridge reads from and proxies to (aiohttp's client).

Thin I/O: :meth:`Upstream.forward` hands back the node's answer as it is (its ``result``, or its ``error`` object
with code, message and data untouched: a revert's code 3 and data reach the tool); :meth:`Upstream.ask` is for
the bridge's own questions and raises :class:`UpstreamError` with that error object.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import aiohttp

from walletsync.bridge.jsonrpc import INTERNAL_ERROR
from walletsync.errors import WalletsyncError
from walletsync.redact import url_shown

TIMEOUT = 60.0
"""Seconds the node has to answer one request."""
MAX_ANSWER = 64 << 20
"""Bytes of one answer read from the node (a block with its transactions, a large log query)."""


class UpstreamError(WalletsyncError):
    """The node answered an error (``error`` is its object, passed on unchanged) or could not be reached."""

    code = "upstream"

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(str(error.get("message")))
        self.error = error


class Upstream:
    """One node at ``url`` (http or https), over the shared aiohttp ``session``."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url, self.session = url, session
        self._ids = itertools.count(1)

    async def forward(self, method: str, params: Any) -> dict[str, Any]:
        """The node's answer to one request: ``{"result": …}`` or ``{"error": {…}}`` as the node sent it; a node
        that cannot be reached, or answers no JSON-RPC, is an ``error`` of ours (-32603) saying so."""
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        try:
            async with self.session.post(self.url, json=body, timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as response:
                text = await response.content.read(MAX_ANSWER + 1)
            answer = json.loads(text) if len(text) <= MAX_ANSWER else None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return {
                "error": {
                    "code": INTERNAL_ERROR,
                    "message": f"the upstream node {url_shown(self.url)} failed: {exc}"[:300],
                }
            }
        except ValueError:
            answer = None
        if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
            return {"error": answer["error"]}
        if isinstance(answer, dict) and "result" in answer:
            return {"result": answer["result"]}
        return {
            "error": {
                "code": INTERNAL_ERROR,
                "message": f"the upstream node {url_shown(self.url)} answered no JSON-RPC",
            }
        }

    async def ask(self, method: str, params: Any) -> Any:
        """The node's result; :class:`UpstreamError` with its error object otherwise."""
        answer = await self.forward(method, params)
        if "error" in answer:
            raise UpstreamError(answer["error"])
        return answer["result"]
