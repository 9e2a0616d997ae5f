"""The reads tools made, counted per client for the audit log: a row per client a minute, not a row per poll.

Every request a tool sends is audited with the client it came from. Those that reach the phone have their own rows
(``request_pushed`` with ``via``), refusals theirs (``bridge_refused``); what the bridge answers itself or passes to
the upstream node (``eth_blockNumber`` polled by forge, ``eth_getTransactionReceipt`` by ethers) is counted here and
written as one ``bridge_reads`` row per client with its count per method, at most once a minute and when the
endpoint stops. A client is its address without the port (a tool opens a connection per request), its User-Agent
and its transport. Bounded: so many clients and methods a period, the rest counted under :data:`OTHER`.
"""

from __future__ import annotations

from typing import Any

from walletsync.bridge.events import Client

MAX_CLIENTS = 64
"""Clients counted apart in one period; the rest are counted as one."""
MAX_METHODS = 32
"""Methods counted apart per client in one period; the rest are counted under :data:`OTHER`."""
OTHER = "(other)"
EVERY = 60.0
"""Seconds between the rows of one period and the next."""

Key = tuple[str | None, str | None, str]


def _host(peer: str | None) -> str | None:
    """``127.0.0.1:53124`` → ``127.0.0.1``, ``[::1]:8`` → ``[::1]``: the port changes with every connection."""
    if peer is None or ":" not in peer:
        return peer
    return peer.rsplit(":", 1)[0]


class ReadTally:
    """What each client read since the last :meth:`take`; ``now`` (monotonic seconds) comes in from the caller."""

    def __init__(self, now: float) -> None:
        self._counts: dict[Key, dict[str, int]] = {}
        self._since = now

    def count(self, client: Client, method: str) -> None:
        key: Key = (_host(client.peer), client.user_agent, client.transport)
        if key not in self._counts and len(self._counts) >= MAX_CLIENTS:
            key = (None, OTHER, client.transport)
        methods = self._counts.setdefault(key, {})
        if method not in methods and len(methods) >= MAX_METHODS:
            method = OTHER
        methods[method] = methods.get(method, 0) + 1

    def due(self, now: float) -> bool:
        """Whether a period is over and has something to write."""
        return bool(self._counts) and now - self._since >= EVERY

    def take(self, now: float) -> list[tuple[dict[str, Any], dict[str, int]]]:
        """Each client of the period (as an audit row describes it) with its count per method; a new period starts."""
        taken = [
            ({"via": "rpc", "peer": host, "user_agent": agent, "transport": transport}, dict(sorted(methods.items())))
            for (host, agent, transport), methods in self._counts.items()
        ]
        self._counts, self._since = {}, now
        return taken
