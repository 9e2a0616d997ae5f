"""Two walletsync processes on one data dir (issue #9, item 11): the CLI while a companion runs, or two companions.

They share the device identity, so the relay pushes a phone's message to both: each
event must be journaled once, each must see the other's sessions, and no action may
claim success it did not have. Real relay process, real `walletsync` and `walletsync phone`
processes, real keyring.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
from collections import Counter

import pytest

from tests.companion.conftest import Cli, paired
from tests.companion.test_service import Clock, companion_with_wallet
from tests.procs import REPO, JsonLinesProcess
from tests.pypeer import sign_personal
from walletsync.protocol import events as ev
from walletsync.service import Companion, Config, SessionInactive, StoreChanged


async def until(check, timeout: float = 20.0, what: str = "") -> None:
    try:
        async with asyncio.timeout(timeout):
            while not check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what or check}") from None


async def follower(cli) -> JsonLinesProcess:
    """Another long-running companion process on the same data dir (tests/companion/follower.py), online."""
    log_path = cli.logs / f"follower-{len(list(cli.logs.iterdir()))}.log"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.companion.follower",
        "--data-dir",
        str(cli.home),
        "--relay",
        cli.relay_url,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=open(log_path, "w"),
        cwd=REPO,
    )
    process = JsonLinesProcess(proc, log_path)
    process.label = "follower"
    await process.expect("ready")
    return process


def kinds(companion: Companion) -> Counter:
    return Counter(e.kind for e in companion.audit_entries())


async def test_a_session_paired_from_the_cli_is_pinged_and_revoked_from_a_running_companion(cli):
    """The companion was started before `walletsync pair` ran: it sees the new session without a restart, its ping
    reaches the phone, and its revoke really tells the phone."""
    companion = await Companion.open(Config(data_dir=str(cli.home), relay=cli.relay_url))
    changes = companion.events()
    seen_change = asyncio.ensure_future(anext(e async for e in changes if isinstance(e, StoreChanged)))
    await companion.start()
    session, phone = await paired(cli, name="desk")
    try:
        async with asyncio.timeout(10):
            await seen_change  # noticed by the store watcher, before anyone asked
        record, _ = await companion.ping("desk")
        assert record.last_ping is not None
        revoked = await companion.revoke("desk")
        assert revoked.status == "revoked"
        await phone.expect("deleted")
        audit = kinds(companion)
        assert (audit["session_settled"], audit["ping_answered"], audit["session_revoked"]) == (1, 1, 1)
        assert cli.json("audit", "verify")["ok"] is True
    finally:
        await phone.close()
        await companion.close()


async def test_a_phone_side_delete_heard_by_two_processes_is_journaled_once(cli):
    """A companion in this process and another companion process are online when the phone ends the session:
    both hear it, both show it ended, the audit says it once."""
    session, phone = await paired(cli)
    companion = await Companion.open(Config(data_dir=str(cli.home), relay=cli.relay_url))
    other = await follower(cli)
    try:
        await companion.start()
        await companion.online()
        phone.proc.send_signal(signal.SIGINT)  # the phone says goodbye: wc_sessionDelete
        await phone.expect("deleted")
        deleted = await other.expect("SessionDeleted")
        assert deleted["topic"] == session["topic"]
        await until(lambda: companion.resolve(session["topic"]).status == "deleted", what="the delete here")
        await until(lambda: session["topic"] not in companion.engine.sessions, what="the engine to drop the session")
        assert kinds(companion)["session_deleted_by_peer"] == 1
        assert cli.json("audit", "verify")["ok"] is True
    finally:
        await other.close()
        await phone.close()
        await companion.close()


async def test_a_session_expiring_under_two_companions_is_journaled_once(cli):
    """Two companions on one data dir see the same session expire on their own clocks: one journal row."""
    session, phone = await paired(cli)
    await phone.close()
    clocks = [Clock(), Clock()]
    companions = [await Companion.open(Config(data_dir=str(cli.home), relay=cli.relay_url), clock=c) for c in clocks]
    try:
        for companion in companions:
            await companion.start()
        for clock in clocks:
            clock.offset = 8 * 24 * 3600
        await until(
            lambda: all(session["topic"] not in c.engine.sessions for c in companions), what="both to expire it"
        )
        assert kinds(companions[0])["session_expired"] == 1
        assert companions[0].resolve(session["topic"]).status == "expired"
    finally:
        for companion in companions:
            await companion.close()


async def test_revoking_a_session_another_process_ended_says_so(cli):
    """`walletsync revoke` ends the session while a companion runs: the companion's own revoke then fails plainly
    instead of reporting a revoke it did not do, and its ping says the session is over."""
    session, phone = await paired(cli, name="desk")
    companion = await Companion.open(Config(data_dir=str(cli.home), relay=cli.relay_url))
    try:
        await companion.start()
        await companion.online()
        stale = companion.resolve("desk")
        assert cli.json("revoke", "desk")["status"] == "revoked"
        await phone.expect("deleted")
        with pytest.raises(SessionInactive, match="revoked"):
            await companion.revoke(stale.topic)
        with pytest.raises(SessionInactive, match="revoked"):
            await companion.ping(stale.topic)
        assert kinds(companion)["session_revoked"] == 1
        await until(lambda: session["topic"] not in companion.engine.sessions, what="the engine to drop the session")
    finally:
        await phone.close()
        await companion.close()


def test_step_events_are_frozen():
    assert StoreChanged() == StoreChanged() and isinstance(StoreChanged(), ev.Event)


async def test_a_request_waiting_here_ends_when_another_process_revokes_its_session(start_relay, tmp_path):
    """`sign` waits in this process; `walletsync revoke` in another ends the session (the phone is told by that
    process, not this one): the waiting request returns at once as ended with the session, not after its timeout."""
    relay = start_relay("memory")
    companion, wallet, session = await companion_with_wallet(relay.url, tmp_path / "home", Clock())
    logs = tmp_path / "logs"
    logs.mkdir()
    cli = Cli(tmp_path / "home", relay.url, logs)
    try:
        asking = asyncio.create_task(companion.sign(session.name, message="never answered", timeout=120))
        await wallet.next_event(ev.SessionRequestReceived)
        assert (await asyncio.to_thread(cli.json, "revoke", session.name))["status"] == "revoked"
        await wallet.next_event(ev.SessionDeleted)
        async with asyncio.timeout(10):
            outcome = await asking
        assert outcome.session_ended and outcome.result is None
        assert companion.requests(session.topic)[-1].error["code"] == 6000  # recorded once, by the revoking process
        assert kinds(companion)["session_revoked"] == 1
    finally:
        await wallet.close()
        await companion.close()


async def test_a_revoke_that_cannot_tell_the_phone_says_so_and_fails(cli):
    """A session the store holds as active but without its key (nothing can reach the phone on it): `revoke` marks
    it revoked, journals that the phone was not told, and exits non-zero saying so, instead of "Revoked"."""
    session, phone = await paired(cli, name="desk")
    try:
        with sqlite3.connect(cli.home / "walletsync.db") as db:
            db.execute("UPDATE sessions SET sealed_key = NULL WHERE topic = ?", (session["topic"],))
        out = cli.run("revoke", "desk", "--json")
        assert out.returncode != 0, out.stdout
        error = json.loads(out.stdout)["error"]
        assert error["code"] == "revoked_locally" and "phone was not told" in error["message"]
        assert cli.json("sessions")[0]["status"] == "revoked"
        revoked = [row for row in cli.json("audit") if row["kind"] == "session_revoked"]
        assert len(revoked) == 1 and "not told" in revoked[0]["data"]["message"]
    finally:
        await phone.close()


async def test_an_answer_heard_by_the_asking_cli_and_a_running_companion_is_journaled_once(start_relay, tmp_path):
    """`walletsync sign` asks while a companion runs; the companion has adopted the request before the phone answers,
    so both hear the answer: the CLI reports it verified, and the audit has one answer and one verification."""
    relay = start_relay("memory")
    companion, wallet, session = await companion_with_wallet(relay.url, tmp_path / "home", Clock())
    logs = tmp_path / "logs"
    logs.mkdir()
    cli = Cli(tmp_path / "home", relay.url, logs)
    try:
        asking = await cli.spawn("sign", session.name, "--message", "both hear this", "--json")
        request = await wallet.next_event(ev.SessionRequestReceived)
        await until(
            lambda: (request.topic, request.id) in companion.engine.requests, what="the companion to adopt the request"
        )
        await wallet.run(
            wallet.engine.respond(request.topic, request.id, wallet.now(), result=sign_personal(request.params[0]))
        )
        assert await asking.exit_code() == 0
        (signed,) = asking.events
        assert signed["verified"] is True
        audit = kinds(companion)
        assert (audit["request_pushed"], audit["request_answered"], audit["signature_verified"]) == (1, 1, 1)
    finally:
        await wallet.close()
        await companion.close()


async def test_revoke_all_tries_every_session_and_fails_if_one_failed(cli):
    """`revoke --all` (a lost phone, a worry): a session it cannot end cleanly (no key to tell the phone) no longer
    stops the rest; each is listed with its outcome and the exit status says one failed."""
    first, first_phone = await paired(cli, name="first")
    second, second_phone = await paired(cli, name="second")
    try:
        with sqlite3.connect(cli.home / "walletsync.db") as db:
            db.execute("UPDATE sessions SET sealed_key = NULL WHERE topic = ?", (first["topic"],))
        out = cli.run("revoke", "--all", "--json")
        assert out.returncode == 1, out.stderr
        documents = {d["name"]: d for d in json.loads(out.stdout)}
        assert documents["first"]["error"]["code"] == "revoked_locally"
        assert "error" not in documents["second"] and documents["second"]["status"] == "revoked"
        await second_phone.expect("deleted")
        assert {s["name"]: s["status"] for s in cli.json("sessions")} == {"first": "revoked", "second": "revoked"}
        text = cli.run("revoke", "--all")
        assert text.returncode == 0 and text.stdout.strip() == "No active sessions."
    finally:
        await first_phone.close()
        await second_phone.close()
