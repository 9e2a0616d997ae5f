"""Policies enforced on real requests: a companion in this process, the reference phone (`walletsync phone
--auto-approve`) as a real process over a real relay, and anvil as the chain the phone broadcasts to.

A refused request raises PolicyRefused, is audited with its rule, and never reaches the phone: the phone's own
report of the requests it was asked is the witness.
"""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
from eth_abi import encode

from tests.policy.conftest import ETH, FRIEND, STRANGER, USDC, Clock, requests_seen, with_phone
from tests.procs import REPO, JsonLinesProcess
from walletsync.policy.evaluate import DAY
from walletsync.service import PolicyRefused


def pay(wei: int, to: str = FRIEND) -> str:
    return json.dumps({"to": to, "value": hex(wei)})


def token_tx(selector: str, to: str, units: int) -> str:
    return json.dumps({"to": USDC, "data": "0x" + selector + encode(["address", "uint256"], [to, units]).hex()})


async def refused(coro) -> str:
    with pytest.raises(PolicyRefused) as caught:
        await coro
    return caught.value.rule


def rules_audited(companion) -> list[str]:
    return [e.data["rule"] for e in companion.audit_entries() if e.kind == "request_refused_by_policy"]


async def test_a_cap_of_01_eth_a_day_two_sends_of_006_the_second_refused_until_the_window_slides(
    start_relay, anvil, tmp_path
):
    clock = Clock()
    relay = start_relay("memory")
    async with with_phone(
        relay.url, tmp_path / "home", tmp_path, "--auto-approve", "--rpc", anvil.url, clock=clock
    ) as (
        companion,
        session,
        phone,
    ):
        companion.set_policy(session.name, max_native_per_day=["0.1"])
        before = anvil.balance(FRIEND)
        first = await companion.sign(session.name, tx=pay(6 * ETH // 100), rpc_url=anvil.url)
        assert first.ok and first.verdict["reason"] == "transaction found on chain, sent by the session account"
        assert anvil.balance(FRIEND) == before + 6 * ETH // 100
        assert await refused(companion.sign(session.name, tx=pay(6 * ETH // 100))) == "native_cap"
        assert rules_audited(companion) == ["native_cap"]
        clock.offset = DAY  # a day later the first send no longer counts
        later = await companion.sign(session.name, tx=pay(6 * ETH // 100), rpc_url=anvil.url)
        assert later.ok and anvil.balance(FRIEND) == before + 12 * ETH // 100
        assert [r["id"] for r in await requests_seen(phone, 2)] == [first.id, later.id]  # never the refused one


async def test_token_caps_unlimited_approvals_and_the_allowlist_on_token_calldata(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    async with with_phone(relay.url, tmp_path / "home", tmp_path, "--auto-approve", "--rpc", anvil.url) as (
        companion,
        session,
        phone,
    ):
        companion.set_policy(session.name, max_token_per_day=["USDC=500"], recipients=[FRIEND])
        # an ERC-20 transfer counts its decoded amount; the allowlist sees the recipient inside the calldata
        assert (await companion.sign(session.name, tx=token_tx("a9059cbb", FRIEND, 400 * 10**6))).ok
        assert await refused(companion.sign(session.name, tx=token_tx("a9059cbb", FRIEND, 101 * 10**6))) == "token_cap"
        assert (
            await refused(companion.sign(session.name, tx=token_tx("a9059cbb", STRANGER, 10**6)))
            == "recipient_not_allowed"
        )
        assert await refused(companion.sign(session.name, tx=pay(1, to=STRANGER))) == "recipient_not_allowed"
        # approve(max): refused, and even with unlimited approvals allowed, never for a capped token
        assert await refused(companion.sign(session.name, tx=token_tx("095ea7b3", FRIEND, 2**256 - 1))) == (
            "unlimited_approval"
        )
        companion.set_policy(session.name, recipients=[FRIEND], allow_unlimited_approvals=True)
        assert (await companion.sign(session.name, tx=token_tx("095ea7b3", FRIEND, 2**256 - 1))).ok
        asked = [r["params"][0]["data"][:10] for r in await requests_seen(phone, 2)]
        assert asked == ["0xa9059cbb", "0x095ea7b3"]  # only what the policies let through
        assert rules_audited(companion) == [
            "token_cap",
            "recipient_not_allowed",
            "recipient_not_allowed",
            "unlimited_approval",
        ]


async def test_a_phone_rejection_spends_nothing(start_relay, tmp_path):
    relay = start_relay("memory")
    async with with_phone(relay.url, tmp_path / "home", tmp_path) as (
        companion,
        session,
        phone,
    ):  # asks nobody: rejects
        companion.set_policy(session.name, max_native_per_day=["0.1"])
        for _ in range(3):
            outcome = await companion.sign(session.name, tx=pay(6 * ETH // 100))
            assert outcome.error is not None and not outcome.ok
        assert len(await requests_seen(phone, 3)) == 3
        assert [u.state for u in companion.db.uses_since(0)] == ["released"] * 3


async def test_seven_sends_at_once_never_overshoot_the_cap(start_relay, anvil, tmp_path):
    """Seven sends of 0.02 under a 0.1 cap at once: two are refused, five reach the phone, which signs them in
    parallel (each with the next nonce) and all five are mined: the chain shows exactly the 0.1 cap sent."""
    relay = start_relay("memory")
    async with with_phone(relay.url, tmp_path / "home", tmp_path, "--auto-approve", "--rpc", anvil.url) as (
        companion,
        session,
        phone,
    ):
        companion.set_policy(session.name, max_native_per_day=["0.1"])
        before = anvil.balance(FRIEND)

        async def one():
            try:
                return await companion.sign(session.name, tx=pay(2 * ETH // 100), rpc_url=anvil.url)
            except PolicyRefused as exc:
                return exc.rule

        results = await asyncio.gather(*(one() for _ in range(7)))
        assert results.count("native_cap") == 2
        through = [r for r in results if not isinstance(r, str)]
        assert sorted(r["id"] for r in await requests_seen(phone, 5)) == sorted(r.id for r in through)
        assert [r.ok for r in through] == [True] * 5
        assert anvil.balance(FRIEND) - before == 10 * ETH // 100
        await fill_the_cap(companion, session.name, anvil, before)


async def fill_the_cap(companion, session: str, anvil, before: int) -> None:
    """Send 0.02 at a time until the policy refuses: the chain then shows exactly the 0.1 cap sent."""
    while True:
        try:
            assert (await companion.sign(session, tx=pay(2 * ETH // 100), rpc_url=anvil.url)).ok
        except PolicyRefused as exc:
            assert exc.rule == "native_cap"
            break
    assert anvil.balance(FRIEND) - before == 10 * ETH // 100


async def sender(home, relay_url: str, session: str, tx: str, count: int, logs) -> JsonLinesProcess:
    log_path = logs / f"sender-{len(list(logs.iterdir()))}.log"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.policy.sender",
        "--data-dir",
        str(home),
        "--relay",
        relay_url,
        "--session",
        session,
        "--tx",
        tx,
        "--count",
        str(count),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=open(log_path, "w"),
        cwd=REPO,
    )
    process = JsonLinesProcess(proc, log_path)
    process.label = "sender"
    await process.expect("ready", timeout=60)
    return process


async def test_seven_sends_from_two_processes_on_one_data_dir_never_overshoot(start_relay, anvil, tmp_path):
    relay = start_relay("memory")
    home = tmp_path / "home"
    async with with_phone(relay.url, home, tmp_path, "--auto-approve", "--rpc", anvil.url) as (
        companion,
        session,
        phone,
    ):
        companion.set_policy(session.name, max_native_per_day=["0.1"])
        before = anvil.balance(FRIEND)
        senders = [await sender(home, relay.url, session.name, pay(2 * ETH // 100), n, tmp_path) for n in (4, 3)]
        for process in senders:  # go
            assert process.proc.stdin is not None
            process.proc.stdin.write(b"go\n")
            await process.proc.stdin.drain()
        for process in senders:
            assert await process.exit_code(timeout=120) == 0
        results = [e for process in senders for e in process.events if e["event"] in ("outcome", "refused")]
        assert len(results) == 7
        assert [r["rule"] for r in results if r["event"] == "refused"] == ["native_cap"] * 2
        assert [r["ok"] for r in results if r["event"] == "outcome"] == [True] * 5
        assert anvil.balance(FRIEND) - before == 10 * ETH // 100
        await fill_the_cap(companion, session.name, anvil, before)
