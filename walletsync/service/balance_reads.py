"""Posting JSON-RPC to a chain's RPC over HTTP: the one I/O under balances, with a timeout and a bound on bytes.

An RPC is a stranger's server: its reply is read up to :data:`MAX_REPLY_BYTES` and no further, redirects are not
followed (a POST must not turn into something else), and every failure (refused, timed out, an HTTP error, not
JSON) is one :class:`RpcFailed` whose text says which, never a library exception. aiohttp is imported here only,
when balances are read.
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import TYPE_CHECKING, Any

from walletsync.errors import WalletsyncError

if TYPE_CHECKING:
    import aiohttp

MAX_REPLY_BYTES = 1 << 20
"""A batch of 50 balances is about 7 KB and a head block with its transaction hashes rarely 100 KB."""
TIMEOUT = 8.0
"""Seconds for one request, connecting included; a chain's RPCs are asked for their heads at once, so a dead one
costs this much once, not once per RPC."""
CONNECTIONS = 32
"""Requests in flight at once over every chain: enough for a few chains' batches side by side."""


class RpcFailed(WalletsyncError):
    """An RPC did not give a JSON reply; the text says why (refused, timed out, HTTP 429, too large, not JSON)."""

    code = "rpc_failed"


class RpcClient:
    """One HTTP client for a whole read (use it as ``async with``): connections are kept and shared by chains."""

    def __init__(self, timeout: float = TIMEOUT, max_bytes: int = MAX_REPLY_BYTES) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RpcClient:
        import aiohttp

        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONNECTIONS),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            headers={"Content-Type": "application/json"},
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, url: str, body: Any) -> Any:
        """The JSON ``url`` answers to the JSON-RPC ``body`` (a request or a batch); :class:`RpcFailed` otherwise."""
        import aiohttp

        if self._session is None:
            raise RuntimeError("RpcClient is used inside 'async with'")
        try:
            async with self._session.post(url, data=json.dumps(body), allow_redirects=False) as response:
                if response.status != 200:
                    raise RpcFailed(f"HTTP {response.status}")
                if (response.content_length or 0) > self.max_bytes:
                    raise RpcFailed(f"the reply is over {self.max_bytes} bytes")
                data = bytearray()
                while chunk := await response.content.read(65536):
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise RpcFailed(f"the reply is over {self.max_bytes} bytes")
            return json.loads(data)
        except TimeoutError:
            raise RpcFailed(f"no reply within {self.timeout:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise RpcFailed(f"cannot connect ({exc.os_error.strerror or type(exc.os_error).__name__})") from None
        except (aiohttp.ClientError, asyncio.IncompleteReadError) as exc:
            raise RpcFailed(f"the connection failed ({type(exc).__name__})") from None
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RpcFailed("the reply is not JSON") from None
