"""Bad pairing URIs: the right error class, and a message a user pasting one can act on.

Each parser must turn bad input into one specific ``WalletsyncError`` subclass whose text
says what was wrong; otherwise a user (or a misbehaving peer or relay) gets a traceback, a
vague message, or silently wrong behaviour.
"""

from __future__ import annotations

import base64

import pytest

from tests.protocol.samples import KEY, SYM_KEY, TOPIC
from walletsync.protocol import uri
from walletsync.protocol.errors import (
    InvalidUri,
)


def wc(query: str, *, topic: str = TOPIC, version: str = "2") -> str:
    """A pairing URI with the given query."""
    return f"wc:{topic}@{version}?{query}"


GOOD_QUERY = f"expiryTimestamp=1795456073&relay-protocol=irn&symKey={SYM_KEY}"
GOOD_URI = wc(GOOD_QUERY)


def assert_good_pairing(parsed: uri.PairingUri, *, expiry: int | None = 1795456073) -> None:
    assert parsed.topic == TOPIC
    assert parsed.sym_key == KEY
    assert parsed.relay_protocol == "irn"
    assert parsed.expiry_timestamp == expiry
    assert parsed.version == 2


class TestParseUri:
    """What a user sees when the URI they pasted or scanned is wrong."""

    def test_missing_sym_key(self) -> None:
        with pytest.raises(InvalidUri, match="symKey is missing"):
            uri.parse_uri(wc("relay-protocol=irn"))

    def test_sym_key_of_63_hex_names_both_lengths(self) -> None:
        with pytest.raises(InvalidUri) as info:
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY[:63]}"))
        assert "64" in str(info.value) and "63" in str(info.value)
        assert "symKey" in str(info.value)

    def test_sym_key_not_hex(self) -> None:
        with pytest.raises(InvalidUri, match="symKey must be hex"):
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={'z' * 64}"))

    @pytest.mark.parametrize("spaces", ["++", "%20%20", "%09%0A"], ids=["plus", "pct20", "tab-newline"])
    def test_sym_key_with_whitespace_is_refused(self, spaces: str) -> None:
        """BUG: 62 hex digits padded with two spaces pass the 64-char check and ``bytes.fromhex``
        skips the spaces, so a 31-byte symKey is accepted (crypto.key_from_hex)."""
        with pytest.raises(InvalidUri, match="symKey"):
            parsed = uri.parse_uri(wc(f"relay-protocol=irn&symKey={spaces}{SYM_KEY[:62]}"))
            assert len(parsed.sym_key) == 32, f"parsed a {len(parsed.sym_key)}-byte symKey"

    def test_missing_relay_protocol(self) -> None:
        with pytest.raises(InvalidUri, match="relay-protocol is missing"):
            uri.parse_uri(wc(f"symKey={SYM_KEY}"))

    def test_version_1_is_refused_by_name(self) -> None:
        with pytest.raises(InvalidUri, match="only WalletConnect v2 .* got version 1"):
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY}", version="1"))

    @pytest.mark.parametrize("version", ["²", "¹²"])
    def test_non_ascii_digit_version_is_invalid_uri(self, version: str) -> None:
        """BUG: ``str.isdigit()`` accepts '²' but ``int('²')`` raises ValueError (uri.py version check)."""
        with pytest.raises(InvalidUri, match="version"):
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY}", version=version))

    def test_non_ascii_digit_expiry_is_invalid_uri(self) -> None:
        """BUG: same ``isdigit``/``int`` mismatch for expiryTimestamp ('²' leaks a ValueError)."""
        with pytest.raises(InvalidUri, match="expiryTimestamp"):
            uri.parse_uri(wc(f"expiryTimestamp=%C2%B2&relay-protocol=irn&symKey={SYM_KEY}"))

    def test_expiry_not_a_number(self) -> None:
        with pytest.raises(InvalidUri, match="expiryTimestamp must be unix seconds, got 'soon'"):
            uri.parse_uri(wc(f"expiryTimestamp=soon&relay-protocol=irn&symKey={SYM_KEY}"))

    def test_no_at_version(self) -> None:
        with pytest.raises(InvalidUri, match="no '@version'"):
            uri.parse_uri(f"wc:{TOPIC}?relay-protocol=irn&symKey={SYM_KEY}")

    def test_no_query(self) -> None:
        with pytest.raises(InvalidUri, match="no query"):
            uri.parse_uri(f"wc:{TOPIC}@2")

    def test_topic_not_64_hex(self) -> None:
        with pytest.raises(InvalidUri, match="topic must be 64 lowercase hex chars, got 4 chars"):
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY}", topic="abcd"))

    def test_repeated_key(self) -> None:
        with pytest.raises(InvalidUri, match="repeats 'symKey'"):
            uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY}&symKey={SYM_KEY}"))

    @pytest.mark.parametrize("text", ["https://example.com/?wc=1", "hello", ""])
    def test_not_a_walletconnect_uri(self, text: str) -> None:
        with pytest.raises(InvalidUri, match="not a WalletConnect URI"):
            uri.parse_uri(text)

    def test_not_text(self) -> None:
        with pytest.raises(InvalidUri, match="URI must be text, got bytes"):
            uri.parse_uri(GOOD_URI.encode())  # type: ignore[arg-type]

    def test_too_long(self) -> None:
        with pytest.raises(InvalidUri, match="at most 4096"):
            uri.parse_uri(GOOD_URI + "&relay-data=" + "a" * 5000)

    def test_base64_wrapped_uri_works(self) -> None:
        assert_good_pairing(uri.parse_uri(base64.b64encode(GOOD_URI.encode()).decode()))

    def test_unpadded_base64_wrapped_uri_works(self) -> None:
        assert_good_pairing(uri.parse_uri(base64.b64encode(GOOD_URI.encode()).decode().rstrip("=")))

    def test_android_double_slash_prefix_works(self) -> None:
        assert_good_pairing(uri.parse_uri(GOOD_URI.replace("wc:", "wc://", 1)))

    def test_surrounding_whitespace_is_ignored(self) -> None:
        assert_good_pairing(uri.parse_uri(f"  {GOOD_URI}\n"))

    def test_key_order_does_not_matter(self) -> None:
        """SDK 2.17 wrote symKey first; both orders must parse to the same pairing."""
        shuffled = wc(f"symKey={SYM_KEY}&relay-protocol=irn&expiryTimestamp=1795456073")
        assert uri.parse_uri(shuffled) == uri.parse_uri(GOOD_URI)
        assert uri.format_uri(uri.parse_uri(shuffled)) == GOOD_URI

    def test_without_expiry(self) -> None:
        parsed = uri.parse_uri(wc(f"relay-protocol=irn&symKey={SYM_KEY}"))
        assert_good_pairing(parsed, expiry=None)
        assert not parsed.is_expired(now=10**12)

    @pytest.mark.parametrize(
        ("now", "expired"),
        [(1795456072, False), (1795456073, False), (1795456073.5, True), (1795456074, True)],
    )
    def test_is_expired(self, now: float, expired: bool) -> None:
        assert uri.parse_uri(GOOD_URI).is_expired(now) is expired

    def test_repr_hides_sym_key(self) -> None:
        assert SYM_KEY not in repr(uri.parse_uri(GOOD_URI))
