"""`sign` shows what the request would do before it is pushed, and a request with warnings is sent only once
confirmed: at a terminal it asks, without one it needs --yes. Real processes, relay, keyring and phone."""

from __future__ import annotations

import json
import os

from tests.companion.conftest import paired
from tests.decode.registry import MAX, PERMIT2, USDC, hexdata
from tests.procs import REPO
from tests.terminal import Terminal

TX = (REPO / "examples" / "tx.json").read_text()
"""A plain send of 1 wei: no warnings."""
APPROVE_MAX = json.dumps({"to": USDC, "data": hexdata("approve(address,uint256)", PERMIT2, MAX)})
"""An unlimited approval: the ``unlimited_approval`` warning."""


def pushed(cli) -> int:
    return sum(1 for row in cli.json("audit") if row["kind"] == "request_pushed")


async def test_the_decoded_request_comes_first_on_stderr_and_in_the_json_document(cli):
    """For people: the summary, chain and warnings, then "Waiting for the phone…", on stderr; stdout is the answer
    alone, as before. With --json: one document, its ``decoded`` the ``decode --json`` one."""
    session, phone = await paired(cli, "--auto-approve", name="desk")
    try:
        out = cli.run("sign", "desk", "--tx", TX)
        assert out.returncode == 0, out.stderr
        assert out.stderr.splitlines() == [
            "Send 0.000000000000000001 ETH to 0xbBbB…BBbB",
            "chain: Ethereum (eip155:1)",
            "warnings: none",
            "Waiting for the phone… approve or reject eth_sendTransaction on the phone.",
        ]
        assert out.stdout.splitlines()[0].startswith("0x") and "verified" in out.stdout
        document = cli.json("sign", "desk", "--tx", TX)
        assert document["verified"] is True
        assert document["decoded"]["kind"] == "transaction" and document["decoded"]["warnings"] == []
        assert document["decoded"]["chain"] == {"id": "eip155:1", "name": "Ethereum", "currency": "ETH"}
        message = cli.json("sign", "desk", "--message", "hello")
        assert message["decoded"]["kind"] == "message" and message["verified"] is True
    finally:
        await phone.close()


async def test_without_a_terminal_a_request_with_warnings_needs_yes(cli):
    session, phone = await paired(cli, "--auto-approve", name="desk")
    try:
        out = cli.run("sign", "desk", "--tx", APPROVE_MAX)
        assert out.returncode == 1
        assert "unlimited_approval: unlimited approval" in out.stderr
        assert out.stderr.splitlines()[-1] == (
            "walletsync: the request has warnings (unlimited_approval); not sent: pass --yes to send it anyway"
        )
        error = cli.json("sign", "desk", "--tx", APPROVE_MAX, ok=False)["error"]
        assert error["code"] == "not_confirmed"
        assert [w["code"] for w in error["decoded"]["warnings"]] == ["unlimited_approval"]
        assert pushed(cli) == 0, "the phone never saw it"

        sent = cli.json("sign", "desk", "--tx", APPROVE_MAX, "--yes")
        assert sent["verified"] is True and sent["decoded"]["effects"][0]["amount"] is None
        assert pushed(cli) == 1
    finally:
        await phone.close()


async def test_at_a_terminal_sign_asks_and_no_sends_nothing(cli, tmp_path):
    session, phone = await paired(cli, "--auto-approve", name="desk")
    try:
        refused = Terminal([*cli.base, "sign", "desk", "--tx", APPROVE_MAX], dict(os.environ), tmp_path / "no.txt")
        shown = refused.expect("Send anyway? [y/N] ")
        assert "Approve UNLIMITED USDC 0xA0b8…eB48" in shown and "unlimited_approval:" in shown
        refused.type("n")
        code, stdout = refused.finish()
        assert code == 1 and stdout == ""
        assert "the request has warnings (unlimited_approval); not sent" in refused.screen
        assert pushed(cli) == 0

        confirmed = Terminal(
            [*cli.base, "sign", "desk", "--tx", APPROVE_MAX, "--json"], dict(os.environ), tmp_path / "yes.txt"
        )
        confirmed.expect("Send anyway? [y/N] ")
        confirmed.type("y")
        code, stdout = confirmed.finish()
        assert code == 0, confirmed.screen
        document = json.loads(stdout)
        assert document["verified"] is True and document["decoded"]["warnings"][0]["code"] == "unlimited_approval"

        plain = Terminal([*cli.base, "sign", "desk", "--tx", TX], dict(os.environ), tmp_path / "plain.txt")
        code, stdout = plain.finish(unasked="Send anyway?")
        assert code == 0 and "verified" in stdout, "no warnings: nothing to ask"
    finally:
        await phone.close()


async def test_a_request_a_policy_refuses_is_refused_by_it_without_asking(cli):
    """No unlimited approvals is every policy's default: the policy's refusal (exit 1, its rule, audited), not a
    question nobody could answer yes to; the JSON error carries the decoded request too."""
    session, phone = await paired(cli, "--auto-approve", name="desk")
    try:
        cli.json("policy", "set", "desk", "--max-native-per-day", "1")
        error = cli.json("sign", "desk", "--tx", APPROVE_MAX, ok=False)["error"]
        assert (error["code"], error["rule"]) == ("policy_refused", "unlimited_approval")
        assert error["decoded"]["warnings"][0]["code"] == "unlimited_approval"
        text = cli.run("sign", "desk", "--tx", APPROVE_MAX)
        assert text.returncode == 1 and "refused by policy (unlimited_approval)" in text.stderr
        assert pushed(cli) == 0
        refusals = [r for r in cli.json("audit") if r["kind"] == "request_refused_by_policy"]
        assert len(refusals) == 2
    finally:
        await phone.close()
