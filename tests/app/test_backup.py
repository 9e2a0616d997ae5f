"""Backups in the app: the Backup screen and its form, the share ceremony, the backup line under the sessions, and
restoring from a backup on the first screen.

The fake companion makes backups in memory (its shares are SLIP-39 test-vector words); restoring reads real backup
files (tests/app/backups.py). One test makes a real backup through the app with a real companion.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tests.app.backups import backup_file
from tests.app.conftest import record_notifications, until
from tests.app.fakes import NOW, OTHER_SET_SHARE, SHARES, FakeCompanion, session
from tests.app.scenes import sessions_shown
from tests.app.scenes.backup import MISTYPED, restoring
from tests.app.screen import widget_text
from walletsync.app import build_app
from walletsync.app.screens.backup import BackupScreen
from walletsync.app.screens.backup_form import BackupFormScreen
from walletsync.app.screens.ceremony import ShareCeremonyScreen, share_check, word_columns
from walletsync.app.screens.linking import PasteLinkScreen
from walletsync.app.screens.modals import ConfirmScreen
from walletsync.app.screens.pairing import PairingScreen
from walletsync.app.screens.restore import RestoredScreen, RestoreScreen
from walletsync.app.screens.sessions import SessionsScreen
from walletsync.service import BackupAge, RestoredHere, ShareSpec, backup

PASSPHRASE = "correct horse battery staple"


def text(app, selector: str) -> str:
    return " ".join(widget_text(app, selector).split())


def fill(app, **fields: str) -> None:
    """Set the fields of the screen on top by id (``backup_file`` → ``#backup-file``)."""
    for name, value in fields.items():
        app.screen.query_one(f"#{name.replace('_', '-')}", Input).value = value


async def form(pilot) -> None:
    await sessions_shown(pilot)
    await pilot.press("k")
    await until(pilot, lambda: isinstance(pilot.app.screen, BackupScreen), what="the Backup screen")
    await pilot.press("m")
    await until(pilot, lambda: isinstance(pilot.app.screen, BackupFormScreen), what="the form")


async def choose_shares(pilot) -> None:
    await pilot.click("#backup-by-shares")
    await until(pilot, lambda: pilot.app.screen.has_class("-by-shares"))


# --- making a backup ------------------------------------------------------------------------------------


async def test_a_backup_with_a_passphrase(tmp_path):
    """k, m, a passphrase typed twice, ^s: the backup is made (with the passphrase, no shares) in the file named,
    a notification names the file (never the passphrase), and the screen now says nothing changed since."""
    fake = FakeCompanion([session(1, "phone")])
    fake.age = BackupAge(None, True)
    app = build_app(fake)
    seen = record_notifications(app)
    output = tmp_path / "b.wsbackup"
    async with app.run_test(size=(120, 40)) as pilot:
        await form(pilot)
        assert app.screen.query_one("#backup-file", Input).value.startswith("walletsync-backup-")
        fill(app, backup_file=str(output), backup_phrase_1=PASSPHRASE, backup_phrase_2=PASSPHRASE)
        assert all(i.password for i in app.screen.query(Input) if i.id and "phrase" in i.id)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: fake.made and isinstance(app.screen, BackupScreen), what="the backup")
        await until(pilot, lambda: "Nothing worth keeping changed since" in text(app, "#backup-age"))
        assert f"Wrote {output}." in text(app, "#backup-done")
    assert fake.made == [(output, True, None)]
    assert seen == [f"Backup written to {output}"]


@pytest.mark.parametrize(
    ("shares", "fields", "said"),
    [
        (False, {"backup_phrase_1": "", "backup_phrase_2": ""}, "Type a passphrase: an empty one protects nothing."),
        (False, {"backup_phrase_1": PASSPHRASE, "backup_phrase_2": PASSPHRASE + "!"}, "The two passphrases differ."),
        (False, {"backup_file": ""}, "Name the file to write."),
        (True, {"backup_count": "3", "backup_threshold": "1"}, "3 shares, any 1: a threshold of 1 with several"),
        (True, {"backup_count": "2", "backup_threshold": "3"}, "2 shares, any 3: a threshold of 3 of 2 shares"),
        (True, {"backup_count": ""}, "Say how many shares, and how many of them restore the backup."),
        (True, {"backup_groups": "2/3, three"}, "Write each group T/N, separated by commas"),
        (True, {"backup_groups": "2/3, 3/5", "backup_group_threshold": "3"}, "groups 2/3, 3/5, any 3: the group"),
    ],
)
async def test_the_form_says_what_is_missing(shares, fields, said, tmp_path):
    """^s on an incomplete or unsound form says why in the form, which stays open, and makes nothing."""
    fake = FakeCompanion([session(1, "phone")])
    app = build_app(fake)
    async with app.run_test(size=(120, 50)) as pilot:
        await form(pilot)
        fill(app, backup_file=str(tmp_path / "b.wsbackup"))
        if shares:
            await choose_shares(pilot)
        fill(app, **fields)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, BackupFormScreen)
        assert text(app, "#backup-form-error").startswith(said)
    assert fake.made == []


