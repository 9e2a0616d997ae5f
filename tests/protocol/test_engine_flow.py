"""Two Sign engines (dapp + wallet) through the in-memory relay: the whole session lifecycle.

Each test runs with both handshakes (``wc_proposeSession``/``wc_approveSession`` and
the legacy irn_publish one) unless it is about one of them.
"""

from __future__ import annotations

import json

import pytest

from tests.protocol.conftest import ACCOUNT, GRANTED, NOW, REQUESTED, make_pair, settle
from walletsync.protocol import events as ev
from walletsync.protocol.crypto import open_b64
from walletsync.protocol.errors import Expired, InvalidState, OutOfScope, UnknownTarget
from walletsync.protocol.jsonrpc import Request, Result, encode, parse_message, sdk_error
from walletsync.protocol.methods import OUTBOUND, SESSION_TTL
from walletsync.protocol.relay_rpc import ApproveSession, ProposeSession, Publish, Subscribe, Unsubscribe

SIGN_PARAMS = ["0x68656c6c6f", ACCOUNT.split(":")[2]]


def publishes(relay, client, tag=None):
    return [c for c in relay.calls[client] if isinstance(c, Publish) and (tag is None or c.tag == tag)]


def inner(relay, client, publish: Publish):
    """Decrypt what ``client`` published, with the key it holds for that topic."""
    engine = relay.engines[client]
    key = (
        engine.sessions[publish.topic].sym_key
        if publish.topic in engine.sessions
        else engine.pairings[publish.topic].sym_key
    )
    return json.loads(open_b64(key, publish.message))


# --- the handshake --------------------------------------------------------------------


def test_handshake_settles_the_same_session_on_both_sides(relay, handshake):
    topic = settle(relay)
    dapp, wallet = relay.engines["dapp"], relay.engines["wallet"]
    assert set(dapp.sessions) == set(wallet.sessions) == {topic}
    assert dapp.sessions[topic].sym_key == wallet.sessions[topic].sym_key
    assert dapp.sessions[topic].accounts == GRANTED["eip155"]["accounts"]
    assert dapp.sessions[topic].peer_metadata["name"] == "wallet"
    assert wallet.sessions[topic].peer_metadata["name"] == "dapp"
    assert wallet.sessions[topic].acknowledged, "the dapp's 1103 ack must reach the wallet"
    assert dapp.sessions[topic].expiry == NOW + SESSION_TTL
    ack = relay.last("wallet", ev.Acknowledged)
    assert ack.method == "wc_sessionSettle" and ack.error is None
    assert not dapp.sent_proposals and not wallet.received_proposals


def test_relay_handshake_uses_the_relay_methods():
    relay = make_pair("relay")
    topic = settle(relay)
    propose = [c for c in relay.calls["dapp"] if isinstance(c, ProposeSession)]
    approve = [c for c in relay.calls["wallet"] if isinstance(c, ApproveSession)]
    assert len(propose) == 1 and len(approve) == 1
    assert propose[0].ttl == 300 and propose[0].correlation_id == relay.last("dapp", ev.ProposalSent).proposal.id
    assert approve[0].session_topic == topic and approve[0].correlation_id == propose[0].correlation_id
    assert approve[0].approved_methods == tuple(GRANTED["eip155"]["methods"])
    assert set(approve[0].approved_chains) == {"eip155:1", "eip155:137"}
    # the dapp never irn_subscribes the pairing topic; the wallet never the session topic
    assert Subscribe(propose[0].pairing_topic) not in relay.calls["dapp"]
    assert Subscribe(topic) not in relay.calls["wallet"]
    assert Subscribe(topic) in relay.calls["dapp"]


def test_legacy_handshake_publishes_settle_before_response():
    relay = make_pair("legacy")
    topic = settle(relay)
    assert not any(isinstance(c, (ProposeSession, ApproveSession)) for calls in relay.calls.values() for c in calls)
    (proposal,) = publishes(relay, "dapp", 1100)
    assert proposal.ttl == 300 and proposal.prompt is True
    tags = [c.tag for c in publishes(relay, "wallet")]
    assert tags.index(1102) < tags.index(1101), "legacy wallets send the settle first"
    assert Subscribe(topic) in relay.calls["wallet"]


