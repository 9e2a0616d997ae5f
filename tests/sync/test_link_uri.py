"""The link URI: what a member shows and a joiner scans.

A joiner pasting or scanning a bad link must get one typed error saying what is wrong (never a
traceback), and nothing it prints, the errors included, may carry the link's secret: whoever sees
the secret can sit between the two devices.
"""

from __future__ import annotations

import base64
import hashlib
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletsync.errors import WalletsyncError
from walletsync.protocol.crypto import topic_for
from walletsync.sync.link_uri import (
    LINK_LIFETIME,
    LinkError,
    LinkExpired,
    LinkMalformed,
    LinkOversized,
    LinkUnsupported,
    LinkUri,
    link_key,
    link_topic,
    parse_link_uri,
)

NOW = 1_800_000_000
SECRET = bytes(range(32))
SECRET_TEXT = base64.urlsafe_b64encode(SECRET).decode().rstrip("=")
PROJECT = "0123456789abcdef0123456789abcdef"
FUZZ = settings(
    max_examples=300, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def link(**params: str) -> str:
    """A link URI text with the given parameters over good defaults (``None``-valued ones left out)."""
    base = {"v": "1", "secret": SECRET_TEXT, "relay": "wss://relay.example/ws", "expires": str(NOW + 60)}
    base.update(params)
    return "walletsync:link?" + "&".join(f"{k}={v}" for k, v in base.items() if v != "<none>")


def secret_shown(text: str) -> bool:
    """Any spelling of the test secret in ``text``."""
    return any(s in text for s in (SECRET_TEXT, SECRET.hex(), repr(SECRET), base64.b64encode(SECRET).decode()))


class TestRoundTrip:
    def test_format_is_the_documented_shape(self) -> None:
        uri = LinkUri(SECRET, "wss://relay.example/ws", NOW + 300)
        assert uri.format() == (
            f"walletsync:link?v=1&secret={SECRET_TEXT}&relay=wss://relay.example/ws&expires={NOW + 300}"
        )

    @pytest.mark.parametrize("project", [None, PROJECT])
    @pytest.mark.parametrize("relay", ["ws://127.0.0.1:8787", "wss://relay.walletconnect.org", "wss://r.example/a%20b"])
    def test_parse_reads_what_format_writes(self, relay: str, project: str | None) -> None:
        uri = LinkUri(SECRET, relay, NOW + 300, project)
        assert parse_link_uri(uri.format(), NOW) == uri

    def test_create_uses_the_random_source_and_the_default_lifetime(self) -> None:
        uri = LinkUri.create(lambda n: b"\x07" * n, "ws://127.0.0.1:1", NOW)
        assert uri.secret == b"\x07" * 32
        assert uri.expires == NOW + LINK_LIFETIME == NOW + 300

    def test_parameter_order_and_surrounding_spaces_do_not_matter(self) -> None:
        text = f"  walletsync:link?expires={NOW + 9}&relay=ws://h:1&secret={SECRET_TEXT}&v=1\n"
        assert parse_link_uri(text, NOW) == LinkUri(SECRET, "ws://h:1", NOW + 9)

    def test_unknown_parameters_are_ignored(self) -> None:
        assert parse_link_uri(link(later="x"), NOW).secret == SECRET

    @FUZZ
    @given(
        secret=st.binary(min_size=32, max_size=32),
        host=st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,30}[a-z0-9])?", fullmatch=True),
        port=st.none() | st.integers(1, 65535),
        path=st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs")), max_size=20),
        expires=st.integers(NOW + 1, 10**12 - 1),
        project=st.none() | st.from_regex(r"[0-9a-f]{32}", fullmatch=True),
        tls=st.booleans(),
    )
    def test_any_valid_link_round_trips(self, secret, host, port, path, expires, project, tls) -> None:
        path = "/" + path.replace("?", "").replace("#", "").replace("\\", "").replace("@", "")
        relay = f"{'wss' if tls else 'ws'}://{host}{f':{port}' if port else ''}{path}"
        uri = LinkUri(secret, relay, expires, project)
        text = uri.format()
        assert len(text) <= 1024
        assert parse_link_uri(text, NOW) == uri


