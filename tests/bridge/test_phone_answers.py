"""What the phone (and the policies) answer reaches the tool in the codes it acts on; sends in flight, retried or
refused keep their nonces right and ask the phone once."""

from __future__ import annotations

import asyncio

import pytest

from tests.bridge.conftest import PHONE, bridged, bridged_on_terminal, mined, post
from tests.policy.conftest import ETH, FRIEND, requests_seen
from walletsync.bridge.events import PhoneAsked, RequestHandled


def send(value: int, **fields) -> dict:
    tx = {"from": PHONE, "to": FRIEND, "value": hex(value), **fields}
    return {"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction", "params": [tx]}


async def asked(phone, answered: int) -> list[dict]:
    """The requests the phone reported, once it reported ``answered`` answers."""
    return await requests_seen(phone, answered)


async def test_a_policy_cap_refuses_the_second_of_two_sends_with_4100_naming_the_rule(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url, "--auto-approve", "--rpc", anvil.url) as b:
        b.companion.set_policy(b.session.name, max_native_per_day=["0.1"])
        first = await asyncio.to_thread(post, b.url, send(6 * ETH // 100))
        assert (await mined(anvil, first[1]["result"]))["status"] == "0x1"
        second = (await asyncio.to_thread(post, b.url, send(6 * ETH // 100)))[1]["error"]
        assert second["code"] == 4100 and "native_cap" in second["message"]
        assert second["data"] == {"rule": "native_cap"}
        assert len(await asked(b.phone, 1)) == 1 and len(b.companion.requests()) == 1
        refused = [e for e in b.companion.audit_entries() if e.kind == "request_refused_by_policy"]
        assert [r.data["rule"] for r in refused] == ["native_cap"]


async def test_a_phone_rejection_is_4001_user_denied_and_frees_its_nonce(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    # Without --auto-approve and without a terminal to ask on, the reference phone answers every request "no"
    # (USER_REJECTED, 5000), as a person pressing Reject would.
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url, "--rpc", anvil.url) as b:
        denied = (await asyncio.to_thread(post, b.url, send(1)))[1]["error"]
        assert denied["code"] == 4001 and denied["message"] == "User denied transaction signature"
        assert "user denied" in denied["message"].lower()  # what ethers looks for (ACTION_REJECTED)
        message = {"jsonrpc": "2.0", "id": 2, "method": "personal_sign", "params": ["0x6869", PHONE]}
        signed = (await asyncio.to_thread(post, b.url, message))[1]["error"]
        assert signed == {**signed, "code": 4001, "message": "User denied message signature"}
        # asked again, the person is asked again (a rejection is not kept for retries)
        again = (await asyncio.to_thread(post, b.url, send(1)))[1]["error"]
        requests = await asked(b.phone, 3)
        assert again["code"] == 4001 and len(requests) == 3
        nonces = [r["params"][0]["nonce"] for r in requests if r["method"] == "eth_sendTransaction"]
        assert nonces == ["0x0", "0x0"]  # the rejected send's nonce was given back


async def test_a_send_retried_by_a_client_that_gave_up_asks_the_phone_once(start_relay, anvil, tmp_path):
    """A tool times out while the person looks at the phone and sends the same request again: the retry waits for
    the first prompt's answer instead of asking again; one sent after the answer came (its client gone) gets it
    too. A client that got its answer and sends the same again is asked again: that is a second payment."""
    relay = start_relay("memory")
    async with bridged_on_terminal(relay.url, tmp_path / "home", tmp_path, anvil.url) as (b, terminal):
        with pytest.raises(OSError):  # the tool's timeout: it gives up and closes its connection
            await asyncio.to_thread(post, b.url, send(777), None, 1.0)
        await asyncio.to_thread(terminal.expect, "Sign?")
        retry = asyncio.create_task(asyncio.to_thread(post, b.url, send(777)))
        await b.reported(PhoneAsked)  # the first request's; the retry adds no prompt
        await asyncio.sleep(0)
        terminal.type("y")
        first_hash = (await retry)[1]["result"]
        assert (await mined(anvil, first_hash))["status"] == "0x1"

        assert len([e for e in b.events if isinstance(e, PhoneAsked)]) == 1

        with pytest.raises(OSError):  # again, and this time the answer comes only after the client has gone
            await asyncio.to_thread(post, b.url, send(778), None, 1.0)
        await asyncio.to_thread(terminal.expect, "Sign?")
        sent_before = [e for e in b.events if isinstance(e, RequestHandled)]
        terminal.type("y")
        await b.reported(RequestHandled, where=lambda e: e.outcome == "ok" and all(e is not s for s in sent_before))
        late = await asyncio.to_thread(post, b.url, send(778))  # its retry gets that answer
        assert (await mined(anvil, late[1]["result"]))["status"] == "0x1"
        assert len([e for e in b.events if isinstance(e, PhoneAsked)]) == 2

        # the client got its answer: the same request again is a second payment, and the phone is asked
        again = asyncio.create_task(asyncio.to_thread(post, b.url, send(778)))
        await asyncio.to_thread(terminal.expect, "Sign?")
        terminal.type("y")
        assert (await again)[1]["result"] not in (late[1]["result"], first_hash)
        assert len([e for e in b.events if isinstance(e, PhoneAsked)]) == 3


async def test_sends_in_flight_get_consecutive_nonces_and_all_mine(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    async with bridged(relay.url, tmp_path / "home", tmp_path, anvil.url, "--auto-approve", "--rpc", anvil.url) as b:
        start = int(anvil.call("eth_getTransactionCount", PHONE, "pending"), 16)
        answers = await asyncio.gather(*(asyncio.to_thread(post, b.url, send(1000 + i)) for i in range(7)))
        hashes = [a[1]["result"] for a in answers]
        sent = [anvil.call("eth_getTransactionByHash", h) for h in hashes]
        assert sorted(int(tx["nonce"], 16) for tx in sent) == list(range(start, start + 7))
        assert all([(await mined(anvil, h))["status"] == "0x1" for h in hashes])
        assert int(anvil.call("eth_getTransactionCount", PHONE, "latest"), 16) == start + 7