def test_wire_shapes_match_the_sdk(relay):
    relay.do("dapp", "connect", NOW, optional_namespaces=REQUESTED)
    sent = relay.last("dapp", ev.ProposalSent).proposal
    uri = relay.last("dapp", ev.PairingCreated).uri
    message = next(c for c in relay.calls["dapp"] if isinstance(c, (ProposeSession, Publish)))
    text = message.session_proposal if isinstance(message, ProposeSession) else message.message
    propose = json.loads(open_b64(uri.sym_key, text))
    assert list(propose) == ["id", "jsonrpc", "method", "params"]
    assert propose["method"] == "wc_sessionPropose" and propose["id"] == sent.id
    assert list(propose["params"]) == [
        "requiredNamespaces",
        "optionalNamespaces",
        "relays",
        "proposer",
        "expiryTimestamp",
        "pairingTopic",
        "id",
    ]
    assert propose["params"]["expiryTimestamp"] == NOW + 300
    assert uri.expiry_timestamp == NOW + 300
    assert len(str(sent.id)) == 16 and sent.id // 1000 == NOW * 1000


def test_each_side_has_its_own_keys():
    relay = make_pair()
    topic = settle(relay)
    dapp, wallet = relay.engines["dapp"].sessions[topic], relay.engines["wallet"].sessions[topic]
    assert dapp.self_public_key == wallet.peer_public_key
    assert wallet.self_public_key == dapp.peer_public_key == dapp.controller_public_key
    assert wallet.is_controller and not dapp.is_controller


# --- requests ---------------------------------------------------------------------------


def test_personal_sign_round_trip(relay, session_topic):
    relay.do("dapp", "request", session_topic, "eip155:1", "personal_sign", SIGN_PARAMS, NOW)
    sent = relay.last("dapp", ev.RequestSent)
    (publish,) = publishes(relay, "dapp", 1108)
    assert (publish.ttl, publish.prompt) == (900, True)
    assert publish.extra == {
        "correlationId": sent.id,
        "rpcMethods": ["personal_sign"],
        "chainId": "eip155:1",
        "txHashes": [],
        "contractAddresses": [],
    }
    relay.run(NOW)
    received = relay.last("wallet", ev.SessionRequestReceived)
    assert (received.id, received.method, received.params, received.chain_id) == (
        sent.id,
        "personal_sign",
        SIGN_PARAMS,
        "eip155:1",
    )
    assert received.expiry == NOW + 900
    relay.do("wallet", "respond", session_topic, received.id, NOW + 1, result="0xsignature")
    relay.run(NOW + 1)
    answered = relay.last("dapp", ev.RequestAnswered)
    assert (answered.id, answered.result, answered.late) == (sent.id, "0xsignature", False)
    (response,) = publishes(relay, "wallet", 1109)
    assert inner(relay, "wallet", response) == {"id": sent.id, "jsonrpc": "2.0", "result": "0xsignature"}


def test_rejected_request_reaches_the_dapp_as_an_error(relay, session_topic):
    relay.do("dapp", "request", session_topic, "eip155:1", "eth_sendTransaction", [{"to": "0x0"}], NOW)
    relay.run(NOW)
    received = relay.last("wallet", ev.SessionRequestReceived)
    relay.do("wallet", "respond", session_topic, received.id, NOW, error=sdk_error("USER_REJECTED"))
    relay.run(NOW)
    failed = relay.last("dapp", ev.RequestFailed)
    assert failed.error.code == 5000 and failed.error.message == "User rejected."
    with pytest.raises(UnknownTarget):
        relay.do("wallet", "respond", session_topic, received.id, NOW, result="again")