class TestRefused:
    """Each bad link: the right error class and code, and a message naming the problem."""

    @pytest.mark.parametrize(
        ("text", "error", "words"),
        [
            ("wc:abc@2?symKey=1", LinkMalformed, "walletsync link"),
            ("walletsync:pair?v=1", LinkMalformed, "walletsync link"),
            (link(v="<none>"), LinkMalformed, "no version"),
            (link(v="x"), LinkMalformed, "not a number"),
            (link(v="2"), LinkUnsupported, "version 2"),
            (link(secret="<none>"), LinkMalformed, "no secret"),
            (link(secret=SECRET_TEXT[:-1]), LinkMalformed, "got 42"),
            (link(secret=SECRET_TEXT + "A"), LinkMalformed, "got 44"),
            (link(secret=SECRET_TEXT + "="), LinkMalformed, "got 44"),
            (link(secret=SECRET_TEXT[:-1] + "B"), LinkMalformed, "canonical"),
            (link(secret=SECRET_TEXT[:-1] + "+"), LinkMalformed, "base64url"),
            (link(relay="<none>"), LinkMalformed, "no relay"),
            (link(relay=""), LinkMalformed, "relay URL is missing"),
            (link(relay="https://relay.example"), LinkMalformed, "ws:// or wss://"),
            (link(relay="http://relay.example"), LinkMalformed, "ws:// or wss://"),
            (link(relay="relay.example"), LinkMalformed, "ws:// or wss://"),
            (link(relay="wss://"), LinkMalformed, "no host"),
            (link(relay="wss://user:pw%40relay.example"), LinkMalformed, "credentials"),
            (link(relay="wss://a@relay.example"), LinkMalformed, "credentials"),
            (link(relay="wss://relay.example%3Fx%3D1"), LinkMalformed, "no query"),
            (link(relay="wss://relay.example%23top"), LinkMalformed, "no query"),
            (link(relay="wss://relay.example:99999"), LinkMalformed, "not a valid URL"),
            (link(relay="wss://relay%20.example"), LinkMalformed, "spaces"),
            (link(relay="wss://relay.example/" + "a" * 600), LinkOversized, "relay URL"),
            (link(expires="<none>"), LinkMalformed, "no expiry"),
            (link(expires="-5"), LinkMalformed, "unix seconds"),
            (link(expires="1e9"), LinkMalformed, "unix seconds"),
            (link(expires="٣٣"), LinkMalformed, "unix seconds"),
            (link(project="ABCDEF0123456789ABCDEF0123456789"), LinkMalformed, "project"),
            (link(project="abc"), LinkMalformed, "project"),
            (link() + "&v=1", LinkMalformed, "repeats"),
            (link() + "&x=%ff", LinkMalformed, "malformed"),
            (link(pad="a" * 1000), LinkOversized, "1024"),
        ],
    )
    def test_bad_link(self, text: str, error: type[LinkError], words: str) -> None:
        with pytest.raises(error, match=words) as info:
            parse_link_uri(text, NOW)
        assert type(info.value) is error
        assert isinstance(info.value, WalletsyncError)
        assert not secret_shown(str(info.value)) and not secret_shown(repr(info.value))

    def test_codes_are_stable_for_scripts(self) -> None:
        assert (LinkMalformed.code, LinkExpired.code, LinkOversized.code) == (
            "link_malformed",
            "link_expired",
            "link_oversized",
        )
        assert LinkUnsupported.code == "link_unsupported"

    @pytest.mark.parametrize("offset", [0, 1, 1000])
    def test_expired_from_its_expiry_on(self, offset: int) -> None:
        with pytest.raises(LinkExpired, match="expired"):
            parse_link_uri(link(expires=str(NOW - offset)), NOW)
        assert parse_link_uri(link(expires=str(NOW + 1)), NOW).expires == NOW + 1

    def test_not_text(self) -> None:
        with pytest.raises(LinkMalformed):
            parse_link_uri(b"walletsync:link?v=1", NOW)

    def test_a_link_cannot_be_built_with_a_bad_part(self) -> None:
        with pytest.raises(LinkMalformed):
            LinkUri(SECRET[:31], "wss://r.example", NOW)
        with pytest.raises(LinkMalformed):
            LinkUri(SECRET, "https://r.example", NOW)
        with pytest.raises(LinkMalformed):
            LinkUri(SECRET, "wss://r.example", NOW, project="nope")


