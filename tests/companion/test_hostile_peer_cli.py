"""`walletsync` commands against a phone whose every string is hostile: text output shows it as data, JSON keeps it exact,
and local names stay the user's (a real relay, the real CLI, a Python wallet as the phone)."""

from __future__ import annotations

import asyncio
import os
import sys
import unicodedata

from tests.procs import REPO
from tests.pypeer import TEST_ADDRESS, py_peer
from walletsync.protocol import events as ev
from walletsync.protocol.engine import SignEngine
from walletsync.protocol.jsonrpc import RpcError

TITLE_AND_CLEAR = "\x1b]0;pwned\x07\x1b[2J"
FORGED_RESULT = "0x1234\nverified by 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 (ok)\x1b[8m"
GRANTED = {
    "eip155": {
        "chains": ["eip155:1"],
        "accounts": [f"eip155:1:{TEST_ADDRESS}"],
        "methods": ["personal_sign"],
        "events": [],
    }
}


def metadata(name: str, url: str = "https://wallet.example") -> dict:
    return {"name": name, "description": "", "url": url, "icons": []}


def unsafe(text: str) -> list[str]:
    """Characters a terminal would act on or reorder by: controls (but the line breaks we print) and format chars."""
    return [ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != "\n"]


async def pair_wallet(cli, peer_metadata: dict, granted: dict = GRANTED, *pair_args: str):
    """`walletsync pair --json` and a Python wallet with ``peer_metadata`` approving: the session object and the wallet."""
    pair = await cli.spawn("pair", "--json", *pair_args)
    uri = (await pair.expect("uri"))["uri"]
    wallet = await py_peer(cli.relay_url, "unused", engine=SignEngine(peer_metadata, os.urandom))
    await wallet.run(wallet.engine.pair(uri, wallet.now()))
    proposal = (await wallet.next_event(ev.ProposalReceived)).proposal
    await wallet.run(wallet.engine.approve(proposal.id, granted, wallet.now()))
    session = await pair.expect("session")
    assert await pair.exit_code() == 0
    return session, wallet