def test_out_of_scope_request_is_refused_before_sending(relay, session_topic):
    before = len(relay.calls["dapp"])
    with pytest.raises(OutOfScope) as chain:
        relay.do("dapp", "request", session_topic, "eip155:10", "personal_sign", SIGN_PARAMS, NOW)
    assert chain.value.by == "caller" and "eip155:10" in str(chain.value)
    with pytest.raises(OutOfScope) as method:
        relay.do("dapp", "request", session_topic, "eip155:1", "eth_sign", SIGN_PARAMS, NOW)
    assert "eth_sign" in str(method.value)
    assert len(relay.calls["dapp"]) == before


def test_wallet_refuses_an_out_of_scope_request_from_a_misbehaving_dapp(relay, session_topic):
    dapp = relay.engines["dapp"]
    session = dapp.sessions[session_topic]
    rogue = Request(
        1_800_000_000_000_777,
        "wc_sessionRequest",
        {"request": {"method": "eth_sign", "params": []}, "chainId": "eip155:1"},
    )
    relay.execute("dapp", [dapp._publish(session_topic, session.sym_key, rogue, OUTBOUND["wc_sessionRequest"][0])])
    relay.run(NOW)
    rejected = relay.last("wallet", ev.MessageRejected)
    assert isinstance(rejected.error, OutOfScope) and rejected.error.by == "peer"
    assert not any(isinstance(e, ev.SessionRequestReceived) for e in relay.events["wallet"])
    (reply,) = publishes(relay, "wallet", 1109)
    assert inner(relay, "wallet", reply)["error"]["code"] == 3001


def test_request_expiry_then_late_answer_is_reported_late(relay, session_topic):
    relay.do("dapp", "request", session_topic, "eip155:1", "personal_sign", SIGN_PARAMS, NOW, expiry=300)
    relay.run(NOW)
    request_id = relay.last("dapp", ev.RequestSent).id
    assert relay.engines["dapp"].next_deadline() == NOW + 300
    expired = relay.do("dapp", "expire", NOW + 301) + relay.do("wallet", "expire", NOW + 301)
    kinds = {(e.direction, e.id) for e in expired if isinstance(e, ev.RequestExpired)}
    assert kinds == {("outgoing", request_id), ("incoming", request_id)}
    with pytest.raises(Expired):
        relay.do("wallet", "respond", session_topic, request_id, NOW + 302, result="0xlate")
    relay.do("wallet", "respond", session_topic, request_id, NOW + 302, result="0xlate", allow_late=True)
    relay.run(NOW + 302)
    answered = relay.last("dapp", ev.RequestAnswered)
    assert (answered.id, answered.result, answered.late) == (request_id, "0xlate", True)


def test_request_expiry_bounds(relay, session_topic):
    for expiry in (299, 604801):
        with pytest.raises(Exception) as error:
            relay.do("dapp", "request", session_topic, "eip155:1", "personal_sign", SIGN_PARAMS, NOW, expiry=expiry)
        assert "300..604800" in str(error.value)


def test_already_expired_request_is_not_shown_to_the_wallet(relay, session_topic):
    relay.do("dapp", "request", session_topic, "eip155:1", "personal_sign", SIGN_PARAMS, NOW, expiry=300)
    relay.run(NOW + 400)
    assert not any(isinstance(e, ev.SessionRequestReceived) for e in relay.events["wallet"])
    assert relay.last("wallet", ev.RequestExpired).direction == "incoming"


# --- ping, extend, update, event ---------------------------------------------------------


def test_ping_both_ways(relay, session_topic):
    relay.do("dapp", "ping", session_topic, NOW)
    relay.run(NOW)
    assert relay.last("wallet", ev.SessionPinged).topic == session_topic
    assert relay.last("dapp", ev.Acknowledged).method == "wc_sessionPing"
    (ping,) = publishes(relay, "dapp", 1114)
    assert ping.ttl == 86400
    relay.do("wallet", "ping", session_topic, NOW)
    relay.run(NOW)
    assert relay.last("wallet", ev.Acknowledged).method == "wc_sessionPing"


