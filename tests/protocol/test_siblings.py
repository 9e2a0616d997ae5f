"""Two devices of one group share a session with one phone: each ignores what the other seals there.

Without the sibling mark, a device would take its sibling's ping for the phone's and answer it —
and the sibling would read that answer as the phone being online (docs/SYNC.md).
"""

from __future__ import annotations

import copy
import hashlib
import hmac

from tests.protocol.conftest import NOW, make_pair, metadata, seeded, settle
from walletsync.protocol import events as ev
from walletsync.protocol.engine import SignEngine
from walletsync.protocol.relay_rpc import Publish


class Mark:
    """A test stand-in for sync/sibling.py: keyed BLAKE2b of the plaintext as the nonce."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def nonce(self, plaintext: bytes) -> bytes:
        return hashlib.blake2b(plaintext, key=self.key, digest_size=12).digest()

    def is_sibling(self, nonce: bytes, plaintext: bytes) -> bool:
        return hmac.compare_digest(self.nonce(plaintext), nonce)


def group_of_two(marked: bool = True):
    """The dapp (device A) settles with the wallet; device B restores A's session, as sync hands it over."""
    relay = make_pair()
    topic = settle(relay)
    b = SignEngine(metadata("dapp"), seeded(77))
    relay.engines["b"], relay.events["b"], relay.calls["b"] = b, [], []
    relay.execute("b", b.restore(sessions=[copy.deepcopy(relay.engines["dapp"].sessions[topic])]))
    if marked:
        relay.engines["dapp"].siblings = Mark(b"k" * 32)
        b.siblings = Mark(b"k" * 32)
    return relay, topic


def test_a_siblings_ping_is_answered_by_the_phone_only():
    relay, topic = group_of_two()
    relay.do("b", "ping", topic, NOW)
    relay.run(NOW)
    acks = [e for e in relay.events["b"] if isinstance(e, ev.Acknowledged)]
    assert len(acks) == 1 and acks[0].error is None
    assert not [e for e in relay.events["dapp"] if isinstance(e, ev.SessionPinged)]
    assert [e for e in relay.events["wallet"] if isinstance(e, ev.SessionPinged)]
    answers = [c for c in relay.calls["dapp"] if isinstance(c, Publish) and c.topic == topic and c.tag == 1115]
    assert answers == []  # device A sent nothing back on the shared session


def test_without_the_mark_a_sibling_answers_in_the_phones_place():
    """The failure the mark prevents: device A answers B's ping, so B hears two answers."""
    relay, topic = group_of_two(marked=False)
    relay.do("b", "ping", topic, NOW)
    relay.run(NOW)
    assert [e for e in relay.events["dapp"] if isinstance(e, ev.SessionPinged)]


def test_a_siblings_request_reaches_the_phone_and_its_answer_reaches_the_sender():
    relay, topic = group_of_two()
    relay.do("b", "request", topic, "eip155:1", "personal_sign", ["0x68690a", "0xab16"], NOW)
    relay.run(NOW)
    received = relay.last("wallet", ev.SessionRequestReceived)
    assert not [e for e in relay.events["dapp"] if isinstance(e, ev.SessionRequestReceived)]
    relay.do("wallet", "respond", topic, received.id, NOW, result="0x" + "11" * 65)
    relay.run(NOW)
    assert relay.last("b", ev.RequestAnswered).id == received.id


def test_the_phone_still_reaches_every_device():
    relay, topic = group_of_two()
    relay.do("wallet", "ping", topic, NOW)
    relay.run(NOW)
    assert [e for e in relay.events["dapp"] if isinstance(e, ev.SessionPinged)]
    assert [e for e in relay.events["b"] if isinstance(e, ev.SessionPinged)]
