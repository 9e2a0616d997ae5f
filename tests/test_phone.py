"""`walletsync phone` as a real process against a real relay, with walletsync's engine as the dapp."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from tests.procs import REPO, JsonLinesProcess
from tests.pypeer import py_peer, recover_personal
from walletsync.protocol import events as ev
from walletsync.protocol.uri import PairingUri

TEST_KEY_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
MNEMONIC = "test test test test test test test test test test test junk"
NAMESPACES = {
    "eip155": {
        "chains": ["eip155:1"],
        "methods": ["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"],
        "events": ["chainChanged", "accountsChanged"],
    }
}
MESSAGE = "0x68656c6c6f20776f726c64"
TYPED = {
    "types": {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
        "Note": [{"name": "text", "type": "string"}],
    },
    "primaryType": "Note",
    "domain": {"name": "walletsync test", "chainId": 1},
    "message": {"text": "hi"},
}


class PhoneProcess(JsonLinesProcess):
    """``walletsync phone URI --json`` as a child process (stdin is not a terminal)."""

    label = "phone"

    @classmethod
    async def start(cls, uri: str, relay_url: str, log_dir: Path, *flags: str, via: str = "env") -> PhoneProcess:
        """``via``: how the URI is handed over — ``env`` ($WALLETSYNC_URI, as the app's hint does), ``stdin`` or ``argv``."""
        log_path = log_dir / f"phone-{time.monotonic_ns()}.log"
        argv = [uri] if via == "argv" else []
        env = (
            {**os.environ, "WALLETSYNC_URI": uri}
            if via == "env"
            else {k: v for k, v in os.environ.items() if k != "WALLETSYNC_URI"}
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "walletsync",
            "phone",
            *argv,
            "--json",
            "--relay",
            relay_url,
            *flags,
            stdin=subprocess.PIPE if via == "stdin" else subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=open(log_path, "w"),
            cwd=REPO,
            env=env,
        )
        if via == "stdin":
            assert proc.stdin is not None
            proc.stdin.write(f"{uri}\n".encode())
            await proc.stdin.drain()
            proc.stdin.close()
        return cls(proc, log_path)

    def cmdline(self) -> bytes:
        """What every local user can read of this process (``ps``)."""
        return Path(f"/proc/{self.proc.pid}/cmdline").read_bytes()


async def connect(dapp, **namespaces: Any) -> str:
    """The dapp proposes; returns the pairing URI for the phone."""
    events = await dapp.run(dapp.engine.connect(dapp.now(), **(namespaces or {"optional_namespaces": NAMESPACES})))
    return str(next(e for e in events if isinstance(e, ev.PairingCreated)).uri)


@contextlib.asynccontextmanager
async def dapp_with_phone(relay, log_dir: Path, *flags: str, **namespaces: Any):
    """A Python dapp and a `walletsync phone` started on its pairing URI; both closed afterwards."""
    dapp = await py_peer(relay.url, "py-dapp")
    phone = await PhoneProcess.start(await connect(dapp, **namespaces), relay.url, log_dir, *flags)
    try:
        yield dapp, phone
    finally:
        await phone.close()
        await dapp.close()


async def sign(dapp, topic: str, method: str, params: Any) -> ev.Event:
    await dapp.run(dapp.engine.request(topic, "eip155:1", method, params, dapp.now()))
    return await dapp.next_event((ev.RequestAnswered, ev.RequestFailed))


async def test_phone_approves_signs_answers_pings_and_exits_when_deleted(start_relay, log_dir):
    async with dapp_with_phone(start_relay("memory"), log_dir, "--approve", "--auto-approve") as (dapp, phone):
        account = await phone.expect("account")
        assert (account["address"], account["source"]) == (TEST_KEY_ADDRESS, "test-key")
        assert "never use it for real funds" in phone.log_path.read_text()
        paired = await phone.expect("paired")
        proposal = await phone.expect("proposal")
        assert proposal["peer"]["name"] == "py-dapp" and proposal["chains"] == ["eip155:1"]
        session = (await dapp.next_event(ev.SessionSettled)).session
        assert session.accounts == [f"eip155:1:{TEST_KEY_ADDRESS}"]
        shown = await phone.expect("session")
        assert (shown["topic"], shown["accounts"], shown["peer"]["name"]) == (
            session.topic,
            session.accounts,
            "py-dapp",
        )
        assert paired["topic"] == session.pairing_topic

        answer = await sign(dapp, session.topic, "personal_sign", [MESSAGE, TEST_KEY_ADDRESS])
        assert isinstance(answer, ev.RequestAnswered), answer
        assert recover_personal(MESSAGE, answer.result) == TEST_KEY_ADDRESS
        request, response = await phone.expect("request"), await phone.expect("response")
        assert (request["method"], request["summary"], response["result"]) == (
            "personal_sign",
            "sign message 'hello world'",
            answer.result,
        )

        answer = await sign(dapp, session.topic, "eth_signTypedData_v4", [TEST_KEY_ADDRESS, json.dumps(TYPED)])
        assert (
            Account.recover_message(encode_typed_data(full_message=TYPED), signature=answer.result) == TEST_KEY_ADDRESS
        )

        answer = await sign(
            dapp,
            session.topic,
            "eth_sendTransaction",
            [{"from": TEST_KEY_ADDRESS, "to": TEST_KEY_ADDRESS, "value": "0x1"}],
        )
        assert isinstance(answer.result, str) and answer.result.startswith("0x") and len(answer.result) == 66
        int(answer.result, 16)

        await dapp.run(dapp.engine.ping(session.topic, dapp.now()))
        assert (await dapp.next_event(ev.Acknowledged)).method == "wc_sessionPing"
        assert (await phone.expect("ping"))["topic"] == session.topic

        await dapp.run(dapp.engine.disconnect(session.topic, dapp.now()))
        deleted = await phone.expect("deleted")
        assert (deleted["topic"], deleted["code"], deleted["by"]) == (session.topic, 6000, "peer")
        assert await phone.exit_code() == 0


async def test_reject_flag_rejects_the_proposal(start_relay, log_dir):
    async with dapp_with_phone(start_relay("memory"), log_dir, "--reject") as (dapp, phone):
        rejected = await dapp.next_event(ev.ProposalRejected)
        assert rejected.error.code == 5000
        response = await phone.expect("response")
        assert (response["method"], response["error"]["code"]) == ("wc_sessionPropose", 5000)
        assert await phone.exit_code() == 0


async def test_proposal_the_phone_cannot_serve_is_rejected_with_its_code(start_relay, log_dir):
    required = {
        "solana": {
            "chains": ["solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"],
            "methods": ["solana_signMessage"],
            "events": [],
        }
    }
    async with dapp_with_phone(start_relay("memory"), log_dir, "--approve", required_namespaces=required) as (
        dapp,
        phone,
    ):
        rejected = await dapp.next_event(ev.ProposalRejected)
        assert rejected.error.code == 5100
        assert (await phone.expect("response"))["error"]["code"] == 5100
        assert await phone.exit_code() == 0


async def test_without_a_terminal_requests_are_refused_and_the_phone_says_why(start_relay, log_dir):
    async with dapp_with_phone(start_relay("memory"), log_dir, "--approve") as (dapp, phone):
        session = (await dapp.next_event(ev.SessionSettled)).session
        answer = await sign(dapp, session.topic, "personal_sign", [MESSAGE, TEST_KEY_ADDRESS])
        assert isinstance(answer, ev.RequestFailed) and answer.error.code == 5000
        response = await phone.expect("response")
        assert response["error"]["code"] == 5000 and "no terminal" in response["reason"]


async def test_questions_are_asked_on_the_terminal(start_relay, log_dir):
    """With a terminal on stdin the phone asks y/n; a question still open does not block a delete."""
    relay = start_relay("memory")
    dapp = await py_peer(relay.url, "py-dapp")
    master, slave = os.openpty()
    log_path = log_dir / "phone-tty.log"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "walletsync",
        "phone",
        "--json",
        "--relay",
        relay.url,
        stdin=slave,
        stdout=asyncio.subprocess.PIPE,
        stderr=open(log_path, "w"),
        cwd=REPO,
        env={**os.environ, "WALLETSYNC_URI": await connect(dapp)},
    )
    os.close(slave)
    phone = PhoneProcess(proc, log_path)
    try:
        await phone.expect("proposal")
        os.write(master, b"y\n")
        session = (await dapp.next_event(ev.SessionSettled)).session
        assert "Approve a session with py-dapp" in log_path.read_text()

        await dapp.run(
            dapp.engine.request(session.topic, "eip155:1", "personal_sign", [MESSAGE, TEST_KEY_ADDRESS], dapp.now())
        )
        await phone.expect("request")
        os.write(master, b"n\n")
        answer = await dapp.next_event((ev.RequestAnswered, ev.RequestFailed))
        assert isinstance(answer, ev.RequestFailed) and answer.error.code == 5000
        assert (await phone.expect("response"))["reason"] == "declined at the prompt"

        await dapp.run(
            dapp.engine.request(session.topic, "eip155:1", "personal_sign", [MESSAGE, TEST_KEY_ADDRESS], dapp.now())
        )
        await phone.expect("request")
        os.write(master, b"yes\n")
        answer = await dapp.next_event((ev.RequestAnswered, ev.RequestFailed))
        assert recover_personal(MESSAGE, answer.result) == TEST_KEY_ADDRESS

        await dapp.run(
            dapp.engine.request(session.topic, "eip155:1", "personal_sign", [MESSAGE, TEST_KEY_ADDRESS], dapp.now())
        )
        await phone.expect("request")  # left unanswered at the prompt
        await dapp.run(dapp.engine.disconnect(session.topic, dapp.now()))
        await phone.expect("deleted")
        assert await phone.exit_code() == 0
    finally:
        os.close(master)
        await phone.close()
        await dapp.close()


