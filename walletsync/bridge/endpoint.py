"""The bridge: one session's phone as a node a tool can use, answering one JSON-RPC request at a time.

:meth:`Bridge.answer` routes each request (:mod:`~walletsync.bridge.routing`): the session answers for its
accounts and chain, the phone signs through the companion's :meth:`request` (the policies judge it, the audit
log keeps it with the client that asked), and the upstream node answers the rest unchanged. It talks to the
companion only through the service's façade; the server (:mod:`~walletsync.bridge.server`) feeds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from walletsync.bridge import faults
from walletsync.bridge.events import BridgeEvent, Client, PhoneAsked, RequestHandled
from walletsync.bridge.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    UNAUTHORIZED,
    UNRECOGNIZED_CHAIN,
    UNSUPPORTED_METHOD,
    Call,
    Fault,
    error,
    result,
)
from walletsync.bridge.params import quantity, sign_params, transaction
from walletsync.bridge.reads import ReadTally
from walletsync.bridge.retries import Retries, request_key
from walletsync.bridge.routing import Route, phone_method, route
from walletsync.bridge.sending import Sender
from walletsync.bridge.upstream import Upstream, UpstreamError
from walletsync.errors import WalletsyncError
from walletsync.redact import url_shown

if TYPE_CHECKING:
    from walletsync.bridge.watching import Subscriptions
    from walletsync.service import Companion, RequestOutcome

MAX_METHOD_CHARS = 100
"""Characters of a read's method name its audit row keeps."""
EXPIRY = 300
"""Seconds the phone has to answer a request (the tool's own timeout should be as long: see the README)."""
Answer = tuple[Any, Fault | dict[str, Any] | None]
"""A result, or the error to answer with (a :class:`Fault`, or an upstream node's error object as it came)."""


class StartError(WalletsyncError):
    """The bridge cannot serve this session: no upstream node, or one on another chain."""

    code = "rpc_start"


