"""The companion service in-process: late answers, secrets at rest, session references."""

from __future__ import annotations

import asyncio
import base64
import sqlite3

import pytest

from tests.companion.conftest import paired
from tests.pypeer import TEST_ADDRESS, py_peer, sign_personal
from walletsync.protocol import events as ev
from walletsync.protocol.relay_rpc import Publish
from walletsync.service import AmbiguousSession, Companion, Config, RequestTimeout, SessionNotFound
from walletsync.store.db import Database
from walletsync.store.keys import OsKeyring


class Clock:
    def __init__(self) -> None:
        import time

        self.offset, self._time = 0.0, time.time

    def __call__(self) -> float:
        return self._time() + self.offset


async def companion_with_wallet(relay_url: str, home, clock):
    companion = await Companion.open(Config(data_dir=str(home), relay=relay_url), clock=clock)
    await companion.start()
    offer = await companion.pair()
    wallet = await py_peer(relay_url, "py-wallet")
    await wallet.run(wallet.engine.pair(offer.uri, wallet.now()))
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
    session = await companion.wait_for_session(offer.proposal_id, 20)
    return companion, wallet, session


async def test_a_late_answer_is_recorded_as_late_not_lost(start_relay, tmp_path):
    relay = start_relay("memory")
    clock = Clock()
    companion, wallet, session = await companion_with_wallet(relay.url, tmp_path / "home", clock)
    try:
        asking = asyncio.create_task(companion.sign(session.name, message="slow phone", timeout=30))
        request = await wallet.next_event(ev.SessionRequestReceived)
        clock.offset = 400  # the request's 300 s expiry passes on our side
        with pytest.raises(RequestTimeout, match="late answer is still recorded"):
            await asking
        await wallet.run(
            wallet.engine.respond(
                request.topic, request.id, wallet.now(), result=sign_personal(request.params[0]), allow_late=True
            )
        )
        async with asyncio.timeout(10):
            while (record := companion.db.requests(session.topic)[-1]).status != "late":
                await asyncio.sleep(0.05)
        assert record.verdict["verified"] is True
        kinds = [e.kind for e in companion.audit_entries()]
        assert kinds.index("request_expired") < kinds.index("response_late") < kinds.index("signature_verified")
    finally:
        await wallet.close()
        await companion.close()


async def test_a_request_whose_session_the_phone_ends_says_so_at_once(start_relay, tmp_path):
    """The phone disconnects while a request waits for it: `sign` returns at once with no answer, marked as
    ended by the session (not as the phone's rejection, and not minutes later as a timeout)."""
    relay = start_relay("memory")
    companion, wallet, session = await companion_with_wallet(relay.url, tmp_path / "home", Clock())
    try:
        asking = asyncio.create_task(companion.sign(session.name, message="never answered"))
        await wallet.next_event(ev.SessionRequestReceived)
        await wallet.run(wallet.engine.disconnect(session.topic, wallet.now()))
        async with asyncio.timeout(10):
            outcome = await asking
        assert outcome.session_ended and not outcome.ok and outcome.result is None
        assert companion.resolve(session.topic).status == "deleted"
    finally:
        await wallet.close()
        await companion.close()


