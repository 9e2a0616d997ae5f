"""Readers of the peer's request params: untrusted JSON in, typed values out.

Split from the engine as h11 keeps ``_readers.py`` apart from its connection: the state
machine decides what to do, these only say what the peer sent or raise a
:class:`~walletsync.protocol.errors.ProtocolError` (with the WalletConnect ``sdk_code``
to answer with, where the SDK has one). They are called only while the engine handles a
delivery, which blames the peer for whatever they raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from walletsync.protocol.crypto import key_from_hex
from walletsync.protocol.errors import InvalidMessage
from walletsync.protocol.jsonrpc import Request
from walletsync.protocol.methods import PROPOSAL_TTL, RELAY, REQUEST_TTL, SESSION_TTL
from walletsync.protocol.namespaces import (
    Namespaces,
    require_conforming,
    require_event_in_scope,
    require_in_scope,
    validate_proposal_namespaces,
    validate_session_namespaces,
)
from walletsync.protocol.state import Proposal, SentProposal, Session


@dataclass(frozen=True)
class SessionRequestParams:
    """What a ``wc_sessionRequest`` asks: the wallet method, on which chain, until when."""

    chain_id: str
    method: str
    params: Any
    expiry: int


@dataclass(frozen=True)
class SessionEventParams:
    chain_id: str
    name: str
    data: Any


def read_proposal(request: Request, topic: str) -> Proposal:
    """A ``wc_sessionPropose`` received on pairing ``topic``."""
    params = request.params
    if not isinstance(params, dict):
        raise InvalidMessage("wc_sessionPropose params must be an object")
    proposer = params.get("proposer")
    if not isinstance(proposer, dict) or not isinstance(proposer.get("metadata"), dict):
        raise InvalidMessage("proposal must carry proposer {publicKey, metadata}")
    key_from_hex(proposer.get("publicKey"), "proposer publicKey")
    required = validate_proposal_namespaces(params.get("requiredNamespaces", {}), "requiredNamespaces")
    optional = validate_proposal_namespaces(params.get("optionalNamespaces") or {}, "optionalNamespaces")
    expiry = params.get("expiryTimestamp")
    if expiry is None:
        expiry = request.id // 1_000_000 + PROPOSAL_TTL
    if not isinstance(expiry, int) or isinstance(expiry, bool):
        raise InvalidMessage("expiryTimestamp must be unix seconds")
    relays = params.get("relays") or [RELAY]
    if not isinstance(relays, list) or not all(isinstance(r, dict) for r in relays):
        raise InvalidMessage("relays must be a list of objects")
    for name in ("sessionProperties", "scopedProperties"):
        if params.get(name) is not None and not isinstance(params[name], dict):
            raise InvalidMessage(f"{name} must be an object")
    return Proposal(
        id=request.id,
        pairing_topic=topic,
        proposer_public_key=proposer["publicKey"],
        proposer_metadata=proposer["metadata"],
        required_namespaces=required,
        optional_namespaces=optional,
        expiry_timestamp=expiry,
        relays=tuple(relays),
        session_properties=params.get("sessionProperties"),
        scoped_properties=params.get("scopedProperties"),
    )


def read_proposal_response(result: Any) -> tuple[str, bytes]:
    """The wallet's X25519 public key, as hex and as bytes, from its answer to our proposal."""
    if not isinstance(result, dict) or not isinstance(result.get("responderPublicKey"), str):
        raise InvalidMessage("proposal response must carry responderPublicKey")
    responder_key: str = result["responderPublicKey"]
    return responder_key, key_from_hex(responder_key, "responderPublicKey")