class Bridge:
    """One session (``ref``) on one chain at a time, reading from its upstream node; ``report`` sees each step."""

    def __init__(
        self,
        companion: Companion,
        ref: str,
        chain_id: str,
        upstream_url: str,
        *,
        report: Callable[[BridgeEvent], None],
        http: aiohttp.ClientSession,
        expiry: int = EXPIRY,
    ) -> None:
        self.companion, self.ref, self.chain_id, self.expiry = companion, ref, chain_id, expiry
        self.report, self.http = report, http
        self.upstreams = {chain_id: Upstream(upstream_url, http)}
        self.retries = Retries(time.monotonic)
        self.sender = Sender(report, self._audit_altered)
        self.reads = ReadTally(time.monotonic())

    @property
    def upstream(self) -> Upstream:
        return self.upstreams[self.chain_id]

    async def check_upstream(self, chain_id: str | None = None) -> None:
        """Return once the upstream node of ``chain_id`` (default: the current one) answers for that chain;
        :class:`StartError` saying what is wrong otherwise."""
        chain_id = chain_id or self.chain_id
        upstream = self.upstreams[chain_id]
        try:
            answered = await upstream.ask("eth_chainId", [])
        except UpstreamError as exc:
            raise StartError(f"the upstream node {url_shown(upstream.url)} does not answer: {exc}") from None
        if f"eip155:{quantity(answered)}" != chain_id:
            raise StartError(f"the upstream node {url_shown(upstream.url)} is on chain {answered!r}, not {chain_id}")

    def accounts(self) -> list[str]:
        """The session's accounts on the current chain."""
        return self.companion.bridge_scope(self.ref).accounts(self.chain_id)

    async def answer(
        self,
        call: Call,
        client: Client,
        connected: Callable[[], bool] = lambda: True,
        subscriptions: Subscriptions | None = None,
    ) -> dict[str, Any] | None:
        """The JSON-RPC answer to ``call`` (None for a notification); never raises for what the tool sent.
        ``connected()`` says whether the client is still there to get it (one that left will likely retry);
        ``subscriptions`` are its WebSocket connection's (None over HTTP, which has none)."""
        try:
            value, fault = await self._answer(call, client, connected, subscriptions)
        except Exception as exc:  # a bug of ours: said to the tool (and on the terminal), not a dropped connection
            value, fault = (
                None,
                Fault(INTERNAL_ERROR, f"walletsync could not answer: {type(exc).__name__}: {exc}"[:300]),
            )
        outcome = "ok" if fault is None else "error"
        shown_error = fault.to_json() if isinstance(fault, Fault) else fault
        self.report(RequestHandled(call.method, client, outcome, shown_error))
        if call.notification:
            return None
        return result(call.id, value) if fault is None else error(call.id, fault)

    async def _answer(
        self, call: Call, client: Client, connected: Callable[[], bool], subscriptions: Subscriptions | None
    ) -> Answer:
        way = route(call.method)
        if way not in (Route.SIGN, Route.SEND, Route.REFUSED):  # those have audit rows of their own
            self._count_read(call.method, client)
        try:
            if way is Route.ACCOUNTS:
                return self.accounts(), None
            if way is Route.CHAIN_ID:
                return hex(self._chain_number()), None
            if way is Route.NET_VERSION:
                return str(self._chain_number()), None
            if way is Route.SWITCH_CHAIN:
                return await self._switch(call.params)
            if way is Route.SUBSCRIPTION:
                if subscriptions is None:
                    return None, Fault(
                        METHOD_NOT_FOUND, f"{call.method} needs a WebSocket: connect to ws:// on this port"
                    )
                if call.method == "eth_subscribe":
                    return await subscriptions.subscribe(call.params)
                return subscriptions.unsubscribe(call.params)
            if way is Route.REFUSED:
                refused = Fault(
                    UNSUPPORTED_METHOD,
                    f"{call.method} is not supported: the phone signs personal_sign, eth_signTypedData_v4 and "
                    "eth_sendTransaction",
                )
                self.companion.audit_bridge_refusal(
                    "method", refused.message, {**client.to_json(), "method": call.method}
                )
                return None, refused
            if way in (Route.SIGN, Route.SEND):
                return await self._once(call, client, connected)
            answer = await self.upstream.forward(call.method, call.params)
            return answer.get("result"), answer.get("error")
        except WalletsyncError as exc:  # the session ended, the store: said, not raised at the tool's connection
            return None, faults.from_refusal(exc.code, str(exc), getattr(exc, "rule", None))

    def _chain_number(self) -> int:
        return int(self.chain_id.split(":")[1])

    async def _switch(self, params: Any) -> Answer:
        wanted = quantity(params[0].get("chainId")) if params and isinstance(params[0], dict) else None
        if wanted is None:
            return None, Fault(INVALID_PARAMS, "Invalid params: wallet_switchEthereumChain takes [{chainId}]")
        chain = f"eip155:{wanted}"
        scope = self.companion.bridge_scope(self.ref)
        if chain not in scope.granted:
            return None, Fault(UNRECOGNIZED_CHAIN, f"Unrecognized chain ID {hex(wanted)}: the session has no {chain}")
        if chain not in scope.chains and chain != self.chain_id:
            return None, Fault(
                UNAUTHORIZED,
                f"the phone granted {chain} but you did not ask for it: start walletsync rpc --chain {chain}",
            )
        if chain not in self.upstreams:
            url = self.companion.chain_rpc(chain)
            if url is None:
                return None, Fault(
                    UNRECOGNIZED_CHAIN,
                    f"no RPC node known for {chain}: add one to config.json's rpc, or restart with it",
                )
            self.upstreams[chain] = Upstream(url, self.http)
        try:
            await self.check_upstream(chain)
        except StartError as exc:
            del self.upstreams[chain]
            return None, Fault(UNRECOGNIZED_CHAIN, str(exc))
        self.chain_id = chain
        return None, None

    async def _once(self, call: Call, client: Client, connected: Callable[[], bool]) -> Answer:
        """The phone's answer, asked once for a request a tool retries (:mod:`~walletsync.bridge.retries`)."""
        key = request_key(call.method, self.chain_id, call.params)
        earlier = self.retries.earlier(key)
        if earlier is not None:
            answer: Answer = await earlier
            if connected():
                self.retries.delivered(key)
            return answer
        self.retries.begin(key)
        answer = (None, faults.from_refusal("internal", "the request failed"))
        try:
            answer = await self._ask_phone(call, client)
        finally:
            self.retries.end(key, answer, keep=answer[1] is None and not connected())
        return answer

    async def _ask_phone(self, call: Call, client: Client) -> Answer:
        accounts = self.accounts()
        chain, upstream = self.chain_id, self.upstream
        if route(call.method) is Route.SIGN:
            params = sign_params(call.method, call.params, accounts)
            if isinstance(params, Fault):
                return None, params
            return await self._push(phone_method(call.method), params, chain, client)
        tx = transaction(call.params, accounts, chain)
        if isinstance(tx, Fault):
            return None, tx
        try:
            tx = await self.sender.fill(tx, upstream)
        except UpstreamError as exc:  # a revert in the estimate: its code 3 and data, as the node said them
            return None, exc.error

        async def push(filled: dict[str, Any]) -> Answer:
            return await self._push(call.method, [filled], chain, client)

        try:
            return await self.sender.send(tx, upstream, push, client)
        except UpstreamError as exc:
            return None, exc.error

    async def _push(self, method: str, params: list[Any], chain: str, client: Client) -> Answer:
        """Ask the phone through the companion; its outcome as an answer."""
        try:
            preview = self.companion.preview_request(self.ref, method, params, chain_id=chain)
        except WalletsyncError:
            preview = None
        self.report(PhoneAsked(method, client, preview, params))
        try:
            outcome = await self.companion.request(
                self.ref, method, params, chain_id=chain, expiry=self.expiry, via=client.to_json()
            )
        except WalletsyncError as exc:
            return None, faults.from_refusal(exc.code, str(exc), getattr(exc, "rule", None))
        return _answer_of(outcome)

    def _audit_altered(self, tx_hash: str, found: list[dict[str, Any]], client: Client) -> None:
        self.companion.audit_altered(self.ref, tx_hash, found, client.to_json())

    def _count_read(self, method: str, client: Client) -> None:
        self.reads.count(client, method[:MAX_METHOD_CHARS])
        now = time.monotonic()
        if self.reads.due(now):
            self._audit_reads(now)

    def _audit_reads(self, now: float) -> None:
        for who, counts in self.reads.take(now):
            self.companion.audit_bridge_reads(who, counts)

    async def close(self) -> None:
        """Stop watching sends; the reads counted since the last row are audited now."""
        try:
            self._audit_reads(time.monotonic())
        finally:
            await self.sender.close()


def _answer_of(outcome: RequestOutcome) -> Answer:
    if outcome.error is not None:
        return None, faults.from_phone(outcome.method, outcome.error)
    if not outcome.ok:
        return None, faults.unverified(str((outcome.verdict or {}).get("reason")))
    return outcome.result, None
