"""App speed: cold start of the real ``walletsync`` app to its first frame, and the pairing QR's render time.

Run: .venv/bin/python bench/app.py [RUNS]
Each start spawns ``python -m walletsync`` in a 120x40 pty with a throw-away HOME and data dir and
a local relay (``walletsync relay --port 0``, started once, not timed), and times spawn → the
first frame showing the pairing screen (a fresh data dir: first start) or the session list.
Baselines, measured the same way in the same run: ``python -c pass`` and ``python -c "import
textual"`` (spawn → exit), and a one-line Textual app (spawn → its text on screen).
The device keys need a Secret Service keyring: without a D-Bus session the bench re-runs itself
under ``dbus-run-session`` with a throw-away unlocked gnome-keyring. Nothing here asserts.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import start_relay, under_a_keyring  # noqa: E402

PYTHON = sys.executable
SIZE = (120, 40)
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
HELLO_APP = "from textual.app import App\nfrom textual.widgets import Static\nclass Hello(App):\n    def compose(self):\n        yield Static('hello from textual')\nHello().run()"


def _spawn(argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, cwd=ROOT)
    os.close(slave)
    return process, master


def until_text(argv: list[str], env: dict[str, str], markers: tuple[bytes, ...], timeout: float = 20.0) -> float:
    """Seconds from spawn until any marker is on the pty (escape codes stripped); then quit the app with q."""
    started = time.perf_counter()
    process, master = _spawn(argv, env)
    seen = b""
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
                if any(m in ANSI.sub(b"", seen) for m in markers):
                    return time.perf_counter() - started
        raise RuntimeError(
            f"{argv[1:]} showed none of {markers} within {timeout} s; last output: {ANSI.sub(b'', seen)[-300:]!r}"
        )
    finally:
        os.write(master, b"q")
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.close(master)


def until_exit(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    process, master = _spawn(argv, env)
    process.wait()
    elapsed = time.perf_counter() - started
    os.close(master)
    return elapsed


def median_ms(measure, runs: int) -> float:
    return statistics.median(measure() for _ in range(runs)) * 1000


def startup(runs: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="walletsync-bench-"))
    env = {**os.environ, "HOME": str(home), "TERM": "xterm-256color", "COLUMNS": str(SIZE[0]), "LINES": str(SIZE[1])}
    # Bytecode as an installed package has it (pip compiles on install), kept out of the work tree.
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    for name in ("PYTHONDONTWRITEBYTECODE", "WALLETCONNECT_PROJECT_ID"):
        env.pop(name, None)
    for warm_up in (
        [PYTHON, "-c", "import textual.app, walletsync.cli, walletsync.app.app, walletsync.commands.relay"],
    ):
        subprocess.run(warm_up, env=env, cwd=ROOT, check=True)
    relay, url = start_relay(env)
    app = [PYTHON, "-m", "walletsync", "--relay", url, "--data-dir", str(home / "data")]
    try:
        python = median_ms(lambda: until_exit([PYTHON, "-c", "pass"], env), runs)
        textual = median_ms(lambda: until_exit([PYTHON, "-c", "import textual"], env), runs)
        hello = median_ms(lambda: until_text([PYTHON, "-c", HELLO_APP], env, (b"hello from textual",)), runs)
        first = until_text(app, env, (b"Scan with your phone wallet",)) * 1000  # creates the keys and the database
        pairing = median_ms(lambda: until_text(app, env, (b"Scan with your phone wallet",)), runs)
        qr_shown = median_ms(lambda: until_text(app, env, (b"Expires in",)), runs)
        _link_a_session(home / "data", url, env)
        sessions = median_ms(lambda: until_text(app, env, (b"Sessions",)), runs)
    finally:
        relay.terminate()
        relay.wait()
        shutil.rmtree(home, ignore_errors=True)
    print(
        f"baselines (median of {runs}): python -c pass {python:.0f} ms · python -c 'import textual' {textual:.0f} ms · one-line Textual app, first paint {hello:.0f} ms"
    )
    print(f"walletsync first start (creates keys + database), pairing screen painted: {first:.0f} ms")
    for label, ms in (
        ("pairing screen painted", pairing),
        ("pairing QR + URI shown (relay round trip)", qr_shown),
        ("session list painted", sessions),
    ):
        print(
            f"walletsync {label}: {ms:.0f} ms  (= {ms / python:.1f}× python -c pass, {ms / textual:.2f}× import textual, {ms / hello:.2f}× the one-line Textual app)"
        )


def _link_a_session(data: Path, url: str, env: dict[str, str]) -> None:
    """Pair the reference phone wallet once, so the next starts open on the session list."""
    pair = subprocess.Popen(
        [PYTHON, "-m", "walletsync", "pair", "--json", "--relay", url, "--data-dir", str(data), "--no-qr"],
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        text=True,
    )
    uri = json.loads(pair.stdout.readline())["uri"]  # type: ignore[union-attr]
    phone = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "walletsync",
            "phone",
            uri,
            "--approve",
            "--json",
            "--relay",
            url,
            "--data-dir",
            str(data / "phone"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    try:
        pair.wait(30)
    finally:
        phone.terminate()
        phone.wait()


def qr_render(runs: int) -> None:
    import asyncio

    from walletsync.app.widgets import qr as qr_widget
    from walletsync.protocol.uri import PairingUri, format_uri
    from walletsync.qr import half_block_rows, qr_matrix

    uri = format_uri(PairingUri.create(os.urandom(32), expiry_timestamp=int(time.time()) + 300))

    def matrix_and_rows() -> float:
        started = time.perf_counter()
        half_block_rows(qr_matrix(uri, quiet_zone=4))
        return time.perf_counter() - started

    first = matrix_and_rows() * 1000  # imports qrcode (and PIL behind it), as the app's first QR does
    text = median_ms(matrix_and_rows, runs)

    async def widget() -> float:
        from textual.app import App

        class QrApp(App[None]):
            def compose(self):
                yield qr_widget.QrCode(uri)

        times = []
        async with QrApp().run_test(size=SIZE) as pilot:
            await pilot.pause()
            code = pilot.app.query_one(qr_widget.QrCode)
            for _ in range(runs):
                qr_widget._rows.cache_clear()
                started = time.perf_counter()
                for y in range(code.size.height):
                    code.render_line(y)
                times.append(time.perf_counter() - started)
        return statistics.median(times)

    full = asyncio.run(widget()) * 1000
    print(
        f"QR for a {len(uri)}-char wc: URI (median of {runs}, uncached): qr_matrix + half_block_rows {text:.1f} ms; whole QrCode widget, every line at {SIZE[0]}x{SIZE[1]} {full:.1f} ms; first QR of the process (imports qrcode) {first:.1f} ms"
    )


def main() -> None:
    under_a_keyring()
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    startup(runs)
    qr_render(max(runs, 20))


if __name__ == "__main__":
    main()
