"""Fixed keys, topics and a sealed envelope shared by the parser tests."""

from __future__ import annotations

from walletsync.protocol import crypto

TOPIC = "9df7ceabd1efee9db9191cfcd158269c69e739f313ad73799d10b4247c227f96"
SYM_KEY = "cc47d54cfe02ead49a04dd42d74ce9af4e412d815247104735a9bad788eba84c"
KEY = bytes.fromhex(SYM_KEY)
IV = bytes(range(12))


def sealed_type0(plaintext: bytes = b'{"id":1}') -> bytes:
    return crypto.seal(KEY, plaintext, IV)
