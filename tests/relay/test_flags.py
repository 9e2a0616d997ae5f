"""``walletsync relay`` limit flags: sizes with units, bad values as one clear error, flags reaching the relay's Limits."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.relay.attacks import REPO
from walletsync.cli import build_parser
from walletsync.commands.relay import byte_size, limits_from
from walletsync.relay.mailbox import Limits


@pytest.mark.parametrize(
    ("text", "value"), [("4M", 4 << 20), ("512k", 512 << 10), ("1GiB", 1 << 30), ("1000", 1000), (" 2 mb ", 2 << 20)]
)
def test_sizes_take_units(text, value):
    assert byte_size(text) == value


@given(st.text(max_size=12))
def test_a_size_is_a_number_or_a_clear_argparse_error(text):
    try:
        value = byte_size(text)
    except argparse.ArgumentTypeError as exc:
        assert repr(text) in str(exc)
    else:
        assert value > 0


def test_flags_become_the_relays_limits():
    args = build_parser().parse_args(
        [
            "relay",
            "--max-store-bytes",
            "64M",
            "--max-topic-bytes",
            "2M",
            "--max-queued-bytes",
            "8M",
            "--max-reply-bytes",
            "512k",
            "--publish-rate",
            "10",
            "--ip-publish-rate",
            "50",
            "--ip-byte-rate",
            "256k",
            "--public-url",
            "wss://relay.example.com",
        ]
    )
    limits = limits_from(args)
    assert (limits.max_store_bytes, limits.max_topic_bytes, limits.max_queued_bytes, limits.max_reply_bytes) == (
        64 << 20,
        2 << 20,
        8 << 20,
        512 << 10,
    )
    assert (limits.publish_rate, limits.publish_burst, limits.ip_publish_rate, limits.ip_publish_burst) == (
        10,
        50,
        50,
        250,
    )
    assert (limits.ip_byte_rate, limits.ip_byte_burst) == (256 << 10, 4 << 20)
    assert args.public_url == ["wss://relay.example.com"]


def test_defaults_are_the_documented_limits():
    assert limits_from(build_parser().parse_args(["relay"])) == Limits()


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--max-queued-bytes", "100k"], "--max-queued-bytes"),
        (["--public-url", "ftp://relay.example.com"], "--public-url"),
    ],
)
def test_bad_limits_are_one_clear_error(flags, says):
    done = subprocess.run(
        [sys.executable, "-m", "walletsync", "relay", "--json", "--port", "0", "--store", "memory", *flags],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode != 0
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "bad_relay_config" and says in error["message"]
    assert "Traceback" not in done.stderr
