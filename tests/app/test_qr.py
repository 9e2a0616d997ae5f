"""The pairing QR as a phone camera sees it: scannable in every theme, or a clear message."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Footer, Static

from tests.app.screen import decode_qr, screen_text, widget_text
from walletsync.app.widgets.qr import QrCode

URI = (
    "wc:7f6e504bfad60b485450578e05678ed3e8e8c4751d3c6160be17160d63ec90f9@2"
    "?relay-protocol=irn&symKey=587d5484ce2a2a6ee3ba1962fdd7e8588e06200c46823bd18fbd67def96ad303"
    "&expiryTimestamp=1800000300"
)


class QrApp(App[None]):
    """The QR with a line above and a footer below, like the pairing screen."""

    def __init__(self, uri: str, theme: str) -> None:
        super().__init__()
        self.uri, self.start_theme = uri, theme

    def compose(self) -> ComposeResult:
        yield Static("Scan with your phone wallet")
        yield QrCode(self.uri)
        yield Static(self.uri)
        yield Footer()

    def on_mount(self) -> None:
        self.theme = self.start_theme


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_the_qr_scans_back_to_the_uri(theme):
    """A person sees a black-on-white QR (with a white quiet zone) in both themes; a phone reads the URI from it."""
    app = QrApp(URI, theme)
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.pause()
        assert app.theme == theme
        assert decode_qr(app) == [URI]


async def test_a_tight_terminal_uses_a_narrower_quiet_zone():
    """At 80×32 the QR still fits with a 2-module quiet zone and still scans."""
    app = QrApp(URI, "textual-dark")
    async with app.run_test(size=(80, 32)) as pilot:
        await pilot.pause()
        qr = app.query_one(QrCode)
        assert qr.size.height < 29  # no room for the 4-module quiet zone
        rows = qr.layout_rows()
        assert rows is not None and len(rows[0]) == 49 + 2 * 2
        assert decode_qr(app) == [URI]


async def test_too_small_terminal_says_how_big_it_must_be():
    """At 40×15 there is no broken QR, only a message naming the size needed and pointing to the URI."""
    app = QrApp(URI, "textual-dark")
    async with app.run_test(size=(40, 15)) as pilot:
        await pilot.pause()
        qr = app.query_one(QrCode)
        assert qr.layout_rows() is None
        text = " ".join(screen_text(app).split())
        width, height = qr.needed_terminal()
        assert f"Make the terminal at least {width}×{height} to show the QR" in text
        assert "copy the URI below" in text
        assert "█" not in text and "▀" not in text
        assert decode_qr(app) == []


async def test_the_size_asked_for_is_enough():
    """The pairing screen at 80×24 asks for a bigger terminal; at the size it names, the QR shows and scans."""
    from tests.app.fakes import URI as FAKE_URI
    from tests.app.fakes import FakeCompanion
    from walletsync.app import build_app

    app = build_app(FakeCompanion([]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        width, height = app.screen.query_one(QrCode).needed_terminal()
        assert "Make the terminal at least" in " ".join(screen_text(app).split())
    app = build_app(FakeCompanion([]))
    async with app.run_test(size=(width, height)) as pilot:
        await pilot.pause()
        assert decode_qr(app) == [FAKE_URI]


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_a_wide_terminal_puts_the_text_beside_the_qr(theme):
    """At 120×40 a person sees the QR on the left and the URI, expiry, scopes, relay and hint beside it, all of it
    above the status bar; the QR still scans in both themes with text next to it."""
    from tests.app.fakes import URI as FAKE_URI
    from tests.app.fakes import FakeCompanion
    from walletsync.app import build_app

    app = build_app(FakeCompanion([]))
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = theme
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        qr, text, status = (screen.query_one(s).region for s in ("#qr", "#pairing-text", "#status-bar"))
        assert screen.has_class("-wide") and qr.right <= text.x and qr.y == text.y
        hint = screen.query_one("#pairing-hint").region
        assert hint.bottom <= status.y and "".join(widget_text(app, "#pairing-hint").split()).endswith(
            "walletsyncphone"
        )
        assert decode_qr(app) == [FAKE_URI]


async def test_a_narrow_terminal_stacks_the_text_under_the_qr():
    """At 80×50 the QR is on top and the text below it, and the QR scans."""
    from tests.app.fakes import URI as FAKE_URI
    from tests.app.fakes import FakeCompanion
    from walletsync.app import build_app

    app = build_app(FakeCompanion([]))
    async with app.run_test(size=(80, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        qr, text, status = (screen.query_one(s).region for s in ("#qr", "#pairing-text", "#status-bar"))
        assert screen.has_class("-narrow") and qr.bottom <= text.y and text.bottom <= status.y
        assert decode_qr(app) == [FAKE_URI]