def test_extend_moves_expiry_on_both_sides(relay, session_topic):
    later = NOW + 3 * 24 * 3600
    relay.do("wallet", "extend", session_topic, later)
    relay.run(later)
    expected = later + SESSION_TTL
    assert relay.engines["wallet"].sessions[session_topic].expiry == expected
    assert relay.engines["dapp"].sessions[session_topic].expiry == expected
    assert relay.last("dapp", ev.SessionExtended).expiry == expected
    assert relay.last("wallet", ev.Acknowledged).method == "wc_sessionExtend"


def test_extend_accepts_the_spec_variant_with_expiry(relay, session_topic):
    wallet = relay.engines["wallet"]
    session = wallet.sessions[session_topic]
    wanted = NOW + SESSION_TTL + 5  # later than now, earlier than the 7-day limit at NOW + 10
    spec_extend = Request(1_800_000_000_000_555, "wc_sessionExtend", {"expiry": wanted})
    relay.execute(
        "wallet", [wallet._publish(session_topic, session.sym_key, spec_extend, OUTBOUND["wc_sessionExtend"][0])]
    )
    relay.run(NOW + 10)
    assert relay.engines["dapp"].sessions[session_topic].expiry == wanted


def test_update_from_the_wallet_changes_dapp_namespaces(relay, session_topic):
    narrowed = {
        "eip155": {
            "chains": ["eip155:1"],
            "accounts": [ACCOUNT],
            "methods": ["personal_sign"],
            "events": ["chainChanged"],
        }
    }
    relay.do("wallet", "update", session_topic, narrowed, NOW)
    (publish,) = publishes(relay, "wallet", 1104)
    assert publish.ttl == 86400
    relay.run(NOW)
    assert relay.engines["dapp"].sessions[session_topic].namespaces == narrowed
    assert relay.last("dapp", ev.SessionUpdated).namespaces == narrowed
    assert relay.last("wallet", ev.Acknowledged).method == "wc_sessionUpdate"
    with pytest.raises(OutOfScope):
        relay.do("dapp", "request", session_topic, "eip155:137", "personal_sign", SIGN_PARAMS, NOW)


def test_session_settled_is_a_snapshot_the_engine_never_changes_later(relay, session_topic):
    """The engine goes on changing its session (ack, update, extend); an event already emitted keeps what it said."""
    wallet_settled = relay.last("wallet", ev.SessionSettled)
    dapp_settled = relay.last("dapp", ev.SessionSettled)
    narrowed = {"eip155": {"chains": ["eip155:1"], "accounts": [ACCOUNT], "methods": ["personal_sign"], "events": []}}
    later = NOW + 3 * 24 * 3600
    relay.do("wallet", "update", session_topic, narrowed, NOW)
    relay.run(NOW)
    relay.do("dapp", "extend", session_topic, later)
    relay.run(later)
    for engine in relay.engines.values():
        assert engine.sessions[session_topic].namespaces == narrowed
        assert engine.sessions[session_topic].expiry == later + SESSION_TTL
    for settled in (wallet_settled, dapp_settled):
        assert settled.session.namespaces == GRANTED
        assert settled.session.expiry == NOW + SESSION_TTL
    assert not wallet_settled.session.acknowledged, "emitted before the dapp's 1103 arrived"
    assert relay.engines["wallet"].sessions[session_topic].acknowledged


def test_only_the_controller_may_update(relay, session_topic):
    with pytest.raises(InvalidState) as error:
        relay.do("dapp", "update", session_topic, GRANTED, NOW)
    assert error.value.by == "caller"
    dapp = relay.engines["dapp"]
    session = dapp.sessions[session_topic]
    forged = Request(1_800_000_000_000_999, "wc_sessionUpdate", {"namespaces": GRANTED})
    relay.execute("dapp", [dapp._publish(session_topic, session.sym_key, forged, OUTBOUND["wc_sessionUpdate"][0])])
    relay.run(NOW)
    assert isinstance(relay.last("wallet", ev.MessageRejected).error, InvalidState)
    (reply,) = publishes(relay, "wallet", 1105)
    assert inner(relay, "wallet", reply)["error"]["code"] == 3003


