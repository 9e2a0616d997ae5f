"""The asyncio relay client: one websocket to a relay, kept alive.

It authenticates with a fresh relay-auth JWT on every (re)connect, resubscribes
every topic in batches after a reconnect, acks and de-duplicates pushes (they
land in :attr:`RelayClient.inbox`), retries a publish with the same request id
until the relay acks it or its deadline passes, and reports its state
(connecting / online / offline, with a reason) through :meth:`statuses`.
A connection attempt that cannot reach the relay at all (refused, a name that
does not resolve, no route) is marked ``unreachable``: :meth:`RelayClient.wait_online`
can then say so at once (:class:`RelayUnreachable`) while the retries go on.
:meth:`RelayClient.fetch_stored` asks the relay for what it holds until it says
there is no more, so a caller knows when nothing kept for it is still to come.
It owns no WalletConnect logic: :mod:`walletsync.transport.runner` feeds it an
engine's actions.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
import os
import re
import socket
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from walletsync import __version__
from walletsync.broadcast import Broadcast
from walletsync.errors import WalletsyncError
from walletsync.protocol.crypto import sha256_hex
from walletsync.protocol.jsonrpc import relay_request_id
from walletsync.protocol.relay_auth import RelayIdentity, create_jwt, subscription_id
from walletsync.protocol.relay_rpc import (
    TOO_MANY_REQUESTS,
    ApproveSession,
    BatchFetchMessages,
    BatchSubscribe,
    FrameError,
    MessageData,
    Params,
    ProposeSession,
    RelayError,
    RelayRequest,
    RelayResult,
    Subscribe,
    Subscription,
    Unsubscribe,
    encode_request,
    encode_result,
    normalize_id,
    parse_frame,
)

log = logging.getLogger("walletsync.transport")

State = Literal["connecting", "online", "offline", "closed"]
T = TypeVar("T")
BATCH = 500
WINDOW = 4
"""Batches of topics in flight at once after a reconnect or in a fetch."""
SEEN_LIMIT = 10_000
FATAL_CLOSE = 3000


class TransportError(WalletsyncError):
    code = "transport"


class RelayRejected(TransportError):
    """The relay answered a request with an error."""

    code = "relay_rejected"

    def __init__(self, method: str, rpc_code: int, message: str, data: Any = None) -> None:
        super().__init__(f"relay refused {method}: {message} ({rpc_code}{', ' + str(data) if data else ''})")
        self.rpc_code, self.data = rpc_code, data


class RelayUnreachable(TransportError):
    """A connection attempt could not reach the relay at all: refused, a name that does not resolve, no route."""

    code = "relay_unreachable"

    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"cannot reach the relay at {url}: {why}")
        self.url, self.why = url, why


class _ConnectionLost(Exception):
    pass


@dataclass(frozen=True)
class Status:
    """The link's state; ``unreachable`` when the last attempt never reached the relay (``reason`` says why)."""

    state: State
    reason: str | None = None
    attempt: int = 0
    unreachable: bool = False