async def test_the_form_never_writes_over_a_file(tmp_path):
    """A file that exists already is refused in the form (backup create refuses it too)."""
    existing = tmp_path / "old.wsbackup"
    existing.write_bytes(b"keep me")
    fake = FakeCompanion([session(1, "phone")])
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await form(pilot)
        fill(app, backup_file=str(existing), backup_phrase_1=PASSPHRASE, backup_phrase_2=PASSPHRASE)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "already exists: name a new file" in text(app, "#backup-form-error")
    assert fake.made == [] and existing.read_bytes() == b"keep me"


async def test_shares_with_a_passphrase_and_a_share_passphrase(tmp_path):
    """Shares 5, any 3, a passphrase as well and a SLIP-39 passphrase: the order carries all of it."""
    fake = FakeCompanion([session(1, "phone")])
    app = build_app(fake)
    async with app.run_test(size=(120, 60)) as pilot:
        await form(pilot)
        await choose_shares(pilot)
        await pilot.click("#backup-with-passphrase")
        await pilot.click("#backup-share-passphrase")
        fill(
            app,
            backup_file=str(tmp_path / "b.wsbackup"),
            backup_count="5",
            backup_threshold="3",
            backup_phrase_1=PASSPHRASE,
            backup_phrase_2=PASSPHRASE,
            backup_share_phrase_1="TREZOR",
            backup_share_phrase_2="TREZOR",
        )
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ShareCeremonyScreen), what="the ceremony")
    assert fake.made == [(tmp_path / "b.wsbackup", True, ShareSpec.simple(3, 5, "TREZOR"))]


# --- the share ceremony ----------------------------------------------------------------------------------


async def ceremony(pilot, tmp_path: Path) -> None:
    await form(pilot)
    await choose_shares(pilot)
    fill(pilot.app, backup_file=str(tmp_path / "b.wsbackup"))
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(pilot.app.screen, ShareCeremonyScreen), what="the ceremony")


async def test_the_ceremony_shows_each_share_once_then_checks_them(tmp_path):
    """Share 1 of 2 with its words numbered, ⏎, share 2, ⏎, then the check: a mistyped word is named, a share of
    another set is told apart, a right one "checks out". No share word ever reaches a notification, and the shares
    are gone with the screen."""
    fake = FakeCompanion([session(1, "phone")])
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await ceremony(pilot, tmp_path)
        screen = app.screen
        assert text(app, "#ceremony-which") == "Share 1 of 2 — any 2 of the 2 shares restore it"
        assert "1. humidity" in text(app, "#ceremony-words") and "33. unwrap" in text(app, "#ceremony-words")
        await pilot.press("enter")
        assert text(app, "#ceremony-which") == "Share 2 of 2 — any 2 of the 2 shares restore it"
        assert "33. upgrade" in text(app, "#ceremony-words")
        await pilot.press("p")  # back one: an enter pressed twice skips no share for good
        assert text(app, "#ceremony-which") == "Share 1 of 2 — any 2 of the 2 shares restore it"
        await pilot.press("enter", "enter")
        await until(pilot, lambda: screen.has_class("-checking"))
        for typed, said in (
            (MISTYPED, "Not right: this share: word 16 is not in the SLIP-39 word list"),
            (OTHER_SET_SHARE, "That is a valid share, but of another backup's share set."),
            (SHARES[0].upper(), "Share 1 of 2 checks out: written down right."),
        ):
            fill(app, ceremony_typed=typed)
            await pilot.press("enter")
            await pilot.pause()
            assert text(app, "#ceremony-verdict").startswith(said), text(app, "#ceremony-verdict")
        assert text(app, "#ceremony-checked") == "Checked: share 1 of 2."
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BackupScreen), what="the Backup screen again")
        assert screen._shares == []
    words = {w for share in SHARES for w in share.split()}
    assert not any(w in note.split() for note in seen for w in words), seen