class TestSecretNeverShown:
    def test_repr_and_str_of_a_link(self) -> None:
        uri = LinkUri(SECRET, "wss://relay.example", NOW + 60, PROJECT)
        assert not secret_shown(repr(uri)) and not secret_shown(str(uri)) and not secret_shown(f"{uri}")
        assert "wss://relay.example" in repr(uri)
        assert secret_shown(uri.format())  # the one place it is written, on purpose

    def test_errors_about_the_secret_do_not_quote_it(self) -> None:
        for bad in (SECRET_TEXT[:-1], SECRET_TEXT + "AA", SECRET_TEXT.replace("A", "*"), SECRET_TEXT[:-1] + "B"):
            with pytest.raises(LinkError) as info:
                parse_link_uri(link(secret=bad), NOW)
            assert bad[:20] not in str(info.value) and SECRET_TEXT[:20] not in str(info.value)


class TestDerivedValues:
    def test_topic_and_key_are_fixed_domain_separated_values(self) -> None:
        topic, key = link_topic(SECRET), link_key(SECRET)
        assert len(topic) == 64 and int(topic, 16) >= 0 and len(key) == 32
        assert topic == link_topic(SECRET) and key == link_key(SECRET)
        assert topic != hashlib.sha256(SECRET).hexdigest() and topic != topic_for(SECRET)
        assert topic != hashlib.sha256(key).hexdigest() and key != SECRET
        assert LinkUri(SECRET, "ws://h", NOW).topic == topic

    def test_each_secret_has_its_own(self) -> None:
        other = bytes(32)
        assert link_topic(other) != link_topic(SECRET) and link_key(other) != link_key(SECRET)

    def test_a_short_secret_is_refused(self) -> None:
        with pytest.raises(LinkMalformed):
            link_key(b"short")


# --- robustness ----------------------------------------------------------------------------

GOOD = LinkUri(SECRET, "wss://relay.example:443/ws", NOW + 300, PROJECT).format()


def parse_or_typed_error(text: str) -> LinkUri | None:
    try:
        return parse_link_uri(text, NOW)
    except LinkError as exc:
        assert not secret_shown(str(exc)) and not secret_shown(repr(exc))
        return None


@FUZZ
@given(st.text(max_size=1100))
def test_any_text_parses_or_raises_a_link_error(text: str) -> None:
    parse_or_typed_error(text)


@FUZZ
@given(
    st.text(
        alphabet=st.sampled_from(list("walletsync:link?v=1&secret=relay=expires=project=ws://%2FA_-9")), max_size=200
    )
)
def test_link_shaped_text_parses_or_raises_a_link_error(text: str) -> None:
    parse_or_typed_error(text)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The good link with a few characters replaced, inserted or deleted."""
    text = list(GOOD)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        char = draw(st.characters(codec="utf-8") | st.sampled_from(list("&=?%:/#@ +")))
        if action == "insert" or at == len(text):
            text.insert(at, char)
        elif action == "replace":
            text[at] = char
        else:
            del text[at]
    return "".join(text)


@FUZZ
@given(mutated())
def test_a_mutated_link_parses_or_raises_a_link_error(text: str) -> None:
    parsed = parse_or_typed_error(text)
    if parsed is not None:
        assert parse_link_uri(parsed.format(), NOW) == parsed


def test_random_bytes_as_text() -> None:
    rng = random.Random(5)
    for _ in range(200):
        parse_or_typed_error(rng.randbytes(rng.randrange(0, 200)).decode("latin-1"))
