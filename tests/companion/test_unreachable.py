"""A relay that cannot be reached is said at once, and what the relay kept is handled before a command goes on."""

from __future__ import annotations

import json
import socket
import sqlite3

import pytest

from tests.companion.conftest import Cli
from tests.pypeer import TEST_ADDRESS, py_peer
from walletsync.protocol import events as ev

GRANTED = {
    "eip155": {
        "chains": ["eip155:1"],
        "accounts": [f"eip155:1:{TEST_ADDRESS}"],
        "methods": ["personal_sign"],
        "events": [],
    }
}


@pytest.fixture
def closed_port():
    """A port bound on 127.0.0.1 but not listening: every connection to it is refused, and no one else takes it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def paired_with_py_wallet(cli: Cli, name: str = "desk"):
    """``walletsync pair`` approved by a Python wallet in this process: the session and the running wallet."""
    pair = await cli.spawn("pair", "--json", "--name", name)
    wallet = await py_peer(cli.relay_url, "py-wallet")
    await wallet.run(wallet.engine.pair((await pair.expect("uri"))["uri"], wallet.now()))
    proposal = (await wallet.next_event(ev.ProposalReceived)).proposal
    await wallet.run(wallet.engine.approve(proposal.id, GRANTED, wallet.now()))
    session = await pair.expect("session")
    assert await pair.exit_code() == 0
    return session, wallet


async def test_a_refused_relay_is_one_line_at_once_and_stored_sessions_still_list(cli, closed_port):
    """The relay's port is closed: sessions lists what is stored and says on stderr, in one line, that the relay
    refused; sign, ping and pair fail with that line (or its JSON) and nothing else; audit and devices never ask."""
    session, wallet = await paired_with_py_wallet(cli)
    await wallet.close()
    url = f"ws://127.0.0.1:{closed_port}"
    down = Cli(cli.home, url, cli.logs)
    refused = f"cannot reach the relay at {url}: connection refused"

    listed = down.run("sessions", "--json")
    assert listed.returncode == 0
    assert [s["topic"] for s in json.loads(listed.stdout)] == [session["topic"]]
    assert listed.stderr.splitlines() == [f"walletsync: {refused}; showing the sessions stored here"]

    for command in (["sign", "desk", "--message", "hi"], ["ping", "desk"], ["pair", "--no-qr"]):
        out = down.run(*command)
        assert (out.returncode, out.stdout, out.stderr) == (1, "", f"walletsync: {refused}\n"), command
    assert down.json("sign", "desk", "--message", "hi", ok=False) == {
        "error": {"code": "relay_unreachable", "message": refused}
    }
    assert down.json("pair", ok=False)["error"]["code"] == "relay_unreachable"

    for command in (["audit"], ["devices"]):
        out = down.run(*command, "--json")
        assert (out.returncode, out.stderr) == (0, ""), command
        json.loads(out.stdout)


async def test_a_relay_name_that_does_not_resolve_is_said_at_once(cli):
    down = Cli(cli.home, "ws://nonexistent.invalid:8787", cli.logs)
    listed = down.run("sessions", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    (line,) = listed.stderr.splitlines()
    assert line.startswith("walletsync: cannot reach the relay at ws://nonexistent.invalid:8787: ")
    assert "nonexistent.invalid" in line.split(": ", 2)[2] and line.endswith("; showing the sessions stored here")
    out = down.run("sign", "desk", "--message", "hi")
    assert out.returncode == 1 and out.stderr.startswith(
        "walletsync: cannot reach the relay at ws://nonexistent.invalid"
    )


async def test_what_the_relay_kept_while_no_command_ran_is_handled_by_the_next_one(cli):
    """While no walletsync process runs, the phone pings the session many times, answers a request and then ends the
    session: the relay keeps it all, and the next `walletsync sessions` has handled every message (each ping answered
    over the relay) before it lists: the session ended, the request answered."""
    session, wallet = await paired_with_py_wallet(cli)
    try:
        signing = await cli.spawn("sign", "desk", "--message", "answered later", "--json")
        request = await wallet.next_event(ev.SessionRequestReceived)
        await signing.close()  # gone before the answer: only the relay will hold it
        for _ in range(PINGS):
            await wallet.run(wallet.engine.ping(session["topic"], wallet.now()))
        await wallet.run(wallet.engine.respond(request.topic, request.id, wallet.now(), result="0x" + "11" * 65))
        await wallet.run(wallet.engine.disconnect(session["topic"], wallet.now()))

        (listed,) = cli.json("sessions")
        assert listed["status"] == "deleted"
        with sqlite3.connect(cli.home / "walletsync.db") as db:
            (status,) = db.execute("SELECT status FROM requests WHERE wire_method = 'wc_sessionRequest'").fetchone()
        assert status == "answered"
        assert "session_deleted_by_peer" in [r["kind"] for r in cli.json("audit")]
    finally:
        await wallet.close()


PINGS = 20
"""Each one answered with a publish: handling them takes a relay round trip each."""
