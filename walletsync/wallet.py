"""The reference phone wallet: the wallet role of the Sign engine, with one Ethereum key.

Two parts. :class:`Signer` holds the key and turns a request (``personal_sign``,
``eth_signTypedData_v4``, ``eth_sendTransaction``) into its answer, or raises
:class:`SignError` carrying the JSON-RPC error to send back. :class:`PhoneWallet`
drives an :class:`~walletsync.transport.runner.EngineRunner`: it pairs from a URI,
decides on the proposal, answers requests, and reports every step as a dict in the
``phone`` JSON contract (DESIGN.md) through the ``report`` callback it was given.
Nothing here parses arguments or prints; ``walletsync phone`` does that.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Literal

from walletsync.errors import WalletsyncError
from walletsync.protocol import events as ev
from walletsync.protocol.errors import ProtocolError
from walletsync.protocol.jsonrpc import RpcError, sdk_error
from walletsync.protocol.namespaces import build_approved_namespaces, merge_namespaces
from walletsync.protocol.state import Proposal
from walletsync.protocol.uri import PairingUri
from walletsync.transport.runner import EngineRunner

DEFAULT_PATH = "m/44'/60'/0'/0/0"
METHODS = ("personal_sign", "eth_signTypedData_v4", "eth_sendTransaction")
EVENTS = ("chainChanged", "accountsChanged")
INVALID_PARAMS, NODE_ERROR = -32602, -32000
GWEI = 10**9
DEFAULT_GAS, DEFAULT_PRIORITY_FEE, DEFAULT_MAX_FEE = 21_000, 1 * GWEI, 30 * GWEI


class WalletKeyError(WalletsyncError):
    """A private key or mnemonic/path that does not give an account."""

    code = "invalid_key"


class SignError(WalletsyncError):
    """The wallet will not or cannot answer a request; ``rpc_error`` is the JSON-RPC error to reply with."""

    code = "sign_refused"

    def __init__(self, rpc_error: RpcError) -> None:
        super().__init__(rpc_error.message)
        self.rpc_error = rpc_error


def _invalid(message: str) -> SignError:
    return SignError(RpcError(INVALID_PARAMS, f"Invalid params: {message}"))


def _eth_account():
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return Account


# --- the key ---------------------------------------------------------------------------


class Signer:
    """One Ethereum account. Holds a private key: never print it (``repr`` shows the address only).

    With ``rpc_url`` a signed transaction is broadcast through that node (which also
    fills a missing nonce, gas and fees); without, it is only signed and its hash returned.
    """

    def __init__(self, account: Any, *, path: str | None = None, rpc_url: str | None = None) -> None:
        self._account = account
        self.path = path
        self.rpc_url = rpc_url

    @classmethod
    def from_key(cls, key_hex: str, *, rpc_url: str | None = None) -> Signer:
        try:
            return cls(_eth_account().from_key(key_hex), rpc_url=rpc_url)
        except Exception:
            raise WalletKeyError("the key must be 32 bytes of hex (64 hex digits, 0x optional)") from None

    @classmethod
    def from_mnemonic(cls, words: str, path: str = DEFAULT_PATH, *, rpc_url: str | None = None) -> Signer:
        try:
            account = _eth_account().from_mnemonic(" ".join(words.split()), account_path=path)
        except Exception as exc:
            raise WalletKeyError(f"cannot derive an account: {exc}") from None
        return cls(account, path=path, rpc_url=rpc_url)

    @property
    def address(self) -> str:
        """The checksummed ``0x`` address."""
        return self._account.address

    def __repr__(self) -> str:
        return f"Signer({self.address}, path={self.path!r})"

    def sign(self, method: str, params: Any, chain_id: str | None = None) -> str:
        """The answer to a request on ``chain_id`` (``eip155:N``); raises :class:`SignError` otherwise."""
        handler = {"personal_sign": self._personal_sign, "eth_signTypedData_v4": self._sign_typed_data, "eth_sendTransaction": self._send_transaction}.get(method)
        if handler is None:
            raise SignError(sdk_error("UNSUPPORTED_METHODS", method))
        if not isinstance(params, list):
            raise _invalid(f"{method} params must be a list")
        return handler(params, chain_id)

    def _check_address(self, address: Any) -> None:
        if address is None:
            return
        if not isinstance(address, str) or address.lower() != self.address.lower():
            raise SignError(sdk_error("UNSUPPORTED_ACCOUNTS", f"{str(address)[:64]} is not this wallet's account {self.address}"))

    def _personal_sign(self, params: list, chain_id: str | None) -> str:
        from eth_account.messages import encode_defunct

        if not 1 <= len(params) <= 3:
            raise _invalid("personal_sign takes [message, address]")
        message, address = params[0], params[1] if len(params) > 1 else None
        if _is_address(message) and not _is_address(address):
            message, address = address, message  # the old [address, message] order
        self._check_address(address)
        signable = encode_defunct(primitive=_message_bytes(message))
        return "0x" + bytes(self._account.sign_message(signable).signature).hex()

    def _sign_typed_data(self, params: list, chain_id: str | None) -> str:
        from eth_account.messages import encode_typed_data

        if len(params) != 2:
            raise _invalid("eth_signTypedData_v4 takes [address, typedData]")
        self._check_address(params[0])
        data = params[1]
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise _invalid("typed data is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("domain"), dict):
            raise _invalid("typed data must be an object with a domain")
        domain_chain = _int(data["domain"].get("chainId"), "domain.chainId")
        if domain_chain is not None and chain_id is not None and chain_id != f"eip155:{domain_chain}":
            raise _invalid(f"typed data is for chain eip155:{domain_chain}, the request is on {chain_id}")
        try:
            signable = encode_typed_data(full_message=data)
        except Exception as exc:
            raise _invalid(f"typed data does not encode: {exc}") from None
        return "0x" + bytes(self._account.sign_message(signable).signature).hex()

    def _send_transaction(self, params: list, chain_id: str | None) -> str:
        if len(params) != 1 or not isinstance(params[0], dict):
            raise _invalid("eth_sendTransaction takes [transaction]")
        tx = params[0]
        self._check_address(tx.get("from"))
        chain = _eip155_chain(chain_id)
        if _int(tx.get("chainId"), "chainId") not in (None, chain):
            raise _invalid(f"transaction chainId {tx['chainId']} is not the request's chain {chain_id}")
        node = _Node(self.rpc_url, chain) if self.rpc_url else None
        fields = _transaction(tx, chain, self.address, node)
        try:
            signed = self._account.sign_transaction(fields)
        except Exception as exc:
            raise _invalid(f"cannot sign this transaction: {exc}") from None
        if node is not None:
            return node.send(signed.raw_transaction)
        return "0x" + bytes(signed.hash).hex()


def _is_address(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 42 and value[:2].lower() == "0x" and _is_hex(value[2:])


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _message_bytes(message: Any) -> bytes:
    """``0x``-hex is the message's bytes (what dapps send); anything else is UTF-8 text."""
    if not isinstance(message, str):
        raise _invalid("the message must be a string")
    if message[:2].lower() == "0x" and len(message) % 2 == 0 and _is_hex(message[2:]):
        return bytes.fromhex(message[2:])
    return message.encode("utf-8")