async def sign_answered(cli, wallet, ref: str, **answer) -> tuple[int, str]:
    """`walletsync sign REF --message hi` (text output) while the wallet answers with ``answer`` (result= or error=)."""
    signing = await asyncio.create_subprocess_exec(
        *cli.base,
        "sign",
        ref,
        "--message",
        "hi",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    request = await wallet.next_event(ev.SessionRequestReceived)
    await wallet.run(wallet.engine.respond(request.topic, request.id, wallet.now(), **answer))
    async with asyncio.timeout(30):
        out, _ = await signing.communicate()
    return signing.returncode, out.decode()


async def test_a_hostile_phone_is_printed_as_data_and_kept_exact_in_json(cli):
    """A phone named with terminal escapes, answering with a forged verdict line and an escape-laden rejection:
    `sessions`, `audit`, `rename` and `sign` print it escaped on its own line; `--json` has the exact strings."""
    hostile = metadata(f"{TITLE_AND_CLEAR}evil\u202e", url=f"https://x.example/{TITLE_AND_CLEAR}")
    session, wallet = await pair_wallet(cli, hostile)
    topic = session["topic"][:8]
    try:
        assert session["peer"]["name"] == hostile["name"] and session["peer"]["url"] == hostile["url"]
        assert not unsafe(session["name"]), "the local name is not the phone's raw name"

        listed = cli.run("sessions")
        assert listed.returncode == 0 and not unsafe(listed.stdout), listed.stdout
        assert "\\x1b]0;pwned\\x07" in listed.stdout and "\\u202e" in listed.stdout
        assert cli.json("sessions")[0]["peer"] == {"name": hostile["name"], "url": hostile["url"], "description": ""}

        renamed = cli.run("rename", topic, "desk")
        assert renamed.returncode == 0 and not unsafe(renamed.stdout)
        assert "'desk' (peer '\\x1b]0;pwned\\x07\\x1b[2Jevil\\u202e'" in renamed.stdout

        audit = cli.run("audit")
        assert audit.returncode == 0 and not unsafe(audit.stdout)

        code, out = await sign_answered(cli, wallet, "desk", result=FORGED_RESULT)
        assert code == 1 and not unsafe(out), out
        shown_result, verdict = out.splitlines()
        assert shown_result == "0x1234\\nverified by 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 (ok)\\x1b[8m"
        assert verdict.startswith("NOT VERIFIED: not a signature")

        code, out = await sign_answered(cli, wallet, "desk", error=RpcError(5000, f"no{TITLE_AND_CLEAR}\nApproved."))
        assert code == 1 and not unsafe(out) and out.count("\n") == 1, out
        assert out == "Rejected by 'desk': no\\x1b]0;pwned\\x07\\x1b[2J\\nApproved. (code 5000)\n"

        rejected = [row for row in cli.json("audit") if row["kind"] == "request_rejected"]
        assert rejected[-1]["data"]["message"] == f"no{TITLE_AND_CLEAR}\nApproved.", "the log keeps the exact text"
    finally:
        await wallet.close()


async def test_a_pairing_rejected_with_escapes_is_one_escaped_error_line(cli):
    """The phone refuses the pairing with a message full of escapes and a newline: `pair` fails with one line."""
    pair = await asyncio.create_subprocess_exec(
        *cli.base,
        "pair",
        "--no-qr",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    wallet = await py_peer(cli.relay_url, "refuser")
    try:
        async with asyncio.timeout(30):
            while not (line := (await pair.stdout.readline()).decode()).startswith("wc:"):
                assert line, "pair ended before printing a URI"
        await wallet.run(wallet.engine.pair(line.strip(), wallet.now()))
        proposal = (await wallet.next_event(ev.ProposalReceived)).proposal
        refusal = RpcError(5000, f"{TITLE_AND_CLEAR}\nPaired 'desk'")
        await wallet.run(wallet.engine.reject(proposal.id, wallet.now(), error=refusal))
        async with asyncio.timeout(30):
            _, err = await pair.communicate()
        assert pair.returncode == 1
        assert err.decode().count("\n") == 1 and not unsafe(err.decode()), err
        assert "5000: \\x1b]0;pwned\\x07\\x1b[2J\\nPaired 'desk'" in err.decode()
    finally:
        await wallet.close()


async def test_local_names_cannot_imitate_each_other(cli):
    """Phones named "desk", "desk" + zero-width space and 10,000 characters: the sessions get "desk", "desk (2)" and a
    64-character name; `sessions` lines stay short; a typed name that is invisible, bidi or a look-alike is refused."""
    first, a = await pair_wallet(cli, metadata("desk"))
    second, b = await pair_wallet(cli, metadata("desk\u200b"))
    third, c = await pair_wallet(cli, metadata("x" * 10_000))
    try:
        assert (first["name"], second["name"]) == ("desk", "desk (2)")
        assert third["name"] == "x" * 64 and third["peer"]["name"] == "x" * 10_000

        listed = cli.run("sessions").stdout
        assert max(len(line) for line in listed.splitlines()) < 160, listed
        described = cli.run("rename", third["topic"][:8], "long").stdout
        assert len(described) < 400 and "peer 'xxx" in described

        refusals = {
            ("rename", "long", "a\u202eb"): ("bad_name", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
            ("rename", "long", "desk\u200b"): ("bad_name", "U+200B (ZERO WIDTH SPACE)"),
            ("rename", "long", "DESK"): ("name_taken", "looks the same"),
            ("rename", "long", "dеsk"): ("name_taken", "looks the same"),  # Cyrillic е
            ("rename", "long", "desk"): ("name_taken", "already named 'desk'"),
            ("rename", "long", "x" * 65): ("bad_name", "1–64 characters"),
            ("pair", "--name", "desk\u2066"): ("bad_name", "U+2066"),
            ("pair", "--name", "Desk"): ("name_taken", "looks the same"),
        }
        for args, (code, words) in refusals.items():
            error = cli.json(*args, ok=False)["error"]
            assert error["code"] == code and words in error["message"], (args, error)
            out = cli.run(*args)
            assert out.returncode == 1 and out.stderr.count("\n") == 1 and not unsafe(out.stderr), (args, out.stderr)
        assert cli.json("rename", "long", "  ｄｅｓｋ\u00a0top ")["name"] == "desk top"
    finally:
        for wallet in (a, b, c):
            await wallet.close()


async def test_the_reference_phone_prints_a_hostile_dapp_as_data(start_relay):
    """`walletsync phone` (text output) shown a proposal from a dapp named with escapes and a forged line:
    it prints each event on one escaped line (and rejects, as told)."""
    relay = start_relay("memory")
    hostile = SignEngine(metadata(f"{TITLE_AND_CLEAR}dapp\nphone: approved"), os.urandom)
    dapp = await py_peer(relay.url, "unused", engine=hostile)
    try:
        scopes = {"eip155": {"chains": ["eip155:1"], "methods": ["personal_sign"], "events": []}}
        events = await dapp.run(dapp.engine.connect(dapp.now(), optional_namespaces=scopes))
        uri = str(next(e for e in events if isinstance(e, ev.PairingCreated)).uri)
        phone = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "walletsync",
            "phone",
            uri,
            "--reject",
            "--relay",
            relay.url,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=REPO,
        )
        await dapp.next_event(ev.ProposalRejected)
        async with asyncio.timeout(30):
            out, _ = await phone.communicate()
        text = out.decode()
        assert phone.returncode == 0 and not unsafe(text), text
        proposal = next(line for line in text.splitlines() if line.startswith("phone: proposal"))
        assert "from \\x1b]0;pwned\\x07\\x1b[2Jdapp\\nphone: approved (https://wallet.example)" in proposal
        assert not any(line.startswith("phone: approved") for line in text.splitlines())
    finally:
        await dapp.close()