@pytest.mark.parametrize("answer", ["n", "y"])
async def test_leaving_the_ceremony_early_asks_first(answer, tmp_path):
    """Escape while shares are still to be shown asks first (they are shown once): n stays, y leaves."""
    app = build_app(FakeCompanion([session(1, "phone")]))
    async with app.run_test(size=(120, 40)) as pilot:
        await ceremony(pilot, tmp_path)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "shown only this once" in app.screen.question
        await pilot.press(answer)
        expected = BackupScreen if answer == "y" else ShareCeremonyScreen
        await until(pilot, lambda: isinstance(app.screen, expected), what=expected.__name__)


async def test_the_share_qr_holds_the_share():
    """r shows the share as a QR a camera reads back as the share's words (in capitals: SLIP-39 is case-blind); once
    the ceremony closes, no QR drawn from a share is kept."""
    from tests.app.screen import decode_qr

    app = build_app(FakeCompanion([session(1, "phone")]))
    async with app.run_test(size=(120, 42)) as pilot:
        await sessions_shown(pilot)
        await app.push_screen(
            ShareCeremonyScreen(list(SHARES), ["share 1 of 2", "share 2 of 2"], "any 2 of the 2 shares", "b.wsbackup")
        )
        await pilot.press("r")
        await pilot.pause()
        assert decode_qr(app) == [SHARES[0].upper()]
        await pilot.press("enter", "enter", "escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen), what="the ceremony closed")
    from walletsync.app.widgets.qr import _rows

    assert _rows.cache_info().currsize == 0  # no share kept for redrawing


def test_share_words_in_columns():
    """33 words: three columns of 11, numbered down each column."""
    lines = word_columns(SHARES[0]).splitlines()
    assert len(lines) == 11
    assert lines[0].split() == ["1.", "humidity", "12.", "duckling", "23.", "survive"]
    assert lines[10].split() == ["11.", "amuse", "22.", "brother", "33.", "unwrap"]


def test_share_check_names_the_share():
    assert share_check(SHARES[1], SHARES, ["share 1 of 2", "share 2 of 2"])[0] == 2
    assert share_check("humidity", SHARES, ["share 1 of 2", "share 2 of 2"]) == (
        None,
        "Not right: this share has 1 words; a share has 20 or 33. Look at the paper again.",
    )


# --- the backup line under the session table ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sessions", "age", "line"),
    [
        ([session(1, "phone")], BackupAge(None, True), "No backup yet — press k to make one."),
        (
            [session(1, "phone")],
            BackupAge(NOW - 3 * 86400, True),
            "The newest backup (3d ago) is older than your latest changes — press k for a new one.",
        ),
        ([session(1, "phone")], BackupAge(NOW - 3 * 86400, False), None),
        ([session(1, "phone", status="revoked")], BackupAge(None, True), "No backup yet — press k to make one."),
    ],
)
async def test_the_backup_line(sessions, age, line):
    """A quiet line under the table when there is no backup yet or the newest is older than a change; none else."""
    fake = FakeCompanion(sessions)
    fake.age = age
    app = build_app(fake)
    async with app.run_test(size=(120, 24)) as pilot:
        await sessions_shown(pilot)
        shown_line = app.screen.query_one("#sessions-backup")
        await until(pilot, lambda: shown_line.display == (line is not None), what="the line")
        if line is not None:
            assert text(app, "#sessions-backup") == line


async def test_the_backup_line_goes_once_a_backup_is_made(tmp_path):
    """Back from the Backup screen after making one, the line is gone."""
    fake = FakeCompanion([session(1, "phone")])
    fake.age = BackupAge(None, True)
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await form(pilot)
        fill(app, backup_file=str(tmp_path / "b.wsbackup"), backup_phrase_1=PASSPHRASE, backup_phrase_2=PASSPHRASE)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: fake.made and isinstance(app.screen, BackupScreen), what="the backup")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        await until(pilot, lambda: not app.screen.query_one("#sessions-backup").display, what="the line gone")