def test_stale_update_is_refused(relay, session_topic):
    narrowed = {"eip155": {"chains": ["eip155:1"], "accounts": [ACCOUNT], "methods": ["personal_sign"], "events": []}}
    relay.do("wallet", "update", session_topic, GRANTED, NOW + 10)
    relay.do("wallet", "update", session_topic, narrowed, NOW + 20)
    first, second = relay.in_flight[-2:]
    relay.in_flight[-2:] = [second, first]  # the older update arrives last
    relay.run(NOW + 20)
    assert relay.engines["dapp"].sessions[session_topic].namespaces == narrowed
    assert "older" in str(relay.last("dapp", ev.MessageRejected).error)
    replies = [inner(relay, "dapp", p) for p in publishes(relay, "dapp", 1105)]
    assert [r.get("error", {}).get("code") for r in replies] == [None, 1003]


def test_events_reach_the_dapp_and_are_not_answered(relay, session_topic):
    relay.do("wallet", "emit", session_topic, "eip155:1", "chainChanged", 137, NOW)
    (publish,) = publishes(relay, "wallet", 1110)
    assert (publish.ttl, publish.prompt) == (300, True)
    relay.run(NOW)
    event = relay.last("dapp", ev.SessionEventReceived)
    assert (event.chain_id, event.name, event.data) == ("eip155:1", "chainChanged", 137)
    assert publishes(relay, "dapp", 1111) == []
    with pytest.raises(OutOfScope):
        relay.do("wallet", "emit", session_topic, "eip155:1", "disconnect", None, NOW)


def test_spec_peers_answering_events_are_tolerated(relay, session_topic):
    relay.do("wallet", "emit", session_topic, "eip155:1", "chainChanged", 1, NOW)
    relay.run(NOW)
    dapp = relay.engines["dapp"]
    event_id = parse_message(
        open_b64(dapp.sessions[session_topic].sym_key, publishes(relay, "wallet", 1110)[0].message)
    ).id
    relay.execute(
        "dapp",
        [
            dapp._publish(
                session_topic,
                dapp.sessions[session_topic].sym_key,
                Result(event_id, True),
                OUTBOUND["wc_sessionEvent"][1],
            )
        ],
    )
    relay.run(NOW)
    assert not any(isinstance(e, ev.MessageRejected) for e in relay.events["wallet"])


# --- delete and expiry ----------------------------------------------------------------


def test_delete_by_dapp_ends_the_session_on_both_sides(relay, session_topic):
    relay.do("dapp", "disconnect", session_topic, NOW)
    (publish,) = publishes(relay, "dapp", 1112)
    assert publish.ttl == 86400
    assert Unsubscribe(session_topic) in relay.calls["dapp"]
    relay.run(NOW)
    deleted = relay.last("wallet", ev.SessionDeleted)
    assert (deleted.code, deleted.message, deleted.by) == (6000, "User disconnected.", "peer")
    assert relay.last("dapp", ev.SessionDeleted).by == "self"
    assert not relay.engines["dapp"].sessions and not relay.engines["wallet"].sessions
    assert Unsubscribe(session_topic) in relay.calls["wallet"]
    assert publishes(relay, "wallet", 1113) == [], "SDK 2.25 does not answer a delete"


def test_delete_by_wallet_fails_the_dapps_pending_requests(relay, session_topic):
    relay.do("dapp", "request", session_topic, "eip155:1", "personal_sign", SIGN_PARAMS, NOW)
    request_id = relay.last("dapp", ev.RequestSent).id
    relay.run(NOW)
    relay.do("wallet", "disconnect", session_topic, NOW)
    relay.run(NOW)
    failed = relay.last("dapp", ev.RequestFailed)
    assert (failed.id, failed.error.code) == (request_id, 6000)
    with pytest.raises(UnknownTarget):
        relay.do("dapp", "ping", session_topic, NOW)


