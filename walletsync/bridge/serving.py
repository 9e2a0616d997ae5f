"""One way to start an endpoint: a session's bridge served on a loopback port, for ``walletsync rpc`` and the app.

:class:`Serving` puts the pieces together — the session's scope and chain, its upstream node (checked to answer for
that chain), the :class:`~walletsync.bridge.endpoint.Bridge`, the :class:`~walletsync.bridge.server.Server` and its
:class:`~walletsync.bridge.guard.Guard` on the port it got — and takes them apart again in :meth:`Serving.close`.
What stops it (a signal, a key) is the caller's business; so is how the errors below are worded for the user.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from walletsync.bridge.endpoint import Bridge
from walletsync.bridge.events import BridgeEvent
from walletsync.bridge.guard import Guard, Refusal, normal_origin
from walletsync.bridge.server import Server
from walletsync.errors import WalletsyncError

if TYPE_CHECKING:
    from walletsync.service import BridgeScope, Companion

OnRefused = Callable[[Refusal, dict[str, Any]], None]


class ServeError(WalletsyncError):
    """The endpoint cannot start: the subclasses say why, with what a caller needs to word it."""

    code = "rpc"


class NoChain(ServeError):
    """The session has no chain to serve: ``wanted`` is not among ``granted``, or (``wanted`` None) the phone
    granted only chains the user did not ask for."""

    def __init__(self, wanted: str | None, granted: tuple[str, ...]) -> None:
        super().__init__(
            f"the session has no chain {wanted} to serve" if wanted else "the session has no chain to serve"
        )
        self.wanted, self.granted = wanted, granted


class NoUpstream(ServeError):
    """No upstream node is known for ``chain`` (none given, none in config.json or the chain registry)."""

    def __init__(self, chain: str) -> None:
        super().__init__(f"no upstream node for {chain}")
        self.chain = chain


class CannotListen(ServeError):
    """No port could be listened on: ``reason`` is the system's word for the last one tried; ``busy`` when it was in
    use."""

    def __init__(self, host: str, port: int, reason: str, busy: bool) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host, self.port, self.reason, self.busy = host, port, reason, busy


@dataclass(frozen=True)
class Listening:
    """Where an endpoint serves which session: what ``walletsync rpc`` prints first and the app shows."""

    session: str
    chain: str
    accounts: list[str]
    upstream: str
    host: str
    port: int

    @property
    def url(self) -> str:
        return url_of(self.host, self.port)

    @property
    def ws(self) -> str:
        return url_of(self.host, self.port, "ws")

    def to_json(self) -> dict[str, Any]:
        """The ``listening`` JSON line of ``walletsync rpc --json``."""
        return {
            "event": "listening",
            "url": self.url,
            "ws": self.ws,
            "session": self.session,
            "chain": self.chain,
            "accounts": self.accounts,
            "upstream": self.upstream,
        }


def url_of(host: str, port: int, scheme: str = "http") -> str:
    return f"{scheme}://[{host.strip('[]')}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def pick_chain(wanted: str | None, scope: BridgeScope) -> str:
    """``wanted`` if the phone granted it; else the session's first chain the user asked for."""
    if wanted is not None:
        if wanted not in scope.granted:
            raise NoChain(wanted, scope.granted)
        return wanted
    if not scope.chains:
        raise NoChain(None, scope.granted)
    return str(scope.chains[0])


class Serving:
    """Session ``ref``'s bridge on ``host``, on the first of ``ports`` not in use (0: a free one).

    ``report`` sees what the bridge reports; a request the guard refused is audited, then given to ``on_refused``.
    :meth:`start` returns the :class:`Listening` (also kept as ``listening``); :meth:`close` stops it all.
    """

    def __init__(
        self,
        companion: Companion,
        ref: str,
        *,
        report: Callable[[BridgeEvent], None],
        on_refused: OnRefused = lambda refusal, client: None,
        chain: str | None = None,
        upstream: str | None = None,
        host: str = "127.0.0.1",
        ports: Iterable[int] = (8545,),
        allow_origins: Iterable[str] = (),
        token: str | None = None,
    ) -> None:
        self.companion, self.ref, self.report, self.on_refused = companion, ref, report, on_refused
        self.wanted_chain, self.wanted_upstream, self.host, self.ports = chain, upstream, host, tuple(ports)
        self.origins = frozenset(normal_origin(o) for o in allow_origins)
        self.token = token
        self.listening: Listening | None = None
        self.topic: str | None = None
        self.bridge: Bridge | None = None
        self.server: Server | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> Listening:
        """Serve; :class:`ServeError`, :class:`~walletsync.bridge.endpoint.StartError` (the upstream node does not
        answer for the chain) or the companion's errors (the session ended) when it cannot."""
        scope = self.companion.bridge_scope(self.ref)
        self.topic = scope.session.topic
        chain = pick_chain(self.wanted_chain, scope)
        upstream = self.wanted_upstream or self.companion.chain_rpc(chain)
        if not upstream:
            raise NoUpstream(chain)
        try:
            self._http = aiohttp.ClientSession()
            self.bridge = Bridge(self.companion, self.ref, chain, upstream, report=self.report, http=self._http)
            await self.bridge.check_upstream()
            port = await self._listen(self.bridge)
            self.listening = Listening(scope.session.name, chain, self.bridge.accounts(), upstream, self.host, port)
        except BaseException:
            await self.close()
            raise
        return self.listening

    async def _listen(self, bridge: Bridge) -> int:
        """The port listened on: the first of ``ports`` that is free (the guard then knows it: its real port)."""
        failure: CannotListen | None = None
        for wanted in self.ports:
            server = Server(bridge, Guard(wanted), self._refused)
            try:
                port = await server.start(self.host, wanted)
            except OSError as exc:
                await server.close()
                failure = CannotListen(self.host, wanted, exc.strerror or str(exc), exc.errno == errno.EADDRINUSE)
                if not failure.busy:
                    break
                continue
            server.guard = Guard(port, self.origins, self.token)
            self.server = server
            return port
        raise failure or CannotListen(self.host, 0, "no port to try", False)

    async def ended(self) -> WalletsyncError:
        """Once started: waits until the served session ends (deleted, expired, revoked anywhere) and returns the error
        that says so — the caller stops serving then, since every signing request would fail."""
        assert self.topic is not None, "start() first"
        return await self.companion.session_end(self.topic)

    def _refused(self, refusal: Refusal, client: dict[str, Any]) -> None:
        self.companion.audit_bridge_refusal(refusal.reason, refusal.message, client)
        self.on_refused(refusal, client)

    async def close(self) -> None:
        """Stop listening (requests in flight get :data:`~walletsync.bridge.server.SHUTDOWN_WAIT`), stop watching
        sends, close the upstream's connections. Safe to call twice."""
        server, bridge, http = self.server, self.bridge, self._http
        self.server = self.bridge = self._http = None
        try:
            if server is not None:
                await server.close()
        finally:
            try:
                if bridge is not None:
                    await bridge.close()
            finally:
                if http is not None:
                    await http.close()
