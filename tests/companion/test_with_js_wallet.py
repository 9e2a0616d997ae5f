"""`walletsync pair`/`sign`/`revoke` against the official JS SDK wallet."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_defunct

from tests.procs import JsPeer


async def linked_js_wallet(cli, log_dir):
    pair = await cli.spawn("pair", "--json", "--name", "js")
    uri = (await pair.expect("uri"))["uri"]
    wallet = await JsPeer.start(cli.relay_url, log_dir, name="js-wallet", flags=("--auto-approve", "--auto-sign"))
    await wallet.send("pair", uri=uri)
    session = await pair.expect("session")
    assert await pair.exit_code() == 0
    await wallet.expect("session")
    return session, wallet


async def test_pair_sign_verify_revoke_with_the_js_wallet(cli, log_dir):
    session, wallet = await linked_js_wallet(cli, log_dir)
    try:
        address = wallet.events[0]["address"]
        assert session["accounts"] == [f"eip155:1:{address}"]
        signed = cli.json("sign", "js", "--message", "from the terminal")
        assert signed["verified"] is True and signed["recovered"] == address
        assert Account.recover_message(encode_defunct(text="from the terminal"), signature=signed["result"]) == address
        assert cli.json("revoke", "js")["status"] == "revoked"
        assert (await wallet.expect("delete"))["topic"] == session["topic"]
    finally:
        await wallet.close()


async def test_js_wallet_deleting_the_session_is_seen_and_audited(cli, log_dir):
    session, wallet = await linked_js_wallet(cli, log_dir)
    try:
        await wallet.send("disconnect", topic=session["topic"])
        await wallet.expect("disconnected")
    finally:
        await wallet.close()
    (listed,) = cli.json("sessions")  # the delete waited in the relay's mailbox
    assert listed["status"] == "deleted"
    deleted = [row for row in cli.json("audit") if row["kind"] == "session_deleted_by_peer"]
    assert len(deleted) == 1 and deleted[0]["data"]["code"] == 6000
    out = cli.run("sign", "js", "--message", "too late")
    assert out.returncode == 1 and "deleted" in out.stderr