def test_session_expiry_is_local_and_final(relay, session_topic):
    end = NOW + SESSION_TTL
    for side in ("dapp", "wallet"):
        actions = relay.do(side, "expire", end)
        assert ev.SessionExpired(session_topic) in actions and Unsubscribe(session_topic) in actions
    assert relay.in_flight == [], "expiry sends nothing to the peer"
    with pytest.raises(UnknownTarget):
        relay.do("dapp", "request", session_topic, "eip155:1", "personal_sign", SIGN_PARAMS, end)


def test_expired_session_refuses_new_requests_before_expire_runs(relay, session_topic):
    with pytest.raises(Expired):
        relay.do("dapp", "request", session_topic, "eip155:1", "personal_sign", SIGN_PARAMS, NOW + SESSION_TTL + 1)


# --- proposals ------------------------------------------------------------------------------


def test_reject_path(relay, handshake):
    relay.do("dapp", "connect", NOW, optional_namespaces=REQUESTED)
    relay.do("wallet", "pair", str(relay.last("dapp", ev.PairingCreated).uri), NOW)
    relay.run(NOW)
    proposal = relay.last("wallet", ev.ProposalReceived).proposal
    relay.do("wallet", "reject", proposal.id, NOW)
    (publish,) = publishes(relay, "wallet", 1120)
    assert publish.ttl == 300 and "correlationId" not in publish.extra
    relay.run(NOW)
    rejected = relay.last("dapp", ev.ProposalRejected)
    assert (rejected.proposal_id, rejected.error.code, rejected.error.message) == (proposal.id, 5000, "User rejected.")
    assert not relay.engines["dapp"].sessions and not relay.engines["dapp"].sent_proposals
    with pytest.raises(UnknownTarget):
        relay.do("wallet", "approve", proposal.id, GRANTED, NOW)


def test_proposal_expiry(relay):
    relay.do("dapp", "connect", NOW, optional_namespaces=REQUESTED)
    relay.do("wallet", "pair", str(relay.last("dapp", ev.PairingCreated).uri), NOW)
    relay.run(NOW)
    proposal = relay.last("wallet", ev.ProposalReceived).proposal
    with pytest.raises(Expired):
        relay.do("wallet", "approve", proposal.id, GRANTED, NOW + 301)
    assert ev.ProposalExpired(proposal.id) in relay.do("dapp", "expire", NOW + 301)
    expired_wallet = relay.do("wallet", "expire", NOW + 301)
    assert ev.ProposalExpired(proposal.id) in expired_wallet
    assert any(isinstance(a, ev.PairingExpired) for a in expired_wallet)


def test_wallet_cannot_grant_less_than_required():
    relay = make_pair()
    required = {"eip155": {"chains": ["eip155:1"], "methods": ["personal_sign", "eth_sendTransaction"], "events": []}}
    relay.do("dapp", "connect", NOW, required_namespaces=required)
    relay.do("wallet", "pair", str(relay.last("dapp", ev.PairingCreated).uri), NOW)
    relay.run(NOW)
    proposal = relay.last("wallet", ev.ProposalReceived).proposal
    too_little = {"eip155": {"accounts": [ACCOUNT], "methods": ["personal_sign"], "events": []}}
    with pytest.raises(Exception) as error:
        relay.do("wallet", "approve", proposal.id, too_little, NOW)
    assert "eth_sendTransaction" in str(error.value) and error.value.by == "caller"


def test_pairing_rules():
    relay = make_pair()
    relay.do("dapp", "connect", NOW, optional_namespaces=REQUESTED)
    uri = relay.last("dapp", ev.PairingCreated).uri
    with pytest.raises(Expired):
        relay.do("wallet", "pair", str(uri), NOW + 301)
    relay.do("wallet", "pair", str(uri), NOW)
    relay.run(NOW)
    relay.do("wallet", "approve", relay.last("wallet", ev.ProposalReceived).proposal.id, GRANTED, NOW)
    with pytest.raises(InvalidState):
        relay.do("wallet", "pair", str(uri), NOW)


