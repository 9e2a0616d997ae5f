"""Editing what a pairing asks for, against a real relay and a Python wallet."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from tests.app.conftest import GRANTED, until
from tests.app.screen import decode_qr, widget_text
from tests.pypeer import py_peer
from walletsync.app import build_app
from walletsync.app.screens.pairing import PairingScreen
from walletsync.app.screens.scopes import Scopes, ScopesScreen
from walletsync.app.screens.sessions import SessionsScreen
from walletsync.protocol import events as ev


def error_text(app) -> str:
    return str(app.screen.query_one("#scopes-error", Static).render())


async def test_new_scopes_make_a_new_qr_that_asks_for_them(companion):
    """o opens the scopes dialog; "eip155" as a chain gets an inline error and the dialog stays; "eip155:1, eip155:137"
    closes it, the summary line and the QR change, and a wallet scanning the new QR is asked for both chains."""
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(
            pilot,
            lambda: isinstance(app.screen, PairingScreen) and app.screen.offer is not None,
            what="a pairing offer",
        )
        pairing, first = app.screen, app.screen.offer
        assert "Asks for Ethereum (eip155:1) · methods: personal_sign" in widget_text(app, "#pairing-scopes")
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ScopesScreen))
        chains = app.screen.query_one("#scopes-chains", Input)
        assert (
            chains.value == "eip155:1"
            and app.screen.query_one("#scopes-events", Input).value == "chainChanged, accountsChanged"
        )

        chains.value = "eip155"
        await pilot.press("enter")
        await until(pilot, lambda: "is not a CAIP-2 chain id" in error_text(app), what="the inline error")
        assert "'eip155' is not a CAIP-2 chain id" in error_text(app) and isinstance(app.screen, ScopesScreen)

        chains.value = "eip155:1, eip155:137"
        await pilot.press("enter")
        await until(
            pilot,
            lambda: app.screen is pairing and pairing.offer is not None and pairing.offer.uri != first.uri,
            what="a new URI",
        )
        await pilot.pause()
        assert "Asks for Ethereum (eip155:1), Polygon (eip155:137)" in " ".join(
            widget_text(app, "#pairing-scopes").split()
        )
        uri = pairing.offer.uri
        assert decode_qr(app) == [uri]

        wallet = await py_peer(companion.relay.url, "py-wallet")
        try:
            await wallet.run(wallet.engine.pair(uri, wallet.now()))
            proposal = (await wallet.next_event(ev.ProposalReceived)).proposal
            assert proposal.optional_namespaces["eip155"]["chains"] == ["eip155:1", "eip155:137"]
            await wallet.run(wallet.engine.approve(proposal.id, GRANTED, wallet.now()))
            await until(
                pilot, lambda: isinstance(app.screen, SessionsScreen) and app.screen.records, what="the linked session"
            )
        finally:
            await wallet.close()


def test_scopes_are_read_like_the_cli_reads_them():
    """Comma-separated, blanks dropped; chains must be CAIP-2 and there must be one."""
    assert Scopes.parse(" eip155:1 ,, eip155:10", "personal_sign", "") == Scopes(
        ("eip155:1", "eip155:10"), ("personal_sign",), ()
    )
    for bad, says in (("", "at least one chain"), ("eip155:1, 1", "'1' is not a CAIP-2"), ("a:b:c", "'a:b:c' is not")):
        with pytest.raises(ValueError, match=says):
            Scopes.parse(bad, "", "")
