"""Scopes the user did not ask for (issue #9, item 9): `walletsync pair/sessions/sign/audit` against a real relay and a
Python wallet (tests/pypeer.py) that grants other chains and methods than requested and widens them by update."""

from __future__ import annotations

import asyncio
import json

from eth_account import Account
from eth_account.messages import encode_typed_data

from tests.procs import REPO
from tests.pypeer import TEST_ADDRESS, TEST_KEY, py_peer, sign_personal
from walletsync.protocol import events as ev

MAIL = json.loads((REPO / "examples" / "mail.json").read_text())


def grant(chains: list[str], methods: list[str], events: list[str] = ()) -> dict:
    return {
        "chains": chains,
        "accounts": [f"{c}:{TEST_ADDRESS}" for c in chains],
        "methods": methods,
        "events": list(events),
    }


async def pair_granting(cli, granted: dict, *pair_args: str, name: str = "desk"):
    """`walletsync pair --json` and a Python wallet approving with exactly ``granted``: (session, wallet, pair stderr)."""
    pair = await cli.spawn("pair", "--json", "--name", name, *pair_args)
    uri = (await pair.expect("uri"))["uri"]
    wallet = await py_peer(cli.relay_url, "py-wallet")
    await wallet.run(wallet.engine.pair(uri, wallet.now()))
    proposal = (await wallet.next_event(ev.ProposalReceived)).proposal
    await wallet.run(wallet.engine.approve(proposal.id, granted, wallet.now()))
    session = await pair.expect("session")
    assert await pair.exit_code() == 0
    return session, wallet, pair.log_path.read_text()


