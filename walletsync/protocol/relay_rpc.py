"""Relay (irn) JSON-RPC frames: build and parse every frame of reference §7.4.

Both sides use this module: the relay client builds requests and parses pushes
and responses; the relay server parses requests and builds pushes. Request ids
are kept *verbatim* (the JS SDK sends 19-digit strings and matches responses by
``String(id)``); :func:`normalize_id` turns the spellings seen on the wire
(number, numeric string, ``"<digits>n"``) into an int for matching acks.

A frame that cannot be used raises :class:`InvalidFrame` carrying ``rpc_code``
(the JSON-RPC error to answer with) and ``request_id`` (when one was readable),
so a server can always reply to the right id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeGuard, Union

from walletsync.protocol.errors import InvalidFrame, InvalidMessage
from walletsync.protocol.jsonrpc import dumps, loads

RelayId = Union[int, str]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HANDLER_ERROR = -32000
TOO_MANY_REQUESTS = 3001

MAX_BATCH = 500
_TOPIC = re.compile(r"[0-9a-fA-F]{64}")
_ID = re.compile(r"[0-9]{1,20}n?")


class FrameError(InvalidFrame):
    """An :class:`InvalidFrame` that knows which JSON-RPC error to answer with; always the sender's fault."""

    def __init__(self, message: str, rpc_code: int, request_id: RelayId | None = None) -> None:
        super().__init__(message, by="peer")
        self.rpc_code = rpc_code
        self.request_id = request_id