class RelayClient:
    """A long-lived connection to ``url``. ``await start()``; ``await close()`` when done."""

    def __init__(
        self,
        url: str,
        identity: RelayIdentity,
        *,
        project_id: str | None = None,
        clock: Callable[[], float] = time.time,
        random: Callable[[int], bytes] = os.urandom,
        backoff_base: float = 0.1,
        backoff_cap: float = 10.0,
        request_timeout: float = 15.0,
        ping_interval: float | None = 20.0,
    ) -> None:
        self.url = url
        self.identity = identity
        self.project_id = project_id
        self.clock = clock
        self.random = random
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.request_timeout = request_timeout
        self.ping_interval = ping_interval
        self.topics: set[str] = set()
        self.inbox: asyncio.Queue[MessageData] = asyncio.Queue()
        self.status = Status("offline", "not started")
        self._session_sub = self.random(32).hex()
        self._ws: ClientConnection | None = None
        self._online = asyncio.Event()
        self._pending: dict[int, asyncio.Future] = {}
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._statuses: Broadcast[Status] = Broadcast()
        self._task: asyncio.Task | None = None
        self._closing = False
        self._wakeup = asyncio.Event()

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"relay-client {self.url}")

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:  # wherever it is (connecting, resubscribing, reading), stop it
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        self._set_status(Status("closed"))

    async def wait_online(self, timeout: float | None = None, *, fail_fast: bool = False) -> None:
        """Return once the link is up; :class:`TransportError` when it is not within ``timeout`` seconds.

        ``fail_fast``: :class:`RelayUnreachable` as soon as the relay is known to be unreachable,
        because the last attempt could not reach it or the one under way cannot, instead of
        waiting through the retries. The retries go on in the background either way.
        """
        if self._online.is_set():  # the usual case, before every request: no timer, no status subscription
            return
        try:
            async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can swallow a cancellation
                if not fail_fast:
                    await self._online.wait()
                    return
                async with contextlib.aclosing(self.statuses()) as statuses:
                    async for status in statuses:  # every time the link comes up, its status changes too
                        if self._online.is_set():
                            return
                        if status.unreachable:
                            raise RelayUnreachable(self.url, status.reason or "unreachable")
        except TimeoutError:
            raise TransportError(
                f"relay {self.url} not reachable after {timeout:g} s ({self.status.reason or self.status.state})"
            ) from None

    def statuses(self) -> AsyncGenerator[Status, None]:
        """Every status change from now on, starting with the current one."""
        return self._statuses.listen(lambda: self.status)

    def _set_status(self, status: Status) -> None:
        if status != self.status:
            self.status = status
            log.info("relay %s: %s%s", self.url, status.state, f" ({status.reason})" if status.reason else "")
            self._statuses.publish([status])

    def _auth_url(self) -> str:
        aud = self.url.split("?")[0]
        jwt = create_jwt(self.identity, sub=self._session_sub, aud=aud, iat=int(self.clock()))
        query = {"auth": jwt, "ua": f"wc-2/walletsync-{__version__}/python", "useOnCloseEvent": "true"}
        if self.project_id:
            query["projectId"] = self.project_id
        return self.url + ("&" if "?" in self.url else "?") + urlencode(sorted(query.items()))

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            self._set_status(Status("connecting", attempt=attempt))
            reason = "connection closed"
            unreachable = False
            ws = None
            try:
                async with connect(
                    self._auth_url(),
                    ping_interval=self.ping_interval,
                    ping_timeout=self.ping_interval,
                    open_timeout=self.request_timeout,
                    compression=None,
                    max_size=2**21,
                ) as ws:
                    self._ws = ws
                    reader = asyncio.create_task(self._read(ws))
                    try:
                        await self._resubscribe()
                        attempt = 0
                        self._online.set()
                        self._set_status(Status("online"))
                        await reader
                    finally:
                        reader.cancel()
                        await asyncio.gather(reader, return_exceptions=True)
                    reason = _close_reason(ws)
            except (
                TimeoutError,
                OSError,
                InvalidHandshake,
                InvalidURI,
                TransportError,
                _ConnectionLost,
                ConnectionClosed,
            ) as exc:
                if ws is None and isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
                    unreachable, reason = True, _unreachable_reason(exc, urlsplit(self.url).hostname or self.url)
                elif ws is not None and ws.close_code is not None:
                    reason = _close_reason(ws)
                else:
                    reason = str(exc) or type(exc).__name__
            finally:
                if not self._closing:
                    self._ws = None
                self._online.clear()
                for future in self._pending.values():
                    if not future.done():
                        future.set_exception(_ConnectionLost(reason))
            if self._closing:
                break
            self._set_status(Status("offline", reason, attempt, unreachable))
            delay = min(self.backoff_cap, self.backoff_base * 2**attempt) * (
                0.5 + int.from_bytes(self.random(2), "big") / 131070
            )
            attempt += 1
            self._wakeup.clear()
            try:
                async with asyncio.timeout(delay):
                    await self._wakeup.wait()
            except TimeoutError:
                pass

    async def _resubscribe(self) -> None:
        """Subscribe every topic again; with none, one harmless round trip proves the relay accepted us."""
        if not self.topics:
            try:
                await self._request(self._new_id(), BatchFetchMessages(()))
            except RelayRejected:
                pass  # an answer, even a refusal, means the socket is authenticated and alive
        done: set[str] = set()
        while pending := sorted(self.topics - done):  # topics added meanwhile (subscribe() while offline) too
            batches = [tuple(pending[start : start + BATCH]) for start in range(0, len(pending), BATCH)]
            await _windowed([functools.partial(self._subscribe_batch, batch) for batch in batches])
            done.update(pending)

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            try:
                frame = parse_frame(raw)
            except FrameError as exc:
                log.warning("relay sent a bad frame: %s", exc)
                continue
            if isinstance(frame, RelayRequest):
                if isinstance(frame.params, Subscription):
                    await ws.send(encode_result(frame.id, True))  # ack before processing, as the SDK does
                    self._accept(frame.params.data)
                continue  # other server requests are ignored, unanswered (like the SDK)
            try:
                future = self._pending.get(normalize_id(frame.id))
            except FrameError:
                continue
            if future is not None and not future.done():
                future.set_result(frame)

    def _accept(self, data: MessageData) -> None:
        key = (data.topic, sha256_hex(data.message.encode("utf-8")))
        if key in self._seen or data.topic not in self.topics:
            return
        self._seen[key] = None
        if len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)
        self.inbox.put_nowait(data)

    # --- requests ---------------------------------------------------------------------

    def _new_id(self) -> str:
        return relay_request_id(self.clock(), int.from_bytes(self.random(3), "big"))

    async def _request(self, request_id: str, params: Params) -> Any:
        ws = self._ws
        if ws is None:
            raise _ConnectionLost("not connected")
        key = normalize_id(request_id)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            await ws.send(encode_request(request_id, params))
            async with asyncio.timeout(self.request_timeout):
                frame = await future
        except ConnectionClosed as exc:
            if self._ws is ws:  # dead before the reader noticed: callers must wait for the reconnect, not spin
                self._online.clear()
            raise _ConnectionLost(str(exc)) from None
        finally:
            self._pending.pop(key, None)
        if isinstance(frame, RelayError):
            raise RelayRejected(params.METHOD, frame.code, frame.message, frame.data)
        assert isinstance(frame, RelayResult)
        return frame.result

    async def call(self, params: Params, *, deadline: float = 60.0) -> Any:
        """Send a request until the relay answers it or ``deadline`` seconds pass; the same id each try.

        The relay stores a message once per content hash, so a retry after a lost
        answer does not duplicate it. A relay error is final, except rate limiting.
        """
        request_id = self._new_id()
        end = time.monotonic() + deadline
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise TransportError(
                    f"{params.METHOD} not acknowledged by {self.url} within {deadline:g} s ({self.status.reason or self.status.state})"
                )
            try:
                async with asyncio.timeout(remaining):
                    await self._online.wait()
                return await self._request(request_id, params)
            except RelayRejected as exc:
                if exc.rpc_code != TOO_MANY_REQUESTS:
                    raise
                await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))
            except (TimeoutError, _ConnectionLost):
                continue

    async def fetch_stored(self, topics: Iterable[str]) -> bool:
        """Ask the relay for what it holds on ``topics`` (subscribed ones), until it says there is no more.

        Each message goes to :attr:`inbox` as a push would (a message both pushed and fetched lands
        once). Returns False when the relay will not answer ``irn_batchFetchMessages`` (refuses it,
        or answers something else, or "more" with no message): the caller then cannot know when
        what the relay kept has arrived.
        """
        wanted = sorted(set(topics) & self.topics)
        batches = [tuple(wanted[start : start + BATCH]) for start in range(0, len(wanted), BATCH)]
        return all(await _windowed([functools.partial(self._fetch_batch, batch) for batch in batches]))

    async def _subscribe_batch(self, batch: tuple[str, ...]) -> None:
        await self._request(self._new_id(), BatchSubscribe(batch))

    async def _fetch_batch(self, batch: tuple[str, ...]) -> bool:
        more = True
        while more:
            try:
                result = await self.call(BatchFetchMessages(batch), deadline=self.request_timeout)
            except RelayRejected as exc:
                log.info("the relay does not fetch stored messages: %s", exc)
                return False
            page = _fetched(result)
            if page is None:
                log.info("the relay answered a fetch with %s, not {messages, hasMore}", type(result).__name__)
                return False
            messages, more = page
            if more and not messages:
                return False  # "more" with nothing in it: asking again would go round for ever
            for data in messages:
                self._accept(data)
        return True

    async def publish(self, params: Params, *, deadline: float = 60.0) -> None:
        """Publish (``irn_publish``, ``wc_proposeSession``, ``wc_approveSession``, …) until acked.

        The two ``wc_*Session`` calls subscribe us implicitly, so their topic joins
        the set resubscribed after a reconnect.
        """
        if isinstance(params, ProposeSession):
            self.topics.add(params.pairing_topic)
        elif isinstance(params, ApproveSession):
            self.topics.add(params.session_topic)
        await self.call(params, deadline=deadline)

    async def subscribe(self, topic: str, *, deadline: float = 60.0) -> None:
        """Subscribe now if online (waiting for the relay's answer), else at the next connect."""
        self.topics.add(topic)
        if self._online.is_set():
            await self.call(Subscribe(topic), deadline=deadline)

    async def unsubscribe(self, topic: str) -> None:
        self.topics.discard(topic)
        if self._online.is_set():
            try:
                await self.call(
                    Unsubscribe(topic, subscription_id(topic, self.identity.client_id)), deadline=self.request_timeout
                )
            except TransportError as exc:
                log.info("unsubscribe of %s… not confirmed: %s", topic[:12], exc)