async def run(cli, *args: str, answer=None, timeout: float = 60) -> tuple[int, str, str]:
    """A `walletsync` command while this event loop keeps the wallet going; ``answer(wallet)`` runs meanwhile."""
    proc = await asyncio.create_subprocess_exec(
        *cli.base,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    helper = asyncio.ensure_future(answer) if answer is not None else None
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
        if helper is not None:
            async with asyncio.timeout(timeout):
                await helper
    finally:
        if helper is not None:
            helper.cancel()
    with open(cli.logs / "cli.log", "a") as log:
        log.write(f"$ walletsync {' '.join(args)}\n{out.decode()}{err.decode()}[exit {proc.returncode}]\n")
    return proc.returncode, out.decode(), err.decode()


async def answer_one(wallet) -> ev.SessionRequestReceived:
    """The wallet signs the next request it gets (personal_sign or typed data) with its key."""
    request = await wallet.next_event(ev.SessionRequestReceived)
    if request.method == "personal_sign":
        result = sign_personal(request.params[0], TEST_KEY)
    else:
        typed = json.loads(request.params[1])
        result = "0x" + Account.sign_message(
            encode_typed_data(full_message=typed), TEST_KEY
        ).signature.hex().removeprefix("0x")
    await wallet.run(wallet.engine.respond(request.topic, request.id, wallet.now(), result=result))
    return request


def audit(cli, kind: str) -> list[dict]:
    return [row["data"] for row in cli.json("audit") if row["kind"] == kind]


async def test_a_phone_granting_only_an_unasked_chain_gets_no_request_until_the_user_names_it(cli):
    """`pair --chains eip155:1`, the phone grants only eip155:56 (SDK rules accept it): pair warns, the session shows
    "+eip155:56" beyond the request (text marker, JSON field, audit), `sign` without --chain refuses naming the granted
    chain and --chain, sends nothing; `sign --chain eip155:56` works and its audit row says it went beyond the request."""
    session, wallet, pair_log = await pair_granting(
        cli, {"eip155": grant(["eip155:56"], ["personal_sign"])}, "--chains", "eip155:1"
    )
    try:
        beyond = {"namespaces": [], "chains": ["eip155:56"], "methods": {}, "events": {}}
        assert session["beyond_request"] == beyond
        assert "warning: phone granted desk more than asked: +eip155:56" in pair_log
        (listed,) = cli.json("sessions")
        assert listed["beyond_request"] == beyond and listed["accounts"] == [f"eip155:56:{TEST_ADDRESS}"]
        text = cli.run("sessions").stdout
        assert text.splitlines()[1].startswith("desk !") and "! desk: granted beyond your request: +eip155:56" in text
        assert audit(cli, "session_settled")[0]["beyond_request"] == beyond

        out = cli.run("sign", "desk", "--message", "not on 56 unasked", "--timeout", "15")
        assert out.returncode == 1 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
        assert "only chains you did not ask for (eip155:56)" in out.stderr and "--chain" in out.stderr
        assert (
            cli.json("sign", "desk", "--message", "x", "--timeout", "15", ok=False)["error"]["code"]
            == "chain_not_requested"
        )
        assert audit(cli, "request_pushed") == []
        refusals = audit(cli, "request_refused_by_scope")
        assert len(refusals) == 2 and refusals[0]["chain_id"] is None and "eip155:56" in refusals[0]["reason"]

        sign = ("sign", "desk", "--message", "on 56, as I say", "--chain", "eip155:56", "--json")
        code, out, _ = await run(cli, *sign, answer=answer_one(wallet))
        assert code == 0 and json.loads(out)["verified"] is True
        (pushed,) = audit(cli, "request_pushed")
        assert pushed["chain_id"] == "eip155:56" and pushed["beyond_request"] == {"chain": "eip155:56"}
    finally:
        await wallet.close()


async def test_the_default_chain_is_one_the_user_asked_for_even_when_the_phone_lists_another_first(cli):
    """The phone grants eip155:56 first, then the asked-for eip155:1: `sign` without --chain goes to eip155:1."""
    granted = {"eip155": {**grant(["eip155:56", "eip155:1"], ["personal_sign"])}}
    session, wallet, _ = await pair_granting(cli, granted, "--chains", "eip155:1")
    try:
        answered: list[ev.SessionRequestReceived] = []

        async def answer():
            answered.append(await answer_one(wallet))

        code, out, _ = await run(cli, "sign", "desk", "--message", "default chain", "--json", answer=answer())
        assert code == 0 and json.loads(out)["verified"] is True
        assert answered[0].chain_id == "eip155:1"
        (pushed,) = audit(cli, "request_pushed")
        assert pushed["chain_id"] == "eip155:1" and "beyond_request" not in pushed
    finally:
        await wallet.close()


async def test_a_granted_but_unasked_method_is_marked_and_an_ungranted_one_still_refused(cli, tmp_path):
    """Asked for personal_sign only; the phone also grants eth_signTypedData_v4: the session shows it beyond the
    request, a typed-data request is allowed and its audit row says the method was beyond; eth_sendTransaction (not
    granted) stays refused by scope."""
    granted = {"eip155": grant(["eip155:1"], ["personal_sign", "eth_signTypedData_v4"])}
    session, wallet, _ = await pair_granting(cli, granted, "--chains", "eip155:1", "--methods", "personal_sign")
    try:
        assert session["beyond_request"]["methods"] == {"eip155:1": ["eth_signTypedData_v4"]}
        assert "+method eth_signTypedData_v4 (eip155:1)" in cli.run("sessions").stdout

        code, _, _ = await run(cli, "sign", "desk", "--message", "asked for", answer=answer_one(wallet))
        assert code == 0
        typed_file = tmp_path / "mail.json"
        typed_file.write_text(json.dumps(MAIL))
        code, out, _ = await run(
            cli, "sign", "desk", "--typed-data", str(typed_file), "--json", answer=answer_one(wallet)
        )
        assert code == 0 and json.loads(out)["verified"] is True
        first, second = audit(cli, "request_pushed")
        assert "beyond_request" not in first and second["beyond_request"] == {"method": "eth_signTypedData_v4"}

        out = cli.run(
            "sign", "desk", "--tx", json.dumps({"to": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB", "value": "0x1"})
        )
        assert out.returncode == 1 and "method 'eth_sendTransaction' is not allowed on eip155:1" in out.stderr
        assert audit(cli, "request_refused_by_scope")[-1]["method"] == "eth_sendTransaction"
    finally:
        await wallet.close()


async def test_an_update_widening_the_scope_is_applied_audited_and_warned_by_the_next_command(cli):
    """While no walletsync runs, the phone updates the session: + eip155:137, + eth_sign, + a whole solana namespace.
    The next `sessions` applies it (SDK rules), warns on stderr with exactly what was added, audits
    session_scope_widened; a second run says nothing; a narrowing update is no widening; a later widening (+eip155:10)
    is warned by `sign`, which still signs on the asked-for eip155:1."""
    asked = grant(
        ["eip155:1"],
        ["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"],
        ["chainChanged", "accountsChanged"],
    )
    session, wallet, pair_log = await pair_granting(cli, {"eip155": asked})
    try:
        assert "warning" not in pair_log and not session["beyond_request"]["chains"]
        widened = {
            "eip155": {**grant(["eip155:1", "eip155:137"], [*asked["methods"], "eth_sign"], asked["events"])},
            "solana": {
                "chains": ["solana:mainnet"],
                "accounts": ["solana:mainnet:7S3P4HxJpyyigGzodYwHtCxZyUQe9JiBMHyRWXArAaKv"],
                "methods": ["solana_signMessage"],
                "events": [],
            },
        }
        await wallet.run(wallet.engine.update(session["topic"], widened, wallet.now()))

        out = cli.run("sessions")
        warning = "walletsync: warning: phone widened scope of desk: +namespace solana, +eip155:137, +solana:mainnet, +method eth_sign (eip155:1)"
        assert warning in out.stderr
        added = {
            "namespaces": ["solana"],
            "chains": ["eip155:137", "solana:mainnet"],
            "methods": {"eip155:1": ["eth_sign"]},
            "events": {},
        }
        (row,) = audit(cli, "session_scope_widened")
        assert row["added"] == added and row["beyond_request"] == added
        assert len(audit(cli, "session_updated")) == 1
        (listed,) = cli.json("sessions")
        assert listed["beyond_request"] == added and listed["namespaces"] == widened
        assert "warning" not in cli.run("sessions").stderr

        await wallet.run(wallet.engine.update(session["topic"], {"eip155": asked}, wallet.now()))
        assert "warning" not in cli.run("sessions").stderr
        assert len(audit(cli, "session_updated")) == 2 and len(audit(cli, "session_scope_widened")) == 1
        assert cli.json("sessions")[0]["beyond_request"] == {
            "namespaces": [],
            "chains": [],
            "methods": {},
            "events": {},
        }

        plus_optimism = {"eip155": grant(["eip155:10", "eip155:1"], asked["methods"], asked["events"])}
        await wallet.run(wallet.engine.update(session["topic"], plus_optimism, wallet.now()))
        answered: list[ev.SessionRequestReceived] = []

        async def answer():
            answered.append(await answer_one(wallet))

        code, _, err = await run(cli, "sign", "desk", "--message", "still on 1", answer=answer())
        assert code == 0 and "walletsync: warning: phone widened scope of desk: +eip155:10" in err
        assert answered[0].chain_id == "eip155:1"
        assert [r["added"]["chains"] for r in audit(cli, "session_scope_widened")] == [added["chains"], ["eip155:10"]]
    finally:
        await wallet.close()