def test_unsupported_method_on_pairing_is_answered_10001(relay):
    relay.do("dapp", "connect", NOW, optional_namespaces=REQUESTED)
    uri = relay.last("dapp", ev.PairingCreated).uri
    relay.do("wallet", "pair", str(uri), NOW)
    relay.run(NOW)
    dapp = relay.engines["dapp"]
    auth = Request(1_800_000_000_000_321, "wc_sessionAuthenticate", {"authPayload": {}})
    relay.execute("dapp", [dapp._publish(uri.topic, uri.sym_key, auth, OUTBOUND["wc_sessionPropose"][0])])
    relay.run(NOW)
    reply = next(p for p in publishes(relay, "wallet") if p.tag == 0)
    assert json.loads(open_b64(uri.sym_key, reply.message))["error"]["code"] == 10001


# --- hostile input ------------------------------------------------------------------------


def test_garbage_is_rejected_without_changing_state(relay, session_topic):
    wallet = relay.engines["wallet"]
    before = (dict(wallet.sessions), dict(wallet.requests), dict(wallet.pairings))
    cases = {
        "unknown topic": ("ab" * 32, "AAAA"),
        "bad base64": (session_topic, "***"),
        "wrong key": (session_topic, relay.engines["dapp"]._seal(b"\x01" * 32, Request(1, "wc_sessionPing", {}))),
        "type 2 on relay": (
            session_topic,
            "AnsiaWQiOjEsImpzb25ycGMiOiIyLjAiLCJtZXRob2QiOiJ0ZXN0X21ldGhvZCIsInBhcmFtcyI6e319",
        ),
    }
    for name, (topic, message) in cases.items():
        (event,) = wallet.receive(topic, message, NOW)
        assert isinstance(event, ev.MessageRejected), name
        assert event.error.by == "peer", name
    assert (dict(wallet.sessions), dict(wallet.requests), dict(wallet.pairings)) == before


def test_duplicate_delivery_is_ignored(relay, session_topic):
    relay.do("dapp", "request", session_topic, "eip155:1", "personal_sign", SIGN_PARAMS, NOW)
    relay.deliver(0, NOW, keep=True)
    assert relay.deliver(0, NOW) == []
    assert sum(isinstance(e, ev.SessionRequestReceived) for e in relay.events["wallet"]) == 1


def test_same_request_reencrypted_is_ignored(relay, session_topic):
    """A replay with a fresh nonce has new bytes but the same JSON-RPC id: still a duplicate."""
    dapp = relay.engines["dapp"]
    session = dapp.sessions[session_topic]
    request = Request(1_800_000_000_000_123, "wc_sessionPing", {})
    for _ in range(2):
        relay.execute("dapp", [dapp._publish(session_topic, session.sym_key, request, OUTBOUND["wc_sessionPing"][0])])
    relay.run(NOW)
    assert sum(isinstance(e, ev.SessionPinged) for e in relay.events["wallet"]) == 1


def test_settle_with_a_different_controller_key_is_refused():
    """A settle must come from the key that answered the proposal, or anyone with the session topic could forge one."""
    relay = make_pair()
    relay.do("dapp", "connect", NOW, optional_namespaces=REQUESTED)
    relay.do("wallet", "pair", str(relay.last("dapp", ev.PairingCreated).uri), NOW)
    relay.run(NOW)
    wallet = relay.engines["wallet"]
    actions = wallet.approve(relay.last("wallet", ev.ProposalReceived).proposal.id, GRANTED, NOW)
    approve = next(a for a in actions if isinstance(a, ApproveSession))
    session = wallet.sessions[approve.session_topic]
    settle_msg = parse_message(open_b64(session.sym_key, approve.session_settlement_request))
    settle_msg.params["controller"]["publicKey"] = "11" * 32
    forged = wallet._seal(session.sym_key, settle_msg)
    relay.execute(
        "wallet",
        [ApproveSession(approve.session_topic, approve.pairing_topic, approve.session_proposal_response, forged)],
    )
    relay.run(NOW)
    assert not relay.engines["dapp"].sessions
    assert "controller key" in str(relay.last("dapp", ev.MessageRejected).error)