# --- restoring on the first screen ------------------------------------------------------------------------------


async def restore_dialog(pilot, path: Path) -> RestoreScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, PairingScreen), what="the first screen")
    await pilot.press("r")
    await until(pilot, lambda: isinstance(pilot.app.screen, RestoreScreen), what="the restore dialog")
    dialog = pilot.app.screen
    fill(pilot.app, restore_file=str(path))
    await pilot.press("enter")
    await until(pilot, lambda: dialog.stage != "opening", what="the file read")
    return dialog


async def test_restore_with_the_passphrase(tmp_path):
    """r, the file, a wrong passphrase (said, asked again), the right one: the session list with the restored
    sessions, and over it what came back from whom — the hostile name shown as data — and the offer to join the
    group (j opens the link dialog)."""
    path = tmp_path / "b.wsbackup"
    backup_file(path, passphrase=PASSPHRASE, made_by="old [b]laptop[/b]\x1b[31m")
    fake = restoring()
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await restore_dialog(pilot, path)
        assert dialog.stage == "passphrase"
        fill(app, restore_passphrase="wrong")
        await pilot.press("enter")
        await until(pilot, lambda: dialog.stage == "passphrase" and text(app, "#restore-error"), what="refused")
        assert text(app, "#restore-error").startswith("Not opened:")
        fill(app, restore_passphrase=PASSPHRASE)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RestoredScreen), what="what came back")
        said = text(app, "#restored-what")
        assert said.startswith("2 sessions came back from the backup made 2027-01-14 08:00 UTC by 'old [b]laptop[/b]")
        assert "\x1b" not in said and "\\x1b" in said
        assert "was in a device group" in text(app, "#restored-group")
        assert isinstance(app.screen_stack[-2], SessionsScreen)
        assert len(app.screen_stack) == 3  # the default screen, the sessions (in the pairing's place), this
        await pilot.press("j")
        await until(pilot, lambda: isinstance(app.screen, PasteLinkScreen), what="the link dialog")


async def test_restore_with_shares_checks_each_as_entered(tmp_path):
    """The shares one by one: a mistyped word named, a share of another set, a repeat — each said at once and not
    taken; then the second share, an empty SLIP-39 passphrase, and the backup comes back (no group: no offer)."""
    path = tmp_path / "b.wsbackup"
    shares = backup_file(path, spec=ShareSpec.simple(2, 3))
    fake = restoring()
    fake.restore_group = None
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await restore_dialog(pilot, path)
        assert dialog.stage == "shares"
        for typed, said in (
            (shares[0], ""),
            (MISTYPED, "This share: word 16 is not in the SLIP-39 word list (mistyped?): type it again."),
            (OTHER_SET_SHARE, "This share is valid but belongs to another backup's share set"),
            (shares[0], "You entered this share already: type another one."),
        ):
            fill(app, restore_share=typed)
            await pilot.press("enter")
            await pilot.pause()
            assert text(app, "#restore-error").startswith(said), text(app, "#restore-error")
        assert text(app, "#restore-shares-taken") == "Share 1: checksum ok"
        fill(app, restore_share=shares[2])
        await pilot.press("enter")
        await until(pilot, lambda: dialog.has_class("-enough"))
        await pilot.press("enter")  # no SLIP-39 passphrase
        await until(pilot, lambda: isinstance(app.screen, RestoredScreen), what="what came back")
        assert not app.screen.query("#restored-group") and not app.screen.query("#restored-join")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen) and app.screen.records)
        assert sorted(r.name for r in app.screen.records.values()) == ["ledger", "phone"]


async def test_a_backup_with_both_opens_with_shares_too(tmp_path):
    """A backup that opens with either: the passphrase is asked first, ^t takes shares instead."""
    path = tmp_path / "b.wsbackup"
    shares = backup_file(path, passphrase=PASSPHRASE, spec=ShareSpec.simple(2, 2))
    app = build_app(restoring())
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await restore_dialog(pilot, path)
        assert dialog.stage == "passphrase"
        await pilot.press("ctrl+t")
        assert dialog.stage == "shares"
        for share in shares:
            fill(app, restore_share=share)
            await pilot.press("enter")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RestoredScreen), what="what came back")