def _int(value: Any, name: str) -> int | None:
    """A quantity as dapps send it: ``0x`` hex, a decimal string or a number; None when absent."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if value[:2].lower() == "0x" else int(value, 10)
        except ValueError:
            pass
    raise _invalid(f"{name} must be a non-negative quantity, not {str(value)[:40]!r}")


def _eip155_chain(chain_id: str | None) -> int:
    namespace, _, reference = (chain_id or "").partition(":")
    if namespace != "eip155" or not reference.isascii() or not reference.isdigit():
        raise SignError(sdk_error("UNSUPPORTED_CHAINS", f"{chain_id} is not an eip155 chain"))
    return int(reference)


def _transaction(tx: dict[str, Any], chain: int, sender: str, node: _Node | None) -> dict[str, Any]:
    """The fields eth_account signs: the request's, with defaults (or the node's values) for the missing ones."""
    data = tx.get("data", tx.get("input")) or "0x"
    if not isinstance(data, str) or data[:2].lower() != "0x" or not _is_hex(data[2:]) or len(data) % 2:
        raise _invalid("data must be 0x-prefixed hex")
    fields: dict[str, Any] = {"chainId": chain, "value": _int(tx.get("value"), "value") or 0, "data": data}
    if tx.get("to") is not None:
        if not _is_address(tx["to"]):
            raise _invalid("to must be a 20-byte 0x address")
        from eth_utils import to_checksum_address

        fields["to"] = to_checksum_address(tx["to"])
    nonce = _int(tx.get("nonce"), "nonce")
    fields["nonce"] = nonce if nonce is not None else (node.nonce(sender) if node else 0)
    gas = _int(tx.get("gas", tx.get("gasLimit")), "gas")
    fields["gas"] = gas if gas is not None else (node.estimate_gas({**fields, "from": sender}) if node else DEFAULT_GAS)
    gas_price = _int(tx.get("gasPrice"), "gasPrice")
    max_fee, priority = _int(tx.get("maxFeePerGas"), "maxFeePerGas"), _int(tx.get("maxPriorityFeePerGas"), "maxPriorityFeePerGas")
    if gas_price is not None and max_fee is None and priority is None:
        fields["gasPrice"] = gas_price
        return fields
    if priority is None:
        priority = node.priority_fee() if node else DEFAULT_PRIORITY_FEE
    if max_fee is None:
        max_fee = node.max_fee(priority) if node else max(DEFAULT_MAX_FEE, priority)
    fields["maxPriorityFeePerGas"], fields["maxFeePerGas"] = priority, max(max_fee, priority)
    return fields


class _Node:
    """An Ethereum JSON-RPC node (web3 over HTTP) for nonces, gas, fees and broadcasting."""

    def __init__(self, url: str, chain: int) -> None:
        from web3 import HTTPProvider, Web3

        self.url = url
        self.w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 20}))
        node_chain = self._call("read the chain id", lambda: self.w3.eth.chain_id)
        if node_chain != chain:
            raise SignError(sdk_error("UNSUPPORTED_CHAINS", f"the RPC node is on eip155:{node_chain}, the request on eip155:{chain}"))

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except SignError:
            raise
        except Exception as exc:
            raise SignError(RpcError(NODE_ERROR, f"the RPC node could not {what}: {exc}"[:300])) from None

    def nonce(self, address: str) -> int:
        return self._call("give the nonce", lambda: self.w3.eth.get_transaction_count(address, "pending"))

    def estimate_gas(self, fields: dict[str, Any]) -> int:
        wanted = {k: fields[k] for k in ("from", "to", "value", "data") if k in fields}
        return self._call("estimate gas", lambda: self.w3.eth.estimate_gas(wanted))

    def priority_fee(self) -> int:
        try:
            return int(self.w3.eth.max_priority_fee)
        except Exception:
            return DEFAULT_PRIORITY_FEE

    def max_fee(self, priority: int) -> int:
        block = self._call("give the latest block", lambda: self.w3.eth.get_block("latest"))
        return 2 * int(block.get("baseFeePerGas") or 0) + priority

    def send(self, raw: bytes) -> str:
        tx_hash = self._call("accept the transaction", lambda: self.w3.eth.send_raw_transaction(raw))
        return "0x" + bytes(tx_hash).hex()


def summarize(method: str, params: Any) -> str:
    """One line saying what a request asks for, for a person deciding on it."""
    try:
        if method == "personal_sign":
            message = params[1] if _is_address(params[0]) and len(params) > 1 else params[0]
            raw = _message_bytes(message)
            try:
                return f"sign message {raw.decode('utf-8')!r}"[:200]
            except UnicodeDecodeError:
                return f"sign {len(raw)} bytes 0x{raw[:32].hex()}{'…' if len(raw) > 32 else ''}"
        if method == "eth_signTypedData_v4":
            data = json.loads(params[1]) if isinstance(params[1], str) else params[1]
            domain = data.get("domain", {})
            return f"sign typed data {data.get('primaryType')} for {domain.get('name', '?')} (chain {domain.get('chainId', '?')})"[:200]
        if method == "eth_sendTransaction":
            tx = params[0]
            data = tx.get("data", tx.get("input")) or "0x"
            return f"send {_int(tx.get('value'), 'value') or 0} wei to {tx.get('to') or '(new contract)'} with {max(0, len(data) - 2) // 2} bytes of data"
    except Exception:
        pass
    return f"{method} {json.dumps(params, default=str)[:120]}"


# --- the wallet --------------------------------------------------------------------------

Ask = Callable[[str], Awaitable[bool]]
Report = Callable[[dict[str, Any]], None]
OnProposal = Literal["approve", "reject", "ask"]
NO_TERMINAL = "no terminal to ask on, so the answer is no (use --approve/--reject/--auto-approve)"


@dataclass(frozen=True)
class Finished:
    """Why :meth:`PhoneWallet.run_until_done` returned; ``ok`` False when something went wrong."""

    reason: str
    ok: bool = True


@dataclass(frozen=True)
class _Stop(ev.Event):
    reason: str


def _peer(metadata: dict[str, Any]) -> dict[str, Any]:
    return {key: metadata.get(key) for key in ("name", "url", "description")}


class PhoneWallet:
    """A wallet on an :class:`EngineRunner` that answers with ``signer``.

    Call :meth:`pair`, then :meth:`run_until_done`; :meth:`stop` ends it from outside
    (a signal handler), and :meth:`disconnect` then tells the dapp. ``ask(question)``
    is awaited for every decision not settled by ``on_proposal`` / ``auto_approve``;
    with ``ask=None`` there is nobody to ask and the answer is no.
    """

    def __init__(
        self,
        runner: EngineRunner,
        signer: Signer,
        *,
        report: Report,
        ask: Ask | None = None,
        on_proposal: OnProposal = "ask",
        auto_approve: bool = False,
    ) -> None:
        self.runner, self.signer, self.report = runner, signer, report
        self.ask, self.on_proposal, self.auto_approve = ask, on_proposal, auto_approve
        self.sessions: dict[str, dict[str, Any]] = {}  # topic -> peer
        self._ask_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._finished: Finished | None = None
        self._handlers: dict[type, Callable[[Any], Any]] = {
            ev.Paired: self._on_paired,
            ev.ProposalReceived: self._on_proposal,
            ev.SessionSettled: self._on_settled,
            ev.SessionRequestReceived: self._on_request,
            ev.SessionPinged: lambda e: self.report({"event": "ping", "topic": e.topic}),
            ev.SessionDeleted: self._on_deleted,
            ev.SessionExpired: self._on_expired,
            ev.ProposalExpired: lambda e: self._fail_if_idle("expired", f"proposal {e.proposal_id} expired before it was answered"),
            ev.PairingExpired: lambda e: self._fail_if_idle("expired", "the pairing expired before a session was made"),
            ev.PairingDeleted: lambda e: self._fail_if_idle("pairing_deleted", "the dapp deleted the pairing"),
            ev.RequestExpired: lambda e: self._error("expired", f"request {e.id} ({e.method}) expired before it was answered"),
            ev.MessageRejected: lambda e: self._error(e.error.code, f"refused a message from the dapp: {e.error}"),
            _Stop: lambda e: self._finish(Finished(e.reason)),
        }

    def _now(self) -> float:
        return self.runner.now()

    def _error(self, code: str, message: str, **extra: Any) -> None:
        self.report({"event": "error", "code": code, "message": message, **extra})

    def _finish(self, finished: Finished) -> None:
        if self._finished is None:
            self._finished = finished
            self.runner.events.put_nowait(_Stop(finished.reason))  # wakes the loop when a task finished it

    def _fail_if_idle(self, code: str, message: str) -> None:
        if not self.sessions and not self.runner.engine.received_proposals:
            self._error(code, message)
            self._finish(Finished(code, ok=False))

    async def pair(self, uri: PairingUri | str) -> None:
        """Pair from a scanned URI (raises InvalidUri / Expired / a relay error); the proposal comes next."""
        await self.runner.run(self.runner.engine.pair(uri, self._now()))

    def stop(self, reason: str = "stopped") -> None:
        """Make :meth:`run_until_done` return (safe from a signal handler)."""
        self.runner.events.put_nowait(_Stop(reason))

    async def run_until_done(self) -> Finished:
        """Handle events until the session ends (deleted, expired), a proposal is rejected, or :meth:`stop`."""
        watcher = asyncio.create_task(self._watch_relay())
        try:
            while self._finished is None:
                event = await self.runner.events.get()
                handler = self._handlers.get(type(event))
                if handler is not None:
                    handler(event)
            return self._finished
        finally:
            for task in [watcher, *self._tasks]:
                task.cancel()
            await asyncio.gather(watcher, *self._tasks, return_exceptions=True)

    async def disconnect(self) -> None:
        """End every session, telling the dapp (``wc_sessionDelete``, 6000)."""
        for topic in list(self.sessions):
            try:
                for event in await self.runner.run(self.runner.engine.disconnect(topic, self._now())):
                    if isinstance(event, ev.SessionDeleted):
                        self._report_deleted(event)
            except WalletsyncError as exc:
                self._error(exc.code, f"could not tell the dapp the session ended: {exc}")

    async def _watch_relay(self) -> None:
        was_online = False
        async for status in self.runner.client.statuses():
            if status.state == "offline" and was_online:
                self._error("relay_offline", f"lost the relay {self.runner.client.url} ({status.reason}); reconnecting")
            was_online = status.state == "online"

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _decide(self, preset: bool | None, question: str) -> tuple[bool, str]:
        if preset is not None:
            return preset, "decided by a command-line flag"
        if self.ask is None:
            return False, NO_TERMINAL
        async with self._ask_lock:
            yes = await self.ask(question)
        return yes, "approved at the prompt" if yes else "declined at the prompt"

    # --- handlers ---------------------------------------------------------------------

    def _on_paired(self, event: ev.Paired) -> None:
        self.report({"event": "paired", "topic": event.topic, "expiry": event.expiry, "relay": self.runner.client.url, "address": self.signer.address})

    def _on_proposal(self, event: ev.ProposalReceived) -> None:
        proposal = event.proposal
        wanted = merge_namespaces(proposal.required_namespaces, proposal.optional_namespaces)
        chains = [c for ns in wanted.values() for c in ns["chains"]]
        methods = sorted({m for ns in wanted.values() for m in ns["methods"]})
        self.report({
            "event": "proposal", "id": proposal.id, "peer": _peer(proposal.proposer_metadata), "chains": chains, "methods": methods,
            "required": proposal.required_namespaces, "optional": proposal.optional_namespaces, "expiry": proposal.expiry_timestamp,
        })
        self._spawn(self._answer_proposal(proposal, chains, methods))

    async def _answer_proposal(self, proposal: Proposal, chains: list[str], methods: list[str]) -> None:
        engine, peer = self.runner.engine, _peer(proposal.proposer_metadata)
        accounts = [f"{chain}:{self.signer.address}" for chain in chains if chain.startswith("eip155:")]
        try:
            namespaces = build_approved_namespaces(proposal.required_namespaces, proposal.optional_namespaces, accounts=accounts, methods=METHODS, events=EVENTS)
        except ProtocolError as exc:
            return await self._reject(proposal, RpcError(exc.sdk_code or 5000, str(exc)), "this wallet cannot serve what the dapp requires")
        preset = {"approve": True, "reject": False}.get(self.on_proposal)
        question = f"Approve a session with {peer['name']} ({peer['url']}) on {', '.join(chains)} for {', '.join(methods) or 'no methods'}?"
        yes, reason = await self._decide(preset, question)
        if not yes:
            return await self._reject(proposal, sdk_error("USER_REJECTED"), reason)
        try:
            await self.runner.run(engine.approve(proposal.id, namespaces, self._now()))
        except WalletsyncError as exc:
            self._error(exc.code, f"could not approve the session: {exc}", id=proposal.id)
            self._finish(Finished("approve_failed", ok=False))

    async def _reject(self, proposal: Proposal, error: RpcError, reason: str) -> None:
        try:
            await self.runner.run(self.runner.engine.reject(proposal.id, self._now(), error=error))
        except WalletsyncError as exc:
            self._error(exc.code, f"could not reject the proposal: {exc}", id=proposal.id)
        self.report({"event": "response", "id": proposal.id, "method": "wc_sessionPropose", "peer": _peer(proposal.proposer_metadata), "error": error.to_json(), "reason": reason})
        if not self.sessions:
            self._finish(Finished("rejected"))

    def _on_settled(self, event: ev.SessionSettled) -> None:
        session = event.session
        self.sessions[session.topic] = _peer(session.peer_metadata)
        self.report({
            "event": "session", "topic": session.topic, "peer": _peer(session.peer_metadata), "accounts": session.accounts,
            "namespaces": session.namespaces, "expiry": session.expiry, "address": self.signer.address,
        })

    def _on_request(self, event: ev.SessionRequestReceived) -> None:
        summary = summarize(event.method, event.params)
        self.report({
            "event": "request", "topic": event.topic, "id": event.id, "chain": event.chain_id, "method": event.method,
            "params": event.params, "summary": summary, "expiry": event.expiry,
        })
        self._spawn(self._answer_request(event, summary))

    async def _answer_request(self, event: ev.SessionRequestReceived, summary: str) -> None:
        peer = self.sessions.get(event.topic, {}).get("name")
        question = f"{peer} asks you to {summary} on {event.chain_id} (request {event.id}). Sign?"
        yes, reason = await self._decide(True if self.auto_approve else None, question)
        result, error = None, None
        if not yes:
            error = sdk_error("USER_REJECTED")
        else:
            try:
                result = await asyncio.to_thread(self.signer.sign, event.method, event.params, event.chain_id)
                reason = "signed"
                if event.method == "eth_sendTransaction":
                    reason = "signed and broadcast" if self.signer.rpc_url else "signed, not broadcast (no RPC node given)"
            except SignError as exc:
                error, reason = exc.rpc_error, "the wallet cannot answer this request"
        try:
            await self.runner.run(self.runner.engine.respond(event.topic, event.id, self._now(), result=result, error=error))
        except WalletsyncError as exc:
            return self._error(exc.code, f"could not answer request {event.id}: {exc}", id=event.id)
        answer = {"result": result} if error is None else {"error": error.to_json()}
        self.report({"event": "response", "topic": event.topic, "id": event.id, "method": event.method, **answer, "reason": reason})

    def _report_deleted(self, event: ev.SessionDeleted) -> None:
        self.sessions.pop(event.topic, None)
        self.report({"event": "deleted", "topic": event.topic, "code": event.code, "message": event.message, "by": event.by})

    def _on_deleted(self, event: ev.SessionDeleted) -> None:
        if event.topic in self.sessions:
            self._report_deleted(event)
            if not self.sessions:
                self._finish(Finished("deleted"))

    def _on_expired(self, event: ev.SessionExpired) -> None:
        if self.sessions.pop(event.topic, None) is not None:
            self.report({"event": "expired", "topic": event.topic})
            if not self.sessions:
                self._finish(Finished("expired"))