def test_encoded_messages_are_compact_json():
    assert encode(Request(1, "wc_sessionPing", {})) == b'{"id":1,"jsonrpc":"2.0","method":"wc_sessionPing","params":{}}'


def test_full_lifecycle_in_one_conversation(relay, handshake):
    """pairing → proposal → approve → settle → ack → sign → answer → error → ping → extend → update → event → delete."""
    topic = settle(relay)
    seen = lambda side, kind: [e for e in relay.events[side] if isinstance(e, kind)]  # noqa: E731
    for answer in ({"result": "0xsig"}, {"error": sdk_error("USER_REJECTED")}):
        relay.do("dapp", "request", topic, "eip155:1", "personal_sign", SIGN_PARAMS, NOW)
        relay.run(NOW)
        relay.do("wallet", "respond", topic, relay.last("wallet", ev.SessionRequestReceived).id, NOW, **answer)
        relay.run(NOW)
    relay.do("dapp", "ping", topic, NOW)
    relay.do("dapp", "extend", topic, NOW + 60)
    relay.run(NOW + 60)
    narrowed = {
        "eip155": {
            "chains": ["eip155:1"],
            "accounts": [ACCOUNT],
            "methods": ["personal_sign"],
            "events": ["chainChanged"],
        }
    }
    relay.do("wallet", "update", topic, narrowed, NOW + 61)
    relay.do("wallet", "emit", topic, "eip155:1", "chainChanged", 1, NOW + 62)
    relay.run(NOW + 62)
    relay.do("dapp", "disconnect", topic, NOW + 63)
    relay.run(NOW + 63)
    assert [
        type(e).__name__ for e in relay.events["dapp"] if not isinstance(e, (ev.PairingCreated, ev.ProposalSent))
    ] == [
        "ProposalApproved",
        "SessionSettled",
        "RequestSent",
        "RequestAnswered",
        "RequestSent",
        "RequestFailed",
        "SessionExtended",
        "Acknowledged",
        "Acknowledged",
        "SessionUpdated",
        "SessionEventReceived",
        "SessionDeleted",
    ]
    assert [type(e).__name__ for e in relay.events["wallet"] if not isinstance(e, ev.Paired)] == [
        "ProposalReceived",
        "SessionSettled",
        "Acknowledged",
        "SessionRequestReceived",
        "SessionRequestReceived",
        "SessionPinged",
        "SessionExtended",
        "Acknowledged",
        "SessionDeleted",
    ]
    assert seen("wallet", ev.SessionExtended)[0].expiry == NOW + 60 + SESSION_TTL
    assert not relay.engines["dapp"].sessions and not relay.engines["wallet"].sessions


def test_topics_lists_what_a_restarted_client_must_resubscribe(relay, handshake):
    relay.do("dapp", "connect", NOW, optional_namespaces=REQUESTED)
    pairing = relay.last("dapp", ev.PairingCreated).uri.topic
    assert relay.engines["dapp"].topics() == {pairing}
    relay.do("wallet", "pair", str(relay.last("dapp", ev.PairingCreated).uri), NOW)
    relay.run(NOW)
    relay.do("wallet", "approve", relay.last("wallet", ev.ProposalReceived).proposal.id, GRANTED, NOW)
    relay.deliver(next(i for i, d in enumerate(relay.in_flight) if d.client == "dapp" and d.topic == pairing), NOW)
    settling = relay.last("dapp", ev.ProposalApproved).session_topic
    assert relay.engines["dapp"].topics() == {pairing, settling}, "the settle may still be in the mailbox"
    relay.run(NOW)
    assert relay.engines["wallet"].topics() == {pairing, settling}
    relay.do("dapp", "disconnect", settling, NOW)
    assert settling not in relay.engines["dapp"].topics()
