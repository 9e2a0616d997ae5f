"""RPC URLs as shown: an API key in user info, path, query or fragment never reaches a terminal or a tool whole."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from walletsync.redact import url_shown

KEY = "0123456789abcdef0123456789abcdef"


def test_provider_urls_lose_their_keys():
    assert url_shown(f"https://mainnet.infura.io/v3/{KEY}") == "https://mainnet.infura.io/v3/0123…"
    assert url_shown(f"https://eth-mainnet.g.alchemy.com/v2/{KEY}") == "https://eth-mainnet.g.alchemy.com/v2/0123…"
    assert url_shown(f"https://rpc.example/?apikey={KEY}&x=1") == "https://rpc.example/?apikey=0123…&x=1"
    assert url_shown("https://user:secret@rpc.example:8545/") == "https://…@rpc.example:8545/"
    assert url_shown(f"wss://rpc.example/ws#{KEY}") == "wss://rpc.example/ws#0123…"


def test_urls_without_keys_and_non_urls_stay_as_they_are():
    for kept in ("http://127.0.0.1:8545", "https://cloudflare-eth.com/", "https://rpc.ankr.com/eth", "not a url", ""):
        assert url_shown(kept) == kept


@given(
    host=st.text(string.ascii_lowercase, min_size=1, max_size=20),
    key=st.text(string.ascii_letters + string.digits + "_-", min_size=20, max_size=64),
    where=st.sampled_from(["/{k}", "/v3/{k}/", "?key={k}", "#{k}"]),
)
def test_no_key_like_token_survives(host, key, where):
    shown = url_shown(f"https://{host}.example" + where.format(k=key))
    assert key not in shown and shown.startswith(f"https://{host}.example")