def normalize_id(raw: Any) -> int:
    """A relay id as an int, from a JSON number, a numeric string or JS BigInt's ``"<digits>n"``."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    if isinstance(raw, str) and _ID.fullmatch(raw):
        return int(raw.rstrip("n"))
    raise FrameError(f"id must be a non-negative integer or numeric string, got {str(raw)[:24]!r}", INVALID_REQUEST)


def push_id(now_ms: int, counter: int) -> int:
    """A server push id below 2^53 (JS parses larger ids as BigInt and acks them as ``"…n"``)."""
    return (int(now_ms) << 8) | (counter & 0xFF)


def is_topic(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and _TOPIC.fullmatch(value) is not None


# --- typed params ----------------------------------------------------------------------


def _topic(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not is_topic(value):
        raise FrameError(f"{name} must be 64 hex chars", INVALID_PARAMS)
    return value


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise FrameError(f"{name} must be an integer", INVALID_PARAMS)
    return value


def _str(params: dict[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = params.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and not value):
        raise FrameError(f"{name} must be a non-empty string", INVALID_PARAMS)
    return value


def _list(params: dict[str, Any], name: str, *, limit: int = MAX_BATCH) -> list[Any]:
    value = params.get(name)
    if not isinstance(value, list):
        raise FrameError(f"{name} must be a list", INVALID_PARAMS)
    if len(value) > limit:
        raise FrameError(f"{name} has {len(value)} entries; at most {limit} allowed", INVALID_PARAMS)
    return value


def _strings(params: dict[str, Any], name: str) -> list[str]:
    value = params.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FrameError(f"{name} must be a list of strings", INVALID_PARAMS)
    return value


class Params:
    """Base of the typed params; ``METHOD`` names the relay method."""

    METHOD: ClassVar[str]

    def to_params(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Params:
        raise NotImplementedError


@dataclass(frozen=True)
class Subscribe(Params):
    METHOD: ClassVar[str] = "irn_subscribe"
    topic: str

    def to_params(self) -> dict[str, Any]:
        return {"topic": self.topic}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Subscribe:
        return cls(_topic(params, "topic"))


@dataclass(frozen=True)
class BatchSubscribe(Params):
    METHOD: ClassVar[str] = "irn_batchSubscribe"
    topics: tuple[str, ...]

    def to_params(self) -> dict[str, Any]:
        return {"topics": list(self.topics)}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> BatchSubscribe:
        topics = _list(params, "topics")
        if not topics or not all(is_topic(t) for t in topics):
            raise FrameError("topics must be a non-empty list of 64-hex topics", INVALID_PARAMS)
        return cls(tuple(topics))


@dataclass(frozen=True)
class Unsubscribe(Params):
    METHOD: ClassVar[str] = "irn_unsubscribe"
    topic: str
    id: str = ""

    def to_params(self) -> dict[str, Any]:
        return {"topic": self.topic, "id": self.id}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Unsubscribe:
        return cls(_topic(params, "topic"), str(params.get("id") or ""))


@dataclass(frozen=True)
class BatchUnsubscribe(Params):
    METHOD: ClassVar[str] = "irn_batchUnsubscribe"
    subscriptions: tuple[Unsubscribe, ...]

    def to_params(self) -> dict[str, Any]:
        return {"subscriptions": [s.to_params() for s in self.subscriptions]}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> BatchUnsubscribe:
        items = _list(params, "subscriptions")
        if not all(isinstance(i, dict) for i in items):
            raise FrameError("subscriptions must be objects", INVALID_PARAMS)
        return cls(tuple(Unsubscribe.from_params(i) for i in items))


@dataclass(frozen=True)
class Publish(Params):
    """``irn_publish``. ``extra`` carries the TVF fields (correlationId, rpcMethods, …) verbatim."""

    METHOD: ClassVar[str] = "irn_publish"
    topic: str
    message: str
    ttl: int
    tag: int = 0
    prompt: bool = False
    attestation: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "topic": self.topic,
            "message": self.message,
            "ttl": self.ttl,
            "prompt": self.prompt,
            "tag": self.tag,
        }
        if self.attestation is not None:
            out["attestation"] = self.attestation
        out.update(self.extra)
        return out

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Publish:
        known = {"topic", "message", "ttl", "tag", "prompt", "attestation"}
        prompt = params.get("prompt", False)
        if not isinstance(prompt, bool):
            raise FrameError("prompt must be a boolean", INVALID_PARAMS)
        return cls(
            topic=_topic(params, "topic"),
            message=_str(params, "message"),  # type: ignore[arg-type]
            ttl=_int(params, "ttl"),
            tag=_int(params, "tag", 0),
            prompt=prompt,
            attestation=_str(params, "attestation", optional=True),
            extra={k: v for k, v in params.items() if k not in known},
        )


@dataclass(frozen=True)
class BatchPublish(Params):
    METHOD: ClassVar[str] = "irn_batchPublish"
    messages: tuple[Publish, ...]

    def to_params(self) -> dict[str, Any]:
        return {"messages": [m.to_params() for m in self.messages]}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> BatchPublish:
        items = _list(params, "messages")
        if not items or not all(isinstance(i, dict) for i in items):
            raise FrameError("messages must be a non-empty list of publish objects", INVALID_PARAMS)
        return cls(tuple(Publish.from_params(i) for i in items))


@dataclass(frozen=True)
class FetchMessages(Params):
    METHOD: ClassVar[str] = "irn_fetchMessages"
    topic: str

    def to_params(self) -> dict[str, Any]:
        return {"topic": self.topic}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FetchMessages:
        return cls(_topic(params, "topic"))


@dataclass(frozen=True)
class BatchFetchMessages(Params):
    METHOD: ClassVar[str] = "irn_batchFetchMessages"
    topics: tuple[str, ...]

    def to_params(self) -> dict[str, Any]:
        return {"topics": list(self.topics)}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> BatchFetchMessages:
        topics = _list(params, "topics")
        if not all(is_topic(t) for t in topics):
            raise FrameError("topics must be 64-hex topics", INVALID_PARAMS)
        return cls(tuple(topics))


@dataclass(frozen=True)
class Receipt:
    topic: str
    message_id: str


@dataclass(frozen=True)
class BatchReceive(Params):
    METHOD: ClassVar[str] = "irn_batchReceive"
    receipts: tuple[Receipt, ...]

    def to_params(self) -> dict[str, Any]:
        return {"receipts": [{"topic": r.topic, "messageId": r.message_id} for r in self.receipts]}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> BatchReceive:
        items = _list(params, "receipts")
        if not all(isinstance(i, dict) for i in items):
            raise FrameError("receipts must be objects", INVALID_PARAMS)
        return cls(tuple(Receipt(_topic(i, "topic"), str(_str(i, "messageId"))) for i in items))


@dataclass(frozen=True)
class ProposeSession(Params):
    """``wc_proposeSession``: the relay subscribes the caller to the pairing topic and stores the proposal (tag 1100)."""

    METHOD: ClassVar[str] = "wc_proposeSession"
    pairing_topic: str
    session_proposal: str
    ttl: int = 300
    correlation_id: int | None = None
    attestation: str | None = None

    def to_params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pairingTopic": self.pairing_topic,
            "sessionProposal": self.session_proposal,
            "ttl": self.ttl,
        }
        if self.attestation is not None:
            out["attestation"] = self.attestation
        if self.correlation_id is not None:
            out["correlationId"] = self.correlation_id
        return out

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ProposeSession:
        correlation = params.get("correlationId")
        return cls(
            pairing_topic=_topic(params, "pairingTopic"),
            session_proposal=_str(params, "sessionProposal"),  # type: ignore[arg-type]
            ttl=_int(params, "ttl", 300),
            correlation_id=correlation if isinstance(correlation, int) and not isinstance(correlation, bool) else None,
            attestation=_str(params, "attestation", optional=True),
        )


@dataclass(frozen=True)
class ApproveSession(Params):
    """``wc_approveSession``: subscribe the caller to the session topic; publish the response (1101) and the settle (1102)."""

    METHOD: ClassVar[str] = "wc_approveSession"
    session_topic: str
    pairing_topic: str
    session_proposal_response: str
    session_settlement_request: str
    ttl: int = 300
    correlation_id: int | None = None
    approved_chains: tuple[str, ...] = ()
    approved_methods: tuple[str, ...] = ()
    approved_events: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sessionTopic": self.session_topic,
            "pairingTopic": self.pairing_topic,
            "sessionProposalResponse": self.session_proposal_response,
            "sessionSettlementRequest": self.session_settlement_request,
            "ttl": self.ttl,
        }
        if self.correlation_id is not None:
            out["correlationId"] = self.correlation_id
        out["approvedChains"] = list(self.approved_chains)
        out["approvedMethods"] = list(self.approved_methods)
        out["approvedEvents"] = list(self.approved_events)
        out.update(self.extra)
        return out

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ApproveSession:
        known = {
            "sessionTopic",
            "pairingTopic",
            "sessionProposalResponse",
            "sessionSettlementRequest",
            "ttl",
            "correlationId",
            "approvedChains",
            "approvedMethods",
            "approvedEvents",
        }
        correlation = params.get("correlationId")
        return cls(
            session_topic=_topic(params, "sessionTopic"),
            pairing_topic=_topic(params, "pairingTopic"),
            session_proposal_response=_str(params, "sessionProposalResponse"),  # type: ignore[arg-type]
            session_settlement_request=_str(params, "sessionSettlementRequest"),  # type: ignore[arg-type]
            ttl=_int(params, "ttl", 300),
            correlation_id=correlation if isinstance(correlation, int) and not isinstance(correlation, bool) else None,
            approved_chains=tuple(_strings(params, "approvedChains")),
            approved_methods=tuple(_strings(params, "approvedMethods")),
            approved_events=tuple(_strings(params, "approvedEvents")),
            extra={k: v for k, v in params.items() if k not in known},
        )


@dataclass(frozen=True)
class MessageData:
    """One mailbox message as pushed or fetched: ``{topic, message, publishedAt, tag, attestation?}``."""

    topic: str
    message: str
    published_at: int
    tag: int = 0
    attestation: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "topic": self.topic,
            "message": self.message,
            "publishedAt": self.published_at,
            "tag": self.tag,
        }
        if self.attestation is not None:
            out["attestation"] = self.attestation
        return out

    @classmethod
    def from_json(cls, data: Any) -> MessageData:
        if not isinstance(data, dict):
            raise FrameError("data must be an object", INVALID_PARAMS)
        published = data.get("publishedAt", 0)
        if not isinstance(published, int) or isinstance(published, bool):
            raise FrameError("publishedAt must be an integer (unix ms)", INVALID_PARAMS)
        return cls(
            topic=_topic(data, "topic"),
            message=_str(data, "message"),  # type: ignore[arg-type]
            published_at=published,
            tag=_int(data, "tag", 0),
            attestation=_str(data, "attestation", optional=True),
        )


@dataclass(frozen=True)
class Subscription(Params):
    """``irn_subscription`` (relay → client). The client must ack with ``result: true``."""

    METHOD: ClassVar[str] = "irn_subscription"
    subscription_id: str
    data: MessageData

    def to_params(self) -> dict[str, Any]:
        return {"id": self.subscription_id, "data": self.data.to_json()}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Subscription:
        return cls(str(params.get("id", "")), MessageData.from_json(params.get("data")))


METHODS: dict[str, type[Params]] = {
    cls.METHOD: cls
    for cls in (
        Subscribe,
        BatchSubscribe,
        Unsubscribe,
        BatchUnsubscribe,
        Publish,
        BatchPublish,
        FetchMessages,
        BatchFetchMessages,
        BatchReceive,
        ProposeSession,
        ApproveSession,
        Subscription,
    )
}


# --- frames -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RelayRequest:
    id: RelayId
    params: Params

    @property
    def method(self) -> str:
        return self.params.METHOD


@dataclass(frozen=True)
class RelayResult:
    id: RelayId
    result: Any


@dataclass(frozen=True)
class RelayError:
    id: RelayId | None
    code: int
    message: str
    data: Any = None


RelayFrame = Union[RelayRequest, RelayResult, RelayError]


def encode_request(request_id: RelayId, params: Params) -> str:
    return dumps({"id": request_id, "jsonrpc": "2.0", "method": params.METHOD, "params": params.to_params()}).decode(
        "utf-8"
    )


def encode_result(request_id: RelayId, result: Any = True) -> str:
    return dumps({"id": request_id, "jsonrpc": "2.0", "result": result}).decode("utf-8")


def encode_error(request_id: RelayId | None, code: int, message: str, data: Any = None) -> str:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return dumps({"id": request_id, "jsonrpc": "2.0", "error": error}).decode("utf-8")


def parse_frame(text: str | bytes) -> RelayFrame:
    """One relay frame to a typed request/result/error; :class:`FrameError` says what to answer."""
    try:
        obj = loads(text)
    except InvalidMessage as exc:
        raise FrameError(str(exc), PARSE_ERROR) from None
    if not isinstance(obj, dict):
        raise FrameError("frame must be a JSON object", INVALID_REQUEST)
    raw_id = obj.get("id")
    request_id = raw_id if isinstance(raw_id, (int, str)) and not isinstance(raw_id, bool) else None
    if obj.get("jsonrpc") != "2.0":
        raise FrameError("frame must have jsonrpc '2.0'", INVALID_REQUEST, request_id)
    if request_id is None:
        raise FrameError("frame has no usable id", INVALID_REQUEST)
    try:
        normalize_id(request_id)
    except FrameError as exc:
        raise FrameError(str(exc), INVALID_REQUEST, request_id) from None
    if "method" in obj:
        method = obj["method"]
        if not isinstance(method, str):
            raise FrameError("method must be a string", INVALID_REQUEST, request_id)
        if method.startswith("iridium_"):
            method = "irn_" + method[len("iridium_") :]
        cls = METHODS.get(method)
        if cls is None:
            raise FrameError(f"method {method[:40]!r} not found", METHOD_NOT_FOUND, request_id)
        params = obj.get("params")
        if not isinstance(params, dict):
            raise FrameError(f"{method} params must be an object", INVALID_PARAMS, request_id)
        try:
            return RelayRequest(request_id, cls.from_params(params))
        except FrameError as exc:
            raise FrameError(f"{method}: {exc}", exc.rpc_code, request_id) from None
    if "error" in obj:
        error = obj["error"]
        if not isinstance(error, dict) or not isinstance(error.get("code"), int) or isinstance(error.get("code"), bool):
            raise FrameError("error must be an object with an integer code", INVALID_REQUEST, request_id)
        return RelayError(request_id, error["code"], str(error.get("message", "")), error.get("data"))
    if "result" in obj:
        return RelayResult(request_id, obj["result"])
    raise FrameError("frame has neither method, result nor error", INVALID_REQUEST, request_id)
