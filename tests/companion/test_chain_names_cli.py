"""Chains by name in what the companion's commands print: pair, sessions, sign (with the explorer link), audit."""

from __future__ import annotations

from tests.procs import REPO

TX = (REPO / "examples" / "tx.json").read_text()


async def test_sessions_sign_and_audit_name_the_chains(cli):
    """A session on Polygon and on a local chain: Polygon is named everywhere, the local chain stays its id until
    the user adds it; a transaction's hash comes with Polygonscan's link."""
    pair = await cli.spawn("pair", "--json", "--name", "desk", "--chains", "eip155:137,eip155:31337")
    offer = await pair.expect("uri")
    assert offer["chain_names"] == {"eip155:137": "Polygon", "eip155:31337": None}
    phone = await cli.phone(offer["uri"], "--approve", "--auto-approve")
    try:
        session = await pair.expect("session")
        assert await pair.exit_code() == 0
        assert session["chain_names"] == {"eip155:137": "Polygon", "eip155:31337": None}

        listed = cli.run("sessions", "--offline")
        assert "Polygon (eip155:137), eip155:31337" in listed.stdout, listed.stdout
        assert "CHAINS" in listed.stdout.splitlines()[0]

        sent = cli.json("sign", "desk", "--tx", TX, "--chain", "eip155:137")
        assert sent["verified"] is True and (sent["chain_id"], sent["chain_name"]) == ("eip155:137", "Polygon")
        assert sent["explorer_url"] == f"https://polygonscan.com/tx/{sent['result']}"
        text = cli.run("sign", "desk", "--tx", TX, "--chain", "eip155:137").stdout.splitlines()
        assert text[1] == f"on Polygon (eip155:137): https://polygonscan.com/tx/{text[0]}", text

        local = cli.json("sign", "desk", "--message", "hi", "--chain", "eip155:31337")
        assert local["chain_name"] is None and "explorer_url" not in local

        pushed = [row for row in cli.json("audit", "desk") if row["kind"] == "request_pushed"]
        assert [row["chain_name"] for row in pushed] == ["Polygon", "Polygon", None]
        assert "on Polygon (eip155:137)" in cli.run("audit", "desk").stdout

        cli.json("chains", "add", "31337", "--name", "Anvil", "--currency", "ETH")
        (listed,) = cli.json("sessions", "--offline")
        assert listed["chain_names"] == {"eip155:137": "Polygon", "eip155:31337": "Anvil"}
        assert "Anvil (eip155:31337)" in cli.run("rename", "desk", "desk2").stdout
    finally:
        await phone.close()
