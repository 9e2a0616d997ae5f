"""Session references as a user types them: a name means one session, a topic prefix needs 4+ characters."""

from __future__ import annotations

from tests.companion.conftest import paired


async def _paired_then_revoked(cli, name: str | None = None) -> dict:
    session, phone = await paired(cli, "--auto-approve", name=name)
    try:
        assert cli.json("revoke", session["topic"][:8])["status"] == "revoked"
        await phone.expect("deleted")
    finally:
        await phone.close()
    return session


async def test_a_name_an_ended_session_has_is_refused_with_the_way_out(cli):
    """Renaming (or pairing) to the name of an ended session is refused, naming that session and how to free the name,
    so 'sign laptop' can never have two sessions to choose from later; a 3-character topic prefix is told it needs 4."""
    old = (await _paired_then_revoked(cli, name="laptop"))["topic"][:8]
    session, phone = await paired(cli, "--auto-approve")
    try:
        out = cli.run("rename", session["name"], "laptop")
        assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
        assert f"an ended session (revoked, topic {old}) is already named 'laptop'" in out.stderr
        assert f"'walletsync rename {old} NEW-NAME'" in out.stderr
        looks_the_same = cli.json("rename", session["name"], "LAPTOP", ok=False)["error"]
        assert (
            looks_the_same["code"] == "name_taken"
            and "looks the same as the name of an ended" in looks_the_same["message"]
        )
        pairing = cli.run("pair", "--name", "laptop", "--no-qr")
        assert pairing.returncode == 1 and "is already named 'laptop'" in pairing.stderr

        short = cli.run("sign", session["topic"][:3], "--message", "hi")
        assert short.returncode == 1 and "a topic prefix needs 4 or more characters" in short.stderr, short.stderr
        assert "no session named or starting with" not in short.stderr

        assert cli.json("rename", old, "old laptop")["name"] == "old laptop"  # the way out the error gave
        assert cli.json("rename", session["name"], "laptop")["name"] == "laptop"
        signed = cli.json("sign", "laptop", "--message", "hi")
        assert signed["verified"] is True and signed["session"] == "laptop"
    finally:
        await phone.close()


async def test_a_name_shared_by_ended_sessions_never_makes_sign_ambiguous(cli):
    """A phone paired again gets its old name back (the old session has ended): 'sign NAME' signs with the active
    one; once every session of that name has ended, 'sign' says so instead of "ambiguous", and 'audit NAME' lists
    their topics to choose from."""
    first = await _paired_then_revoked(cli)
    session, phone = await paired(cli, "--auto-approve")
    name = session["name"]
    try:
        assert name == first["name"]
        assert cli.json("rename", name, name)["topic"] == session["topic"]  # its own name: nothing to refuse
        assert cli.json("sign", name, "--message", "hi")["verified"] is True  # the active one of the two
        cli.json("revoke", name)
        await phone.expect("deleted")
    finally:
        await phone.close()
    error = cli.json("sign", name, "--message", "hi", ok=False)["error"]
    assert error["code"] == "session_inactive" and error["message"].startswith(
        f"every session named '{name}' has ended"
    )
    assert f"{first['topic'][:8]} revoked" in error["message"] and f"{session['topic'][:8]} revoked" in error["message"]
    audit = cli.json("audit", name, ok=False)["error"]
    assert audit["code"] == "ambiguous_session" and first["topic"][:8] in audit["message"]
