"""How `walletsync phone` takes the pairing URI: it holds the pairing's key, so never where `ps` shows it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from tests.procs import REPO
from tests.pypeer import py_peer, recover_personal
from tests.test_phone import MESSAGE, TEST_KEY_ADDRESS, PhoneProcess, connect, run_phone, sign
from walletsync.protocol import events as ev
from walletsync.protocol.uri import parse_uri


@pytest.mark.parametrize("via", ["stdin", "env"])
async def test_a_uri_from_stdin_or_the_environment_pairs_and_its_key_never_shows_in_ps(start_relay, log_dir, via):
    """Piped in or in $WALLETSYNC_URI, the URI pairs as before, and nothing of its key is in /proc/PID/cmdline."""
    relay = start_relay("memory")
    dapp = await py_peer(relay.url, "py-dapp")
    uri = await connect(dapp)
    phone = await PhoneProcess.start(uri, relay.url, log_dir, "--approve", "--auto-approve", via=via)
    try:
        session = (await dapp.next_event(ev.SessionSettled)).session
        key = parse_uri(uri).sym_key.hex().encode()
        assert key not in phone.cmdline() and b"wc:" not in phone.cmdline()
        answer = await sign(dapp, session.topic, "personal_sign", [MESSAGE, TEST_KEY_ADDRESS])
        assert recover_personal(MESSAGE, answer.result) == TEST_KEY_ADDRESS
        assert "visible to other local users" not in phone.log_path.read_text()
    finally:
        await phone.close()
        await dapp.close()


async def test_a_uri_given_as_an_argument_still_pairs_but_the_phone_warns(start_relay, log_dir):
    relay = start_relay("memory")
    dapp = await py_peer(relay.url, "py-dapp")
    phone = await PhoneProcess.start(await connect(dapp), relay.url, log_dir, "--approve", via="argv")
    try:
        await dapp.next_event(ev.SessionSettled)
        assert "a pairing URI given as an argument is visible to other local users (ps)" in phone.log_path.read_text()
    finally:
        await phone.close()
        await dapp.close()


@pytest.mark.parametrize(
    "stdin, message",
    [("", "stdin was empty"), ("\n", "stdin was empty"), ("wc:" + "a" * 5000 + "\n", "at most 4096 bytes")],
    ids=["empty", "blank-line", "oversized"],
)
def test_a_missing_or_oversized_uri_on_stdin_is_a_one_line_error(stdin, message):
    out = run_phone(stdin=stdin)
    assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and message in out.stderr


async def test_with_the_uri_piped_in_the_questions_are_asked_on_the_terminal(start_relay, log_dir):
    """`… | walletsync phone`: stdin is spent on the URI, so the y/n answers come from the controlling terminal."""
    relay = start_relay("memory")
    dapp = await py_peer(relay.url, "py-dapp")
    master, slave = os.openpty()
    terminal = os.ttyname(slave)

    def own_terminal() -> None:  # a new session whose controlling terminal is the pty, as a shell's job has
        os.setsid()
        os.close(os.open(terminal, os.O_RDWR))

    log_path = log_dir / "phone-piped.log"
    env = {k: v for k, v in os.environ.items() if k != "WALLETSYNC_URI"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "walletsync",
        "phone",
        "--json",
        "--relay",
        relay.url,
        stdin=subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=open(log_path, "w"),
        cwd=REPO,
        env=env,
        preexec_fn=own_terminal,
    )
    os.close(slave)
    assert proc.stdin is not None
    proc.stdin.write((await connect(dapp) + "\n").encode())
    proc.stdin.close()
    phone = PhoneProcess(proc, log_path)
    try:
        await phone.expect("proposal")
        os.write(master, b"y\n")
        await dapp.next_event(ev.SessionSettled)
        assert "Approve a session with py-dapp" in log_path.read_text()
    finally:
        os.close(master)
        await phone.close()
        await dapp.close()
