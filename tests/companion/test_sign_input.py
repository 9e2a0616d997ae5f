"""`sign` checks what the user typed before anything else: the session's state, the relay, the phone."""

from __future__ import annotations

import json

from tests.companion.conftest import paired

MAIL_WITHOUT_ITS_TYPE = {"types": {"EIP712Domain": []}, "primaryType": "Mail", "domain": {}, "message": {}}


async def test_a_transaction_with_neither_to_nor_data_is_refused_before_it_is_pushed(cli):
    session, phone = await paired(cli, "--auto-approve")
    try:
        out = cli.run("sign", session["name"], "--tx", '{"value": "0x1"}')
        assert out.returncode == 1 and out.stderr.count("\n") == 1
        assert "--tx: neither 'to' nor 'data'" in out.stderr, out.stderr
        error = cli.json("sign", session["name"], "--tx", '{"to": null, "data": "0x"}', ok=False)["error"]
        assert error["code"] == "malformed_request"
        assert "request_pushed" not in [row["kind"] for row in cli.json("audit")]
    finally:
        await phone.close()


async def test_bad_input_is_reported_before_the_session_is_revoked_or_the_relay_unreachable(cli, tmp_path):
    """A typo in --tx is what the user must fix first: saying "revoked" (or waiting for a relay) hides it."""
    session, phone = await paired(cli, "--auto-approve")
    try:
        cli.json("revoke", session["name"])
        await phone.expect("deleted")
    finally:
        await phone.close()
    typed = tmp_path / "typed.json"
    typed.write_text(json.dumps(MAIL_WITHOUT_ITS_TYPE))
    cases = {
        ("--tx", "{not json"): "--tx: input is not JSON",
        ("--tx", '{"to": "0x12"}'): "'to' must be a 20-byte 0x address",
        ("--typed-data", str(typed)): "--typed-data: cannot be encoded as EIP-712",
        ("--message", ""): "--message: the message is empty",
    }
    for flags, words in cases.items():
        out = cli.run("sign", session["name"], *flags)
        assert out.returncode == 1 and words in out.stderr and "revoked" not in out.stderr, (flags, out.stderr)
    assert "is revoked" in cli.run("sign", session["name"], "--message", "hi").stderr
    unreachable = cli.json("sign", session["name"], "--tx", "{}", "--relay", "ws://127.0.0.1:1", ok=False)
    assert unreachable["error"]["code"] == "malformed_request"
