"""Setting a session's policy in the app: ``p`` on the detail opens the form of ``policy set``, prefilled with the
session's own policy; the service checks and saves it. A real relay, Python wallet and policy file."""

from __future__ import annotations

from textual.widgets import Input, Static

from tests.app.conftest import until
from tests.app.test_detail import open_detail
from tests.app.test_what_you_sign import policy_text
from walletsync.app import build_app
from walletsync.app.screens.detail import SessionDetailScreen
from walletsync.app.screens.policy_form import PolicyFormScreen


async def open_form(pilot) -> PolicyFormScreen:
    await until(pilot, lambda: pilot.app.screen.policy is not None, what="the policy read")
    await pilot.press("p")
    await until(pilot, lambda: isinstance(pilot.app.screen, PolicyFormScreen), what="the policy form")
    return pilot.app.screen


def field(app, key: str) -> Input:
    return app.screen.query_one(f"#policy-{key}", Input)


def form_error(app) -> str:
    return str(app.screen.query_one("#policy-form-error", Static).render())


async def test_p_sets_a_cap_the_section_and_the_service_show_it(companion, paired):
    """p opens "Policy of '…'" with empty fields (no policy yet); 0.5 ETH a day on Ethereum and 100 requests an hour,
    ^s: the form closes, the Policy section shows the cap and ``policy show --json`` (through the service) has it.
    p again: the form holds what is in force, written as ``policy set`` takes it."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_detail(pilot, session.topic)
        await open_form(pilot)
        assert field(app, "native").value == "" and field(app, "chains").value == ""
        field(app, "native").value = "eip155:1=0.5"
        field(app, "rate").value = "100"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SessionDetailScreen), what="the form closed")
        await until(pilot, lambda: "0.5 ETH" in policy_text(app), what="the cap shown")
        assert "at most    0.5 ETH a day on Ethereum (eip155:1)" in policy_text(app)
        document = companion.policy(session.topic).to_json()
        assert document["policy"]["max_native_per_day"] == [{"chain": "eip155:1", "per_day": "0.5"}]
        assert document["policy"]["max_requests_per_hour"] == 100 and document["file"]["attested"] is True

        await open_form(pilot)
        assert field(app, "native").value == "eip155:1=0.5" and field(app, "rate").value == "100"


async def test_a_bad_amount_keeps_the_form_with_the_error_and_cancel_changes_nothing(companion, paired):
    """An amount with more decimals than ETH has: ^s leaves the form open, "Not saved: --max-native-per-day…" under
    the fields, the amount still typed, nothing written. esc then closes it: the session still has no policy."""
    wallet, session = paired
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_detail(pilot, session.topic)
        await open_form(pilot)
        too_fine = "0." + "1" * 19
        field(app, "native").value = too_fine
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form_error(app).startswith("Not saved: "), what="the error")
        assert "decimals" in form_error(app), form_error(app)
        assert isinstance(app.screen, PolicyFormScreen) and field(app, "native").value == too_fine
        assert companion.policy(session.topic).own is None

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionDetailScreen), what="the form cancelled")
        assert companion.policy(session.topic).own is None
        assert "This session  no policy" in policy_text(app)


async def test_an_unattested_file_is_said_and_the_save_refused(companion, paired):
    """A policy file edited by hand: the form says UNATTESTED with why, and ^s is refused with the service's words
    (attest or clear first); the file keeps the hand edit."""
    wallet, session = paired
    view = companion.set_policy(session.topic, max_native_per_day=["eip155:1=0.1"])
    edited = view.status.path.read_text().replace('"0.1"', '"100"')
    view.status.path.write_text(edited)
    app = build_app(companion)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_detail(pilot, session.topic)
        await open_form(pilot)
        notice = str(app.screen.query_one("#policy-form-unattested", Static).render())
        assert notice.startswith("UNATTESTED — saving is refused")
        field(app, "rate").value = "5"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form_error(app).startswith("Not saved: "), what="the refusal")
        assert "attest" in form_error(app), form_error(app)
        assert isinstance(app.screen, PolicyFormScreen) and view.status.path.read_text() == edited


def test_an_allow_list_of_not_one_survives_the_form_unchanged():
    """A policy allowing no chain, method or recipient reads "none" in the form, and saving that text unchanged
    keeps "not one" — an empty field would mean "any", loosening the policy."""
    from walletsync.app.screens.policy_form import PolicyInput
    from walletsync.policy.model import Policy

    text = PolicyInput.of(Policy(chains=frozenset(), methods=frozenset(), recipients=frozenset()))
    assert (text.chains, text.methods, text.recipients) == ("none", "none", "none")
    limits = text.limits()
    assert (limits["chains"], limits["methods"], limits["recipients"]) == ([], [], [])
    assert PolicyInput().limits()["chains"] is None, "an empty field is still no limit"