async def test_request_for_another_account_is_refused(start_relay, log_dir):
    async with dapp_with_phone(start_relay("memory"), log_dir, "--approve", "--auto-approve") as (dapp, phone):
        session = (await dapp.next_event(ev.SessionSettled)).session
        answer = await sign(
            dapp, session.topic, "personal_sign", [MESSAGE, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]
        )
        assert isinstance(answer, ev.RequestFailed) and answer.error.code == 5103


async def test_phone_reports_a_lost_relay_and_carries_on_after_it_returns(start_relay, log_dir):
    relay = start_relay("sqlite")
    async with dapp_with_phone(relay, log_dir, "--approve", "--auto-approve") as (dapp, phone):
        session = (await dapp.next_event(ev.SessionSettled)).session
        await phone.expect("session")
        relay.kill()
        error = await phone.expect("error")
        assert error["code"] == "relay_offline" and relay.url in error["message"]
        relay.start()
        await dapp.client.wait_online(20)
        answer = await sign(dapp, session.topic, "personal_sign", [MESSAGE, TEST_KEY_ADDRESS])
        assert recover_personal(MESSAGE, answer.result) == TEST_KEY_ADDRESS


async def test_interrupt_ends_the_session_for_the_dapp(start_relay, log_dir):
    async with dapp_with_phone(start_relay("memory"), log_dir, "--approve") as (dapp, phone):
        session = (await dapp.next_event(ev.SessionSettled)).session
        await phone.expect("session")
        phone.proc.send_signal(signal.SIGINT)
        deleted = await dapp.next_event(ev.SessionDeleted)
        assert (deleted.topic, deleted.code, deleted.by) == (session.topic, 6000, "peer")
        assert await phone.exit_code() == 130
        assert [e for e in phone.events if e.get("event") == "deleted"][0]["by"] == "self"
        assert phone.events[-1] == {"error": {"code": "interrupted", "message": "interrupted"}}


