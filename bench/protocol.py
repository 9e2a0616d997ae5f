"""Protocol core speed: envelope seal+open, and one whole pairing + request in memory.

Run: .venv/bin/python bench/protocol.py
Prints each figure next to a baseline measured in the same run (raw pynacl
ChaCha20-Poly1305 on the same payload), and their ratio. Nothing here asserts.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nacl import bindings

from walletsync.protocol import events as ev
from walletsync.protocol.crypto import open_b64, seal_b64
from walletsync.protocol.engine import SignEngine
from walletsync.protocol.loopback import LoopbackRelay

PAYLOAD = b"x" * 500
KEY = os.urandom(32)
IV = os.urandom(12)
ACCOUNT = "eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"
NAMESPACES = {"eip155": {"chains": ["eip155:1"], "methods": ["personal_sign"], "events": []}}
GRANTED = {"eip155": {"chains": ["eip155:1"], "accounts": [ACCOUNT], "methods": ["personal_sign"], "events": []}}


def per_second(fn, seconds: float = 1.0) -> float:
    """Calls per second of ``fn``, best of three runs of ``seconds`` each."""
    best = 0.0
    for _ in range(3):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(100):
                fn()
            count += 100
        best = max(best, count / elapsed)
    return best


def raw_aead() -> None:
    sealed = bindings.crypto_aead_chacha20poly1305_ietf_encrypt(PAYLOAD, None, IV, KEY)
    bindings.crypto_aead_chacha20poly1305_ietf_decrypt(sealed, None, IV, KEY)


def envelope() -> None:
    open_b64(KEY, seal_b64(KEY, PAYLOAD, IV))


def pairing_and_request() -> None:
    now = 1_800_000_000
    meta = {"name": "bench", "description": "", "url": "https://bench.example", "icons": []}
    relay = LoopbackRelay(dapp=SignEngine(meta, os.urandom), wallet=SignEngine(meta, os.urandom))
    relay.do("dapp", "connect", now, optional_namespaces=NAMESPACES)
    relay.do("wallet", "pair", relay.last("dapp", ev.PairingCreated).uri, now)
    relay.run(now)
    relay.do("wallet", "approve", relay.last("wallet", ev.ProposalReceived).proposal.id, GRANTED, now)
    relay.run(now)
    topic = relay.last("dapp", ev.SessionSettled).session.topic
    relay.do("dapp", "request", topic, "eip155:1", "personal_sign", ["0x00", ACCOUNT], now)
    relay.run(now)
    relay.do("wallet", "respond", topic, relay.last("wallet", ev.SessionRequestReceived).id, now, result="0x01")
    relay.run(now)
    assert isinstance(relay.events["dapp"][-1], ev.RequestAnswered)


def main() -> None:
    baseline = per_second(raw_aead)
    ours = per_second(envelope)
    print(
        f"seal+open, 500-byte payload: {ours:,.0f}/s  (baseline raw pynacl AEAD {baseline:,.0f}/s; ratio {ours / baseline:.2f})"
    )
    rounds = per_second(pairing_and_request, 2.0)
    per_round_us = 1e6 / rounds
    aead_us = 1e6 / baseline
    print(
        f"pairing + personal_sign round, in memory: {per_round_us:,.0f} µs  (= {per_round_us / aead_us:,.0f}× one raw AEAD seal+open of {aead_us:.1f} µs)"
    )


if __name__ == "__main__":
    main()
