"""The sibling mark: a keyed BLAKE2b of the plaintext as the session envelope's IV."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from walletsync.sync.keys import EpochKey
from walletsync.sync.sibling import is_sibling, nonce_for

MARK_1 = EpochKey(1, bytes(range(32))).mark_key
MARK_2 = EpochKey(2, bytes(range(1, 33))).mark_key
PLAINTEXT = b'{"id":1,"jsonrpc":"2.0","method":"wc_sessionPing","params":{}}'


def test_the_mark_is_a_keyed_blake2b_of_12_bytes():
    nonce = nonce_for(MARK_1, PLAINTEXT)
    assert nonce == hashlib.blake2b(PLAINTEXT, key=MARK_1, digest_size=12).digest()
    assert len(nonce) == 12 and nonce_for(MARK_1, PLAINTEXT) == nonce
    assert nonce_for(MARK_2, PLAINTEXT) != nonce and nonce_for(MARK_1, PLAINTEXT + b" ") != nonce


def test_a_sibling_is_told_by_any_epoch_s_mark():
    nonce = nonce_for(MARK_2, PLAINTEXT)
    assert is_sibling([MARK_1, MARK_2], nonce, PLAINTEXT)
    assert is_sibling(iter([MARK_2]), nonce, PLAINTEXT)
    assert not is_sibling([MARK_1], nonce, PLAINTEXT)
    assert not is_sibling([], nonce, PLAINTEXT)
    assert not is_sibling([MARK_1, MARK_2], nonce, PLAINTEXT + b"x")
    assert not is_sibling([MARK_1, MARK_2], nonce[:-1], PLAINTEXT)


@settings(max_examples=100, deadline=None, database=None, derandomize=True)
@given(st.binary(min_size=12, max_size=12), st.binary(max_size=200))
def test_the_phone_s_random_iv_is_no_sibling(nonce, plaintext):
    assert is_sibling([MARK_1], nonce, plaintext) == (nonce == nonce_for(MARK_1, plaintext))