@pytest.mark.parametrize(
    "path, address",
    [
        ("m/44'/60'/0'/0/0", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        ("m/44'/60'/0'/0/1", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
    ],
)
async def test_mnemonic_and_path_show_the_derived_address(start_relay, log_dir, path, address):
    relay = start_relay("memory")
    uri = str(PairingUri.create(os.urandom(32), expiry_timestamp=int(time.time()) + 300))
    phone = await PhoneProcess.start(uri, relay.url, log_dir, "--mnemonic", MNEMONIC, "--path", path)
    try:
        assert await phone.expect("account") == {
            "event": "account",
            "address": address,
            "path": path,
            "source": "mnemonic",
        }
        assert (await phone.expect("paired"))["address"] == address
        phone.proc.send_signal(signal.SIGINT)
        assert await phone.exit_code() == 130
    finally:
        await phone.close()


def test_text_mode_shows_the_address_and_path(start_relay):
    relay = start_relay("memory")
    uri = str(PairingUri.create(os.urandom(32), expiry_timestamp=int(time.time()) + 300))
    args = [
        sys.executable,
        "-m",
        "walletsync",
        "phone",
        "--mnemonic",
        MNEMONIC,
        "--path",
        "m/44'/60'/0'/0/1",
        "--relay",
        relay.url,
    ]
    env = {**os.environ, "WALLETSYNC_URI": uri}
    with subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env
    ) as proc:
        assert (
            proc.stdout.readline()
            == "phone: address 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 (path m/44'/60'/0'/0/1)\n"
        )
        assert proc.stdout.readline().startswith("phone: paired on ")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
        assert proc.stderr.read().strip() == "walletsync: interrupted"


def test_mnemonic_from_the_environment_stays_out_of_the_command_line(start_relay):
    """$WALLETSYNC_PHONE_MNEMONIC signs like --mnemonic, and the words appear nowhere in the process's arguments."""
    relay = start_relay("memory")
    uri = str(PairingUri.create(os.urandom(32), expiry_timestamp=int(time.time()) + 300))
    args = [sys.executable, "-m", "walletsync", "phone", "--path", "m/44'/60'/0'/0/1", "--relay", relay.url]
    env = {**os.environ, "WALLETSYNC_PHONE_MNEMONIC": MNEMONIC, "WALLETSYNC_URI": uri}
    with subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env
    ) as proc:
        assert (
            proc.stdout.readline()
            == "phone: address 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 (path m/44'/60'/0'/0/1)\n"
        )
        assert "junk" not in Path(f"/proc/{proc.pid}/cmdline").read_text()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130