@pytest.mark.parametrize(
    ("content", "said"),
    [(None, "cannot read"), (b"not a backup at all", "")],
)
async def test_a_file_that_is_no_backup_is_said(content, said, tmp_path):
    """A missing file or one that is no backup: said under the path, which is asked again."""
    path = tmp_path / "b.wsbackup"
    if content is not None:
        path.write_bytes(content)
    app = build_app(restoring())
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await restore_dialog(pilot, path)
        assert dialog.stage == "file"
        assert said in text(app, "#restore-error") and text(app, "#restore-error")


async def test_a_device_that_is_not_fresh_is_refused(tmp_path):
    """The façade refuses a device with sessions (nothing changed): the dialog says so and offers only Close."""
    path = tmp_path / "b.wsbackup"
    backup_file(path, passphrase=PASSPHRASE)
    fake = FakeCompanion([session(1, "phone")])
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await sessions_shown(pilot)
        await pilot.press("n")
        dialog = await restore_dialog(pilot, path)
        fill(app, restore_passphrase=PASSPHRASE)
        await pilot.press("enter")
        await until(pilot, lambda: dialog.stage == "ended", what="refused")
        assert text(app, "#restore-error").startswith("Not restored: this device is not fresh")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PairingScreen))
    assert [s.name for s in fake.sessions()] == ["phone"]


# --- with a real companion ----------------------------------------------------------------------------------


async def test_a_real_backup_made_through_the_app(companion, paired, tmp_path):
    """A real companion with a session: k, m, a passphrase — the file opens with it and holds that session, the
    Backup screen says nothing changed since, and the audit log has the backup_made row."""
    output = tmp_path / "real.wsbackup"
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await form(pilot)
        fill(app, backup_file=str(output), backup_phrase_1=PASSPHRASE, backup_phrase_2=PASSPHRASE)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Nothing worth keeping changed since" in text(app, "#backup-age"), timeout=30)
    opened = backup.read(output.read_bytes(), passphrase=PASSPHRASE)
    assert backup.check(opened).sessions == 1
    assert companion.audit_entries()[-1].kind == "backup_made"


# --- the keys -----------------------------------------------------------------------------------------------


async def test_the_keys_of_the_backup_screens(tmp_path):
    """? lists the Backup screen's keys (m Make a backup, esc Back) and, over the ceremony, its own (⏎ I have written
    it down, r QR code, esc Leave); k is listed on the session list (test_keys checks every key of that screen)."""
    from tests.app.test_keys import keys_shown
    from walletsync.app.screens.keys import KeysScreen

    app = build_app(FakeCompanion([session(1, "phone")]))
    async with app.run_test(size=(120, 40)) as pilot:
        await form(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BackupScreen))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen), what="the keys")
        await pilot.pause()
        lines = keys_shown(app).splitlines()
        assert "Keys — Backup" in lines and "m Make a backup" in lines and "esc Back" in lines
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BackupScreen))
        await app.push_screen(
            ShareCeremonyScreen(list(SHARES), ["share 1 of 2", "share 2 of 2"], "any 2 of the 2 shares", "b.wsbackup")
        )
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen), what="the keys")
        await pilot.pause()
        lines = keys_shown(app).splitlines()
        assert "⏎ I have written it down" in lines and "r QR code" in lines and "esc Leave" in lines
        assert "p Previous share" not in lines  # on the first share


async def test_a_restore_that_ends_under_the_keys_help_is_shown_after_it():
    """The restore finishes while ? is open over the dialog: what came back is shown once the help closes."""
    from walletsync.app.screens.keys import KeysScreen

    app = build_app(restoring())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PairingScreen))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        dialog = app.screen
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen))
        dialog.close(RestoredHere(2, NOW, "old", "cd" * 16, None))
        await pilot.pause()
        assert isinstance(app.screen, KeysScreen)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RestoredScreen), what="what came back")


async def test_enter_goes_from_field_to_field(tmp_path):
    """In the form, enter goes to the next field shown (the passphrase, then its repeat), and makes the backup from
    the last one."""
    fake = FakeCompanion([session(1, "phone")])
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await form(pilot)
        fill(app, backup_file=str(tmp_path / "b.wsbackup"))
        app.screen.query_one("#backup-file", Input).focus()
        await pilot.press("enter")
        assert app.focused is app.screen.query_one("#backup-phrase-1")
        await pilot.press(*"secret", "enter")
        assert app.focused is app.screen.query_one("#backup-phrase-2")
        await pilot.press(*"secret", "enter")
        await until(pilot, lambda: fake.made, what="the backup")
    assert fake.made == [(tmp_path / "b.wsbackup", True, None)]


