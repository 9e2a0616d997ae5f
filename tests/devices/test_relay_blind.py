"""What the relay keeps of a device group's traffic: ciphertext only, no name, account, peer or key in clear."""

from __future__ import annotations

import base64
import binascii
import signal

import pytest

from tests.devices.conftest import Device, js_wallet_paired, link, read_only, settle
from walletsync.service import Companion, Config

PAIRED_AS, NAME_ON_A, NAME_ON_B = "paired-as-js", "orchid-savings", "quartz-treasury"
MESSAGE = "signed from the second device"


async def _sym_key(device: Device, topic: str) -> bytes:
    """The session's key as the device holds it (unsealed with its keyring)."""
    companion = await Companion.open(Config(data_dir=str(device.home)), offline=True)
    try:
        # the store's copy: an offline companion gives its engine only the sessions it has to expire
        return next(s.sym_key for s in companion.db.active_sessions() if s.topic == topic)
    finally:
        await companion.close()


def _decoded(path) -> bytes:
    """Every stored message as the bytes its base64 stands for: a plaintext merely encoded shows here."""
    with read_only(path) as db:
        messages = [row[0] for row in db.execute("SELECT message FROM mailbox")]
    out = []
    for message in messages:
        try:
            out.append(base64.b64decode(message, validate=True))
        except (binascii.Error, ValueError):
            out.append(message.encode())
    return b"\n".join(out)


@pytest.mark.timeout(300)
async def test_the_relay_store_holds_no_session_name_account_peer_or_key_in_clear(make_devices, relay, log_dir):
    a, b = make_devices(2)
    await link(a, b)
    session, wallet = await js_wallet_paired(a, log_dir, name=PAIRED_AS)
    try:
        address = wallet.events[0]["address"]
        assert b.json("sign", PAIRED_AS, "--message", MESSAGE)["verified"] is True
    finally:
        await wallet.close()
    a.json("rename", PAIRED_AS, NAME_ON_A)
    b.json("rename", PAIRED_AS, NAME_ON_B)
    settle(a, b)
    topic, key = session["topic"], await _sym_key(a, session["topic"])
    relay.process.kill(signal.SIGTERM)  # its file complete and unlocked

    stored = relay.bytes()
    decoded = _decoded(relay.path)
    assert topic.encode() in stored  # the scan sees what the relay does keep in clear: the topics it routes on
    assert decoded.count(b"\n") > 20  # and the group's messages are there to scan
    secrets = {
        "session name": [PAIRED_AS, NAME_ON_A, NAME_ON_B],
        "account": [address, address.lower(), address.upper().replace("0X", "0x"), address[2:].lower()],
        "peer": ["js-wallet", "js-peer.example", "official JS SDK"],
        "message": [MESSAGE, MESSAGE.encode().hex()],
        "session key": [key.hex(), base64.b64encode(key).decode()],
    }
    for what, values in secrets.items():
        for value in values:
            for haystack in (stored, decoded, stored.lower()):
                assert value.encode() not in haystack, f"the relay keeps the {what} {value!r} in clear"
    assert key not in stored and key not in decoded, "the relay keeps the session key's bytes"