def _committed(db_path, topic: str) -> tuple[list[tuple[int, str, bool]], list[str]]:
    """What another process (a restart) would read: the session's requests ``(id, status, has a verdict)`` and its
    audit kinds, through a connection of its own (it sees committed transactions only)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as other:
        requests = other.execute(
            "SELECT id, status, verdict IS NOT NULL FROM requests WHERE topic = ? AND wire_method = 'wc_sessionRequest'",
            (topic,),
        ).fetchall()
        kinds = [k for (k,) in other.execute("SELECT kind FROM audit WHERE session = ? ORDER BY seq", (topic,))]
    return [(i, st, bool(v)) for i, st, v in requests], kinds


async def test_a_request_is_committed_before_it_is_published_and_its_answer_before_sign_returns(start_relay, tmp_path):
    """Were walletsync killed the moment the relay took a request, the restarted companion must still know it asked,
    what, and that it is waiting (so a late answer is recorded and checked); and what `sign` reports must already be
    in the store and the audit log."""
    relay = start_relay("memory")
    companion, wallet, session = await companion_with_wallet(relay.url, tmp_path / "home", Clock())
    assert companion.client is not None
    publish, seen_at_publish = companion.client.publish, []

    async def publish_watched(params, **kwargs):
        if isinstance(params, Publish) and params.tag == 1108:  # wc_sessionRequest
            seen_at_publish.append(_committed(companion.db.path, session.topic))
        await publish(params, **kwargs)

    companion.client.publish = publish_watched
    try:
        asking = asyncio.create_task(companion.sign(session.name, message="keep me"))
        request = await wallet.next_event(ev.SessionRequestReceived)
        await wallet.run(
            wallet.engine.respond(request.topic, request.id, wallet.now(), result=sign_personal(request.params[0]))
        )
        async with asyncio.timeout(10):
            outcome = await asking
        assert outcome.ok and len(seen_at_publish) == 1
        requests, kinds = seen_at_publish[0]
        assert requests == [(outcome.id, "pending", False)] and kinds[-1] == "request_pushed"
        requests, kinds = _committed(companion.db.path, session.topic)
        assert requests == [(outcome.id, "answered", True)]
        assert kinds[-3:] == ["request_pushed", "request_answered", "signature_verified"]
    finally:
        await wallet.close()
        await companion.close()


def _forms(secret: bytes) -> list[bytes]:
    return [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
    ]


async def test_no_secret_is_written_in_clear(cli, tmp_path):
    """Scan every file of the data dir and every captured log for every secret, raw, hex or base64."""
    session, phone = await paired(cli, "--auto-approve")
    try:
        cli.json("sign", session["name"], "--message", "scan me")
        device = OsKeyring(cli.home).load()
        assert device is not None, "the device secrets live in the OS keyring"
        db = Database(cli.home / "walletsync.db", device.storage_key)
        secrets = {"identity seed": device.identity_seed, "storage key": device.storage_key}
        secrets |= {f"session key {s.topic[:8]}": s.sym_key for s in db.active_sessions()}
        secrets |= {f"pairing key {p.topic[:8]}": p.sym_key for p in db.pairings()}
        db.close()
        assert len(secrets) >= 3
        files = [p for p in [*cli.home.rglob("*"), *cli.logs.rglob("*")] if p.is_file()]
        assert any(p.name == "walletsync.db" for p in files)
        for path in files:
            content = path.read_bytes()
            for name, secret in secrets.items():
                for form in _forms(secret):
                    assert form not in content, f"{name} found in {path}"
    finally:
        await phone.close()


async def test_session_references(start_relay, tmp_path):
    relay = start_relay("memory")
    companion, wallet, session = await companion_with_wallet(relay.url, tmp_path / "home", Clock())
    try:
        assert companion.resolve(session.name).topic == session.topic
        assert companion.resolve(session.topic[:6]).topic == session.topic
        with pytest.raises(SessionNotFound, match="walletsync sessions"):
            companion.resolve("zzzz")
        with pytest.raises(SessionNotFound, match="a topic prefix needs 4 or more characters"):
            companion.resolve(session.topic[:3])  # too short to be a prefix
        with companion.db.transaction():  # a second session whose topic shares the first 6 hex chars
            companion.db._db.execute(
                "INSERT INTO sessions SELECT substr(topic, 1, 6) || 'ffffffff' || substr(topic, 15), 'other', NULL, pairing_topic, self_public_key, peer_public_key,"
                " controller_public_key, peer_metadata, namespaces, required_namespaces, optional_namespaces, session_properties, expiry, is_controller,"
                " acknowledged, 'deleted', created_at, last_seen, last_ping FROM sessions"
            )
        with pytest.raises(AmbiguousSession, match="matches 2 sessions"):
            companion.resolve(session.topic[:6])
        assert companion.resolve(session.topic[:12]).topic == session.topic
    finally:
        await wallet.close()
        await companion.close()


def test_missing_keyring_is_a_clear_error(cli):
    """Without a Secret Service (no D-Bus session) the CLI names the fix and writes nothing secret."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent"
    out = cli.run("sessions", "--offline", env=env)
    assert out.returncode == 1
    assert "--keyring-file" in out.stderr and out.stderr.count("\n") == 1
    with_file = cli.run(
        "--keyring-file",
        str(cli.home / "keys.json"),
        "sessions",
        "--offline",
        env={**env, "WALLETSYNC_PASSPHRASE": "correct horse"},
    )
    assert with_file.returncode == 0, with_file.stderr
    wrong = cli.run(
        "--keyring-file",
        str(cli.home / "keys.json"),
        "sessions",
        "--offline",
        env={**env, "WALLETSYNC_PASSPHRASE": "wrong"},
    )
    assert wrong.returncode == 1 and "passphrase" in wrong.stderr.lower()