async def _windowed(calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
    """The results of ``calls``, :data:`WINDOW` of them in flight at once: batches of thousands of topics are
    pipelined on the one socket (the relay works on one while the next is on its way) without flooding it."""
    if len(calls) == 1:
        return [await calls[0]()]
    results: list[T] = []
    for start in range(0, len(calls), WINDOW):
        tasks = [asyncio.ensure_future(call()) for call in calls[start : start + WINDOW]]
        try:
            results.extend(await asyncio.gather(*tasks))
        except BaseException:  # the first failure is the caller's, as if the calls ran one after another
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    return results


def _fetched(result: Any) -> tuple[list[MessageData], bool] | None:
    """The messages of an ``irn_(batch)FetchMessages`` result (bad ones skipped) and its ``hasMore``; None if no such result."""
    if not isinstance(result, dict) or not isinstance(result.get("messages"), list):
        return None
    messages = []
    for item in result["messages"]:
        try:
            messages.append(MessageData.from_json(item))
        except FrameError as exc:
            log.warning("the relay fetched a bad message: %s", exc)
    return messages, result.get("hasMore") is True


_WHY = {
    errno.ECONNREFUSED: "connection refused",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "no route to the host",
    errno.ECONNRESET: "connection reset",
}


def _unreachable_reason(exc: OSError, host: str) -> str:
    """Why a connection attempt never reached the relay, in a few words."""
    if isinstance(exc, socket.gaierror):
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return f"the name {host} does not resolve"
        return f"looking up {host} failed ({exc.strerror or exc})"
    # asyncio joins the failures of a name's several addresses into one message: same errno for all, same words
    numbers = {exc.errno} if exc.errno is not None else {int(n) for n in re.findall(r"\[Errno (-?\d+)\]", str(exc))}
    if len(numbers) == 1 and (number := numbers.pop()) in _WHY:
        return _WHY[number]
    return str(exc) or type(exc).__name__


def _close_reason(ws: ClientConnection | None) -> str:
    if ws is None or ws.close_code is None:
        return "connection lost"
    if ws.close_code == FATAL_CLOSE:
        return f"relay refused the connection: {ws.close_reason}"
    return f"closed by relay ({ws.close_code}{': ' + ws.close_reason if ws.close_reason else ''})"