async def test_an_unexpected_error_is_said_in_the_dialog_and_notified(tmp_path):
    """A restore that fails in an unforeseen way says so in the dialog (not stuck on "Restoring…") and the screen's
    worker-error handler names the error."""
    path = tmp_path / "b.wsbackup"
    backup_file(path, passphrase=PASSPHRASE)
    fake = restoring()

    def broken(opened):
        raise RuntimeError("the disk is full")

    fake.restore_backup = broken  # type: ignore[method-assign]
    app = build_app(fake)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await restore_dialog(pilot, path)
        fill(app, restore_passphrase=PASSPHRASE)
        await pilot.press("enter")
        await until(pilot, lambda: dialog.stage == "ended", what="the ending")
        assert text(app, "#restore-error") == "Not restored: something went wrong (see the notification)."
        await until(pilot, lambda: seen, what="the notification")
    assert seen == ["RuntimeError: the disk is full"]


async def test_a_real_restore_on_the_first_screen(companion, tmp_path):
    """A real fresh companion: r, a real backup of another device with a paired phone, its passphrase — the app
    says one session came back and lists it, and the phone answers a request on it from this new device."""
    import asyncio

    from tests.app.conftest import answer_next_request, approve
    from tests.pypeer import TEST_ADDRESS
    from walletsync.service import Companion, Config

    old = await Companion.open(Config(data_dir=str(tmp_path / "old"), relay=companion.relay.url))
    await old.start()
    offer = await old.pair()
    wallet = await approve(companion.relay.url, offer.uri)
    try:
        session = await old.wait_for_session(offer.proposal_id, timeout=20)
        old.create_backup(tmp_path / "b.wsbackup", passphrase=PASSPHRASE, spec=None)
        await old.close()
        app = build_app(companion)
        async with app.run_test(size=(120, 40)) as pilot:
            dialog = await restore_dialog(pilot, tmp_path / "b.wsbackup")
            fill(app, restore_passphrase=PASSPHRASE)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, RestoredScreen), what="what came back", timeout=30)
            assert text(app, "#restored-what").startswith("1 session came back from the backup made")
            assert not dialog.is_attached
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, SessionsScreen) and session.topic in app.screen.records)
            signing = asyncio.create_task(companion.sign(session.topic, message="on the new device", timeout=20))
            await answer_next_request(wallet)
            outcome = await signing
        assert outcome.ok and outcome.to_json()["recovered"].lower() == TEST_ADDRESS.lower()
    finally:
        await wallet.close()


async def test_progress_while_the_backup_is_made(tmp_path):
    """While the worker makes the backup, the screen says so ("stretching the passphrase takes a second") and m
    does nothing; then the line goes and m works again."""
    import threading

    fake = FakeCompanion([session(1, "phone")])
    fake.backup_gate = threading.Event()
    app = build_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await form(pilot)
        fill(app, backup_file=str(tmp_path / "b.wsbackup"), backup_phrase_1=PASSPHRASE, backup_phrase_2=PASSPHRASE)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, BackupScreen) and app.screen.making, what="making")
        assert text(app, "#backup-progress") == "Making the backup (stretching the passphrase takes a second)…"
        assert app.screen.check_action("make", ()) is None
        fake.backup_gate.set()
        await until(pilot, lambda: not app.screen.making and fake.made, what="made")
        assert text(app, "#backup-progress") == "" and app.screen.check_action("make", ()) is True


async def test_a_real_backup_with_shares_through_the_ceremony(companion, paired, tmp_path):
    """A real companion, shares 3, any 2: the ceremony shows three real shares, one typed back checks out, and any
    two of them open the file."""
    output = tmp_path / "shares.wsbackup"
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await form(pilot)
        await choose_shares(pilot)
        fill(app, backup_file=str(output), backup_count="3", backup_threshold="2")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ShareCeremonyScreen), what="the ceremony", timeout=30)
        ceremony_screen = app.screen
        shares = list(ceremony_screen._shares)
        assert len(shares) == 3 and text(app, "#ceremony-which") == "Share 1 of 3 — any 2 of the 3 shares restore it"
        await pilot.press("enter", "enter", "enter")
        fill(app, ceremony_typed=shares[2])
        await pilot.press("enter")
        await pilot.pause()
        assert text(app, "#ceremony-verdict").startswith("Share 3 of 3 checks out")
    opened = backup.read(output.read_bytes(), shares=[shares[0], shares[2]])
    assert opened.device == companion.secrets.client_id


