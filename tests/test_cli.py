"""What a user sees from the walletsync command today."""

from __future__ import annotations

import json
import subprocess
import sys

from walletsync import __version__


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "walletsync", *args], capture_output=True, text=True, timeout=60)


def test_bare_command_prints_version_and_commands():
    out = run()
    assert out.returncode == 0
    assert f"walletsync {__version__}" in out.stdout
    for command in ("pair", "sessions", "sign", "revoke", "audit", "relay", "phone"):
        assert f"  {command} " in out.stdout


def test_version_flag():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"walletsync {__version__}"


def test_unknown_command_is_one_line_error():
    out = run("frobnicate")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "invalid choice" in out.stderr


def test_bad_relay_store_is_one_line_error():
    out = run("relay", "--store", "ftp://nope", "--port", "0")
    assert out.returncode == 1
    assert out.stderr.strip() == "walletsync: unknown store 'ftp://nope'; use memory, sqlite:PATH or redis://HOST:PORT"


def test_relay_on_a_busy_port_is_one_line_error():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        out = run("relay", "--store", "memory", "--port", str(busy.getsockname()[1]))
    assert out.returncode == 1
    assert out.stderr.startswith("walletsync: cannot start the relay:") and out.stderr.count("\n") == 1


def test_relay_with_unreachable_redis_is_one_line_error():
    out = run("relay", "--store", "redis://127.0.0.1:1/0", "--port", "0", "--json")
    assert out.returncode == 1
    error = json.loads(out.stdout)["error"]
    assert error["code"] == "store_unavailable" and "cannot reach Redis at redis://127.0.0.1:1/0" in error["message"]


def test_a_relay_that_said_it_listens_always_stops_cleanly():
    """SIGINT or SIGTERM at any moment of the start: once "listening" was printed, the relay ends cleanly
    (exit 0, a "stopped" event, nothing on stderr); a signal that came earlier simply means it never started.
    (A signal racing asyncio's set-up used to let it print "listening" and then end as "interrupted".)"""
    import signal
    import time

    argv = [sys.executable, "-m", "walletsync", "relay", "--store", "memory", "--port", "0", "--json"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        began = time.monotonic()
        proc.stdout.readline()  # how long a start takes on this machine, now: the signals below sweep around it
        start_time = time.monotonic() - began
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    started = 0
    for attempt in range(16):
        sig = (signal.SIGINT, signal.SIGTERM)[attempt % 2]
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
            time.sleep(start_time * (0.6 + attempt * 0.05))
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=20)
        events = [json.loads(line).get("event") for line in out.splitlines()]
        if events[:1] == ["listening"]:
            started += 1
            assert (proc.returncode, events, err) == (0, ["listening", "stopped"], ""), (sig, err)
        else:
            assert proc.returncode != 0 and "listening" not in events
    assert started, "the relay never got as far as listening: the timings above need a look"


def test_help_is_a_command_too():
    """People type `walletsync help` and `walletsync help sign`: the same text as --help, not an error."""
    assert run("help").stdout == run("--help").stdout
    assert run("help", "sign").stdout == run("sign", "--help").stdout
    unknown = run("help", "frobnicate")
    assert unknown.returncode == 2 and unknown.stderr == "walletsync: no command 'frobnicate' (see 'walletsync help')\n"
    listed = json.loads(run("help", "--json").stdout)
    assert listed["version"] == __version__
    assert {"sign", "audit", "help", "version"} <= {c["command"] for c in listed["commands"]}
    assert json.loads(run("--json").stdout) == listed  # the bare command's listing, as one document
    assert json.loads(run("help", "sign", "--json").stdout)["help"] == run("sign", "--help").stdout


def test_version_is_a_command_too_and_a_json_document():
    assert run("version").stdout == run("--version").stdout == f"walletsync {__version__}\n"
    for args in (("version", "--json"), ("--json", "version"), ("--version", "--json"), ("--json", "--version")):
        out = run(*args)
        assert out.returncode == 0 and json.loads(out.stdout) == {"version": __version__}, args


def test_a_reader_that_goes_away_is_no_error():
    """``walletsync help | head -1``: the pipe closes before walletsync is done writing; no traceback, exit 0."""
    argv = [sys.executable, "-m", "walletsync", "help"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # gone before the first line is read
        err = proc.stderr.read().decode()
        assert proc.wait(60) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err, err