def test_an_interrupt_at_any_moment_of_the_start_is_a_clean_interrupt(start_relay):
    """Ctrl-C while the phone is still starting (the signal racing its own setup) ends it like any interrupt:
    exit 130, "walletsync: interrupted", no traceback and no warning."""
    relay = start_relay("memory")
    for attempt in range(12):
        uri = str(PairingUri.create(os.urandom(32), expiry_timestamp=int(time.time()) + 300))
        args = [sys.executable, "-m", "walletsync", "phone", "--relay", relay.url]
        env = {**os.environ, "WALLETSYNC_URI": uri}
        with subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env
        ) as proc:
            proc.stdout.readline()
            time.sleep(attempt * 0.0005)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) == 130
            lines = proc.stderr.read().strip().splitlines()
            assert lines[-1] == "walletsync: interrupted" and not any(
                "Traceback" in line or "Warning" in line for line in lines
            ), lines


def test_key_and_mnemonic_from_the_environment_together_are_refused():
    env = {**os.environ, "WALLETSYNC_PHONE_MNEMONIC": MNEMONIC, "WALLETSYNC_PHONE_KEY": "0x" + "11" * 32}
    uri = str(PairingUri.create(os.urandom(32), expiry_timestamp=int(time.time()) + 300))
    out = subprocess.run(
        [sys.executable, "-m", "walletsync", "phone"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        env={**env, "WALLETSYNC_URI": uri},
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode != 0 and "set only one of $WALLETSYNC_PHONE_KEY and $WALLETSYNC_PHONE_MNEMONIC" in out.stderr


def run_phone(
    *args: str, uri: str | None = None, stdin: str | None = None, timeout: float = 30
) -> subprocess.CompletedProcess:
    """``walletsync phone ARGS`` with ``uri`` in $WALLETSYNC_URI (when given) and ``stdin`` as its input."""
    env = {k: v for k, v in os.environ.items() if k != "WALLETSYNC_URI"} | ({"WALLETSYNC_URI": uri} if uri else {})
    return subprocess.run(
        [sys.executable, "-m", "walletsync", "phone", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


EXPIRED = str(PairingUri.create(b"\x01" * 32, expiry_timestamp=1_000_000_000))


@pytest.mark.parametrize(
    "uri, code", [("wc:not-a-uri", "invalid_uri"), ("https://example.org", "invalid_uri"), (EXPIRED, "expired")]
)
def test_bad_uris_are_one_line_errors(uri, code):
    out = run_phone(uri=uri)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("walletsync: ") and "Traceback" not in out.stderr
    out = run_phone("--json", stdin=uri + "\n")
    assert out.returncode == 1
    (line,) = out.stdout.splitlines()
    assert json.loads(line)["error"]["code"] == code


def test_path_without_mnemonic_is_refused():
    out = run_phone("--path", "m/44'/60'/0'/0/1", uri="wc:x")
    assert out.returncode == 1 and "--path needs --mnemonic" in out.stderr


def test_a_relay_that_cannot_be_reached_is_said_at_once():
    """No waiting out the connect timeout: the first refused try is the answer, with what to do."""
    uri = str(PairingUri.create(os.urandom(32), expiry_timestamp=int(time.time()) + 300))
    out = subprocess.run(
        [sys.executable, "-m", "walletsync", "phone", "--relay", "ws://127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "WALLETSYNC_URI": uri},
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode != 0
    assert "cannot reach the relay at ws://127.0.0.1:1: connection refused" in out.stderr
    assert "start one with `walletsync relay`" in out.stderr and "Traceback" not in out.stderr