async def test_a_share_read_from_a_photo_of_its_qr(tmp_path):
    """At a share's line, the path of a photo of its QR code reads the share from it (checked like a typed one);
    a photo of something else is said, naming the file, and the backup opens with a photo and a typed share."""
    import qrcode

    path = tmp_path / "b.wsbackup"
    shares = backup_file(path, spec=ShareSpec.simple(2, 3))
    qrcode.make(shares[1].upper()).save(tmp_path / "share 2.png")
    qrcode.make("https://example.com/not-a-share").save(tmp_path / "other.png")
    app = build_app(restoring())
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await restore_dialog(pilot, path)
        assert "or the path to a photo of its QR code" in text(app, "#restore-share-label")
        fill(app, restore_share=str(tmp_path / "other.png"))
        await pilot.press("enter")
        await until(pilot, lambda: text(app, "#restore-error"), what="the refusal")
        assert "other.png" in text(app, "#restore-error") and text(app, "#restore-error").endswith(
            "type the share, or try another photo."
        )
        fill(app, restore_share=f"'{tmp_path / 'share 2.png'}'")  # as a terminal pastes a dropped file
        await pilot.press("enter")
        await until(pilot, lambda: text(app, "#restore-shares-taken") == "Share 1: checksum ok", what="the photo")
        fill(app, restore_share=shares[0])
        await pilot.press("enter")
        await until(pilot, lambda: dialog.has_class("-enough"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RestoredScreen), what="what came back")


async def test_shares_in_groups(tmp_path):
    """Groups 2/3 and 3/5, any 1 of them (as backup create --group 2/3 --group 3/5 --group-threshold 1): the count
    and threshold fields give way to them."""
    fake = FakeCompanion([session(1, "phone")])
    app = build_app(fake)
    async with app.run_test(size=(120, 60)) as pilot:
        await form(pilot)
        await choose_shares(pilot)
        fill(app, backup_file=str(tmp_path / "b.wsbackup"), backup_groups="2/3, 3 of 5", backup_group_threshold="1")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ShareCeremonyScreen), what="the ceremony")
    assert fake.made == [(tmp_path / "b.wsbackup", False, ShareSpec(((2, 3), (3, 5)), 1, ""))]


async def test_a_real_backup_in_groups_names_each_share_by_its_group(companion, paired, tmp_path):
    """A real companion, groups 2/2 and 1/1, both needed: the ceremony names "Share 2 of 2 in group 1 of 2" and
    "Share 1 of 1 in group 2 of 2", says the rule once above, and the three shares open the file."""
    output = tmp_path / "groups.wsbackup"
    app = build_app(companion)
    async with app.run_test(size=(120, 40)) as pilot:
        await form(pilot)
        await choose_shares(pilot)
        fill(app, backup_file=str(output), backup_groups="2/2, 1/1")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ShareCeremonyScreen), what="the ceremony", timeout=30)
        shares = list(app.screen._shares)
        assert "opens with 2 of the 2 groups, each with enough of its own shares" in text(app, "#ceremony-intro")
        await pilot.press("enter")
        assert text(app, "#ceremony-which") == "Share 2 of 2 in group 1 of 2"
        await pilot.press("enter")
        assert text(app, "#ceremony-which") == "Share 1 of 1 in group 2 of 2"
    assert backup.read(output.read_bytes(), shares=shares).device == companion.secrets.client_id


async def test_restore_with_shares_in_groups(tmp_path):
    """Shares of several groups: taken one by one until an empty line says all are in, then the backup opens."""
    path = tmp_path / "b.wsbackup"
    shares = backup_file(path, spec=ShareSpec(((2, 2), (1, 1)), 2))
    app = build_app(restoring())
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await restore_dialog(pilot, path)
        for share in shares:
            fill(app, restore_share=share)
            await pilot.press("enter")
        assert "or ⏎ on an empty line when all are in" in text(app, "#restore-share-label")
        await pilot.press("enter")
        await until(pilot, lambda: dialog.has_class("-enough"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RestoredScreen), what="what came back")
