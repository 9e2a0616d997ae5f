"""walletsync pair / sign / sessions / revoke with `walletsync phone` in another process, through a real relay."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3

from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

from tests.companion.conftest import paired
from tests.procs import REPO
from tests.pypeer import TEST_ADDRESS, py_peer
from walletsync.protocol import events as ev

EXAMPLES = REPO / "examples"


async def test_pair_sign_every_kind_rename_ping_extend_revoke(cli):
    """The README walk-through: a user pairs, signs three kinds of request (the typed data and the transaction of
    examples/), manages and revokes the session."""
    session, phone = await paired(cli, "--auto-approve", name="desk")
    try:
        assert session["name"] == "desk" and session["status"] == "active"
        address = session["accounts"][0].split(":")[2]

        signed = cli.json("sign", "desk", "--message", "hello walletsync")
        assert signed["verified"] is True and signed["recovered"] == address == signed["account"]
        assert Account.recover_message(encode_defunct(text="hello walletsync"), signature=signed["result"]) == address

        typed = cli.json("sign", session["topic"][:10], "--typed-data", "examples/mail.json")  # as the README says
        assert typed["verified"] is True and typed["method"] == "eth_signTypedData_v4"
        mail = json.loads((EXAMPLES / "mail.json").read_text())
        assert Account.recover_message(encode_typed_data(full_message=mail), signature=typed["result"]) == address

        tx = cli.json("sign", "desk", "--tx", (EXAMPLES / "tx.json").read_text())
        assert tx["verified"] is True and len(tx["result"]) == 66

        (listed,) = cli.json("sessions")
        assert (listed["name"], listed["status"], listed["peer"]["name"]) == ("desk", "active", session["peer"]["name"])

        assert cli.json("rename", "desk", "laptop")["name"] == "laptop"
        assert cli.json("ping", "laptop")["rtt_ms"] >= 0
        extended = cli.json("extend", "laptop")
        assert extended["expiry"] >= session["expiry"]

        revoked = cli.json("revoke", "laptop")
        assert revoked["status"] == "revoked"
        await phone.expect("deleted")
        assert await phone.exit_code() == 0
        assert cli.json("sessions")[0]["status"] == "revoked"

        kinds = [row["kind"] for row in cli.json("audit")]
        for kind in (
            "pairing_offered",
            "session_settled",
            "request_pushed",
            "request_answered",
            "signature_verified",
            "session_renamed",
            "ping_answered",
            "session_extended",
            "session_revoked",
        ):
            assert kind in kinds, kind
        assert kinds.count("signature_verified") == 3
        assert cli.json("audit", "verify") == {"ok": True, "entries": len(kinds), "first_bad": None}
        exported = cli.run("audit", "export").stdout.splitlines()
        assert [json.loads(line)["kind"] for line in exported] == kinds
    finally:
        await phone.close()


async def test_phone_rejecting_the_pairing_is_reported(cli):
    pair = await cli.spawn("pair", "--json")
    phone = await cli.phone((await pair.expect("uri"))["uri"], "--reject")
    assert await pair.exit_code() == 1
    assert pair.events[-1]["error"]["code"] == "pairing_failed" and "5000" in pair.events[-1]["error"]["message"]
    await phone.close()


async def test_rejected_request_shows_5000_and_fails(cli):
    """The phone refuses (no TTY to ask, no --auto-approve): sign exits 1 and shows the code."""
    session, phone = await paired(cli)
    try:
        out = cli.run("sign", session["name"], "--message", "no thanks")
        assert out.returncode == 1
        assert "Rejected" in out.stdout and "5000" in out.stdout
        assert [r["kind"] for r in cli.json("audit") if r["kind"].startswith("request_")][-1] == "request_rejected"
    finally:
        await phone.close()


async def test_a_session_ended_while_sign_waits_is_no_answer_not_a_rejection(cli):
    """The phone ends the session while `walletsync sign` waits: sign exits 1 at once saying no answer came because
    the session ended — not "Rejected" — and the audit log says the phone deleted the session."""
    pair = await cli.spawn("pair", "--json", "--name", "desk")
    uri = (await pair.expect("uri"))["uri"]
    wallet = await py_peer(cli.relay_url, "py-wallet")
    try:
        await wallet.run(wallet.engine.pair(uri, wallet.now()))
        proposal = (await wallet.next_event(ev.ProposalReceived)).proposal
        granted = {
            "eip155": {
                "chains": ["eip155:1"],
                "accounts": [f"eip155:1:{TEST_ADDRESS}"],
                "methods": ["personal_sign"],
                "events": [],
            }
        }
        await wallet.run(wallet.engine.approve(proposal.id, granted, wallet.now()))
        session = await pair.expect("session")
        assert await pair.exit_code() == 0
        signing = await asyncio.create_subprocess_exec(
            *cli.base,
            "sign",
            "desk",
            "--message",
            "are you there",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=REPO,
        )
        await wallet.next_event(ev.SessionRequestReceived)
        await wallet.run(wallet.engine.disconnect(session["topic"], wallet.now()))
        async with asyncio.timeout(30):
            out, _ = await signing.communicate()
        assert signing.returncode == 1
        assert (
            "No answer: the session 'desk' ended before the phone answered" in out.decode()
            and "Rejected" not in out.decode()
        )
        assert "session_deleted_by_peer" in [r["kind"] for r in cli.json("audit")]
    finally:
        await wallet.close()


async def test_session_survives_a_killed_cli(cli):
    """kill -9 of a waiting `walletsync sign`: the session is still listed and the next sign works."""
    session, phone = await paired(cli, "--auto-approve")
    try:
        phone.proc.send_signal(signal.SIGSTOP)  # the phone is "in a pocket"
        waiting = await cli.spawn("sign", session["name"], "--message", "first", "--json")
        await _until_audited(cli, "request_pushed")
        await waiting.close()
        phone.proc.send_signal(signal.SIGCONT)
        (listed,) = cli.json("sessions")
        assert listed["status"] == "active"
        second = cli.json("sign", session["name"], "--message", "second")
        assert second["verified"] is True
        statuses = [r["status"] for r in _requests(cli)]
        assert statuses == ["answered", "answered"], "the first answer arrived while no CLI ran and was still recorded"
    finally:
        await phone.close()


async def _until_audited(cli, kind: str, timeout: float = 20) -> None:
    import asyncio

    async with asyncio.timeout(timeout):
        while kind not in [r["kind"] for r in cli.json("audit")]:
            await asyncio.sleep(0.1)


def _requests(cli) -> list[dict]:
    with sqlite3.connect(cli.home / "walletsync.db") as db:
        return [
            {"id": i, "status": s}
            for i, s in db.execute(
                "SELECT id, status FROM requests WHERE wire_method = 'wc_sessionRequest' ORDER BY id"
            )
        ]


async def test_bad_input_gets_one_clear_line(cli, tmp_path):
    session, phone = await paired(cli, "--auto-approve")
    name = session["name"]
    try:
        cases = {
            ("sign", "nobody", "--message", "x"): "no session named or starting with 'nobody'",
            ("sign", name, "--message", "x", "--chain", "eip155:999"): "chain 'eip155:999' is not in this session",
            ("sign", name, "--tx", "{not json"): "--tx",
            ("sign", name, "--tx", '{"to": "0x12"}'): "'to' must be a 20-byte 0x address",
            ("sign", name, "--typed-data", str(tmp_path / "missing.json")): "cannot read",
            ("rename", name, ""): "1–64 characters",
        }
        for args, words in cases.items():
            out = cli.run(*args)
            assert out.returncode != 0, args
            assert words in out.stderr and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, (
                args,
                out.stderr,
            )
        refusals = [r for r in cli.json("audit") if r["kind"] == "request_refused_by_scope"]
        assert len(refusals) == 1 and refusals[0]["data"]["chain_id"] == "eip155:999"

        with sqlite3.connect(cli.home / "walletsync.db") as db:
            db.execute("UPDATE sessions SET expiry = 1000")
        expired = cli.run("sign", name, "--message", "late")
        assert expired.returncode == 1 and "expired" in expired.stderr
        error = cli.json("sign", name, "--message", "late", ok=False)["error"]
        assert error["code"] == "session_inactive"
    finally:
        await phone.close()


async def test_audit_tampering_is_detected_and_named(cli):
    session, phone = await paired(cli, "--auto-approve")
    await phone.close()
    path = cli.home / "walletsync.db"
    assert cli.json("audit", "verify")["ok"] is True
    pristine = sqlite3.connect(":memory:")
    with sqlite3.connect(path) as live:
        live.backup(pristine)

    def verdict_after(sql: str) -> dict:
        """Restore the untouched database, tamper with it as an attacker with file access would, verify."""
        with sqlite3.connect(path) as live:
            pristine.backup(live)
            live.executescript(sql)
        return cli.json("audit", "verify", ok=False)

    edited = verdict_after("UPDATE audit SET data = replace(data, 'pairing_topic', 'pairing_topiX') WHERE seq = 1")
    assert edited["first_bad"]["seq"] == 1 and "edited" in edited["first_bad"]["reason"]
    deleted = verdict_after("DELETE FROM audit WHERE seq = 2")
    assert deleted["first_bad"]["seq"] == 3 and "missing" in deleted["first_bad"]["reason"]
    swapped = verdict_after(
        "UPDATE audit SET seq = -1 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = -1;"
    )
    assert swapped["first_bad"]["seq"] == 2 and not swapped["ok"]
    truncated = verdict_after("DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)")
    assert "removed" in truncated["first_bad"]["reason"]
    out = cli.run("audit", "verify")
    assert out.returncode == 1 and "AUDIT LOG TAMPERED" in out.stdout


async def test_transaction_is_looked_up_on_the_chain_node(cli):
    """With --rpc, a transaction hash counts as verified only once the node knows it, from the session account."""
    from tests.fakenode import FakeNode

    node = FakeNode(chain_id=1)
    session, phone = await paired(cli, "--auto-approve", "--rpc", node.url)
    try:
        tx = json.dumps({"to": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB", "value": "0x1"})
        found = cli.json("sign", session["name"], "--tx", tx, "--rpc", node.url)
        assert (
            found["verified"] is True and found["reason"] == "transaction found on chain, sent by the session account"
        )
        assert found["result"] in node.mined
        node.mined.clear()
        node.keeps_transactions = False  # a node that drops it: as if it was never broadcast
        missing = cli.json("sign", session["name"], "--tx", tx, "--rpc", node.url, ok=False)
        assert missing["verified"] is False and "not found" in missing["reason"]
    finally:
        await phone.close()
        node.server.shutdown()