def read_settle(request: Request, sent: SentProposal, topic: str, now: float) -> Session:
    """The session a ``wc_sessionSettle`` on ``topic`` establishes for the proposal ``sent``."""
    params = request.params
    if not isinstance(params, dict):
        raise InvalidMessage("wc_sessionSettle params must be an object", sdk_code=1005)
    controller = params.get("controller")
    if not isinstance(controller, dict) or not isinstance(controller.get("metadata"), dict):
        raise InvalidMessage("settle must carry controller {publicKey, metadata}", sdk_code=1005)
    if controller.get("publicKey") != sent.responder_public_key:
        raise InvalidMessage("settle controller key is not the key that answered the proposal", sdk_code=1005)
    relay = params.get("relay")
    if not isinstance(relay, dict) or not isinstance(relay.get("protocol"), str):
        raise InvalidMessage("settle must carry relay {protocol}", sdk_code=1005)
    expiry = params.get("expiry")
    if not isinstance(expiry, int) or isinstance(expiry, bool) or expiry <= now:
        raise InvalidMessage("settle expiry must be a future unix time", sdk_code=1005)
    namespaces = validate_session_namespaces(params.get("namespaces"))
    require_conforming(sent.proposal.required_namespaces, namespaces)
    properties = params.get("sessionProperties")
    return Session(
        topic=topic,
        sym_key=sent.sym_key,  # type: ignore[arg-type]  # set when the proposal was answered, before the settle
        pairing_topic=sent.proposal.pairing_topic,
        self_public_key=sent.proposal.proposer_public_key,
        peer_public_key=controller["publicKey"],
        peer_metadata=controller["metadata"],
        controller_public_key=controller["publicKey"],
        namespaces=namespaces,
        expiry=min(expiry, int(now) + SESSION_TTL + 300),
        is_controller=False,
        acknowledged=True,
        required_namespaces=sent.proposal.required_namespaces,
        optional_namespaces=sent.proposal.optional_namespaces,
        session_properties=properties if isinstance(properties, dict) else None,
    )


def read_session_request(request: Request, namespaces: Namespaces, now: float) -> SessionRequestParams:
    """A ``wc_sessionRequest`` inside the session's ``namespaces``; expiry defaults to now + :data:`REQUEST_TTL`."""
    params = request.params
    if not isinstance(params, dict) or not isinstance(params.get("request"), dict):
        raise InvalidMessage("wc_sessionRequest params must be {request:{method,params}, chainId}", sdk_code=5)
    inner = params["request"]
    method, chain_id = inner.get("method"), params.get("chainId")
    if not isinstance(method, str) or not method:
        raise InvalidMessage("request.method must be a non-empty string", sdk_code=5)
    require_in_scope(namespaces, chain_id, method)
    expiry = inner.get("expiryTimestamp", int(now) + REQUEST_TTL)
    if not isinstance(expiry, int) or isinstance(expiry, bool):
        raise InvalidMessage("request.expiryTimestamp must be unix seconds", sdk_code=5)
    return SessionRequestParams(cast(str, chain_id), method, inner.get("params"), expiry)  # in scope, so a chain id


def read_update(request: Request, required: Namespaces) -> Namespaces:
    """The namespaces of a ``wc_sessionUpdate``, valid and still granting what was ``required``."""
    params = request.params if isinstance(request.params, dict) else {}
    namespaces = validate_session_namespaces(params.get("namespaces"))
    require_conforming(required, namespaces)
    return namespaces


def read_event(request: Request, namespaces: Namespaces) -> SessionEventParams:
    """A ``wc_sessionEvent`` inside the session's ``namespaces``."""
    params = request.params if isinstance(request.params, dict) else {}
    event = params.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("name"), str):
        raise InvalidMessage("wc_sessionEvent params must be {event:{name,data}, chainId}", sdk_code=1002)
    chain_id, name = params.get("chainId"), event["name"]
    require_event_in_scope(namespaces, chain_id, name)
    return SessionEventParams(cast(str, chain_id), name, event.get("data"))  # in scope, so a chain id


def read_extend(request: Request) -> int | None:
    """The expiry a ``wc_sessionExtend`` asks for (the written spec's ``{expiry}``), or None (the SDK's ``{}``)."""
    asked = request.params.get("expiry") if isinstance(request.params, dict) else None
    return asked if isinstance(asked, int) and not isinstance(asked, bool) else None


def read_delete(request: Request) -> tuple[int, str]:
    """Code and reason of a ``wc_sessionDelete``: never refused, so anything odd falls back to 6000 and ``""``."""
    params = request.params if isinstance(request.params, dict) else {}
    code = params.get("code")
    message = params.get("message")
    return (code if isinstance(code, int) else 6000), (message if isinstance(message, str) else "")[:200]
