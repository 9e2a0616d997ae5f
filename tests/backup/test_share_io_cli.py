"""`walletsync backup` with share pages and scanned shares, and the backup's age under `walletsync sessions`: real
processes, the OS keyring, a terminal where the user types."""

from __future__ import annotations

import json
import os
import stat
import sys

import qrcode

from tests.backup.page_qr import photo
from tests.companion.conftest import Cli, cli, paired  # noqa: F401 (cli: the fixture)
from tests.terminal import Terminal

PASSPHRASE = "a long backup passphrase"


def _twin(cli: Cli, name: str) -> Cli:
    return Cli(cli.home.parent / name, cli.relay_url, cli.logs)


def _terminal_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("WALLETSYNC_")}


def test_pages_on_request_then_shares_scanned_from_them_check_and_restore(cli, tmp_path):
    file, pages = tmp_path / "b.wsbackup", tmp_path / "pages"
    out = cli.run(
        "backup", "create", "-o", str(file), "--shares", "3", "--threshold", "2", "--pages", str(pages), "--json"
    )
    assert out.returncode == 0, out.stderr
    made = json.loads(out.stdout)
    assert made["pages"] == [str(pages / f"share-{n}-of-3.{s}") for n in (1, 2, 3) for s in ("txt", "html")]
    assert "IN CLEAR" in out.stderr and f"shred -u {pages}/*" in out.stderr
    assert stat.S_IMODE(pages.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in made["pages"])
    page = (pages / "share-2-of-3.txt").read_text()
    assert all(f" {word} " in page.replace("\n", " ") for word in made["shares"][1].split())

    again = cli.json(
        "backup", "create", "-o", str(tmp_path / "c.wsbackup"), "--shares", "2", "--pages", str(pages), ok=False
    )
    assert again["error"]["code"] == "pages_refused" and not (tmp_path / "c.wsbackup").exists()
    asks = ("backup", "create", "--shares", "2", "--share-passphrase", "--pages", str(pages))
    assert cli.json(*asks, ok=False)["error"]["code"] == "pages_refused"  # refused before asking anything
    env = {**os.environ, "WALLETSYNC_BACKUP_PASSPHRASE": PASSPHRASE}
    alone = cli.json(
        "backup", "create", "-o", str(tmp_path / "d.wsbackup"), "--pages", str(tmp_path / "p2"), env=env, ok=False
    )
    assert "--pages go with --shares" in alone["error"]["message"] and not (tmp_path / "p2").exists()
    plain = cli.json("backup", "create", "-o", str(tmp_path / "e.wsbackup"), env=env)
    assert plain["pages"] is None

    second = photo(pages / "share-2-of-3.html", tmp_path / "second.png")
    third = photo(pages / "share-3-of-3.html", tmp_path / "third.jpg", format="JPEG")
    checked = cli.json("backup", "check-share", str(file), "--share-image", str(second))
    assert checked["member"] == 2 and checked["threshold"] == 2
    qrcode.make("https://example.com/not-a-share").save(tmp_path / "url.png")
    refused = cli.json("backup", "check-share", "--share-image", str(tmp_path / "url.png"), ok=False)
    assert refused["error"]["code"] == "qr_not_a_share" and "example.com" not in refused["error"]["message"]

    fresh = _twin(cli, "fresh")
    one = fresh.json("backup", "restore", str(file), "--share-image", str(third), ok=False)
    assert one["error"]["code"] == "too_few_shares" and not (fresh.home / "walletsync.db").exists()
    restored = fresh.json("backup", "restore", str(file), "--share-image", str(second), "--share-image", str(third))
    assert restored["created_at"] == made["created_at"]
    status = fresh.json("backup", "status")
    assert status == {"last_backup": made["created_at"], "changed_since": False}


def test_a_path_typed_at_the_share_prompt_is_read_as_an_image(cli, tmp_path):
    file, pages = tmp_path / "b.wsbackup", tmp_path / "pages"
    made = cli.json("backup", "create", "-o", str(file), "--shares", "3", "--threshold", "2", "--pages", str(pages))
    second = photo(pages / "share-2-of-3.html", tmp_path / "second.png")
    qrcode.make("hello").save(tmp_path / "hello.png")
    fresh = tmp_path / "fresh"
    argv = [sys.executable, "-m", "walletsync", "--data-dir", str(fresh), "backup", "restore", str(file)]
    typed = Terminal(argv, _terminal_env(), tmp_path / "restore.txt")
    typed.expect("the path to a photo or scan of its QR code")
    typed.expect("Share 1 (its words on one line): ")
    typed.type(str(tmp_path / "hello.png"))
    typed.expect("is not a SLIP-39 share")
    typed.expect("Share 1 (its words on one line): ")
    typed.type(f"'{tmp_path / 'missing.png'}'")
    typed.expect("cannot read")
    typed.expect("Share 1 (its words on one line): ")
    typed.type(str(second))
    typed.expect("share 1: checksum ok")
    typed.expect("Share 2 of 2")
    typed.type(made["shares"][0])
    typed.expect("Share passphrase (Enter if none): ")
    typed.type("")
    code, out = typed.finish()
    assert code == 0, typed.screen
    assert "restored the backup made" in out and made["shares"][1] not in typed.screen

    again = tmp_path / "again"
    argv = [sys.executable, "-m", "walletsync", "--data-dir", str(again), "backup", "restore", str(file)]
    scanned = Terminal([*argv, "--share-image", str(second)], _terminal_env(), tmp_path / "again.txt")
    scanned.expect("share 1 read from")
    scanned.expect("Share 2 of 2 (its words on one line): ")
    scanned.type(made["shares"][2])
    scanned.expect("Share passphrase (Enter if none): ")
    scanned.type("")
    code, _ = scanned.finish()
    assert code == 0, scanned.screen


async def test_sessions_says_on_stderr_when_the_backup_is_missing_or_behind(cli, tmp_path):
    session, phone = await paired(cli, "--auto-approve", name="desk")
    await phone.close()
    listed = cli.run("sessions")
    assert listed.returncode == 0 and "desk" in listed.stdout and "backup" not in listed.stdout
    assert listed.stderr == "walletsync: no backup yet: walletsync backup create\n"
    assert cli.run("sessions", "--json").stderr == ""
    assert cli.json("backup", "status")["changed_since"] is True

    env = {**os.environ, "WALLETSYNC_BACKUP_PASSPHRASE": PASSPHRASE}
    cli.json("backup", "create", "-o", str(tmp_path / "b.wsbackup"), env=env)
    quiet = cli.run("sessions", "--offline")
    assert quiet.stderr == "" and quiet.stdout == listed.stdout
    assert "nothing worth keeping has changed since" in cli.run("backup", "status").stdout

    cli.json("rename", "desk", "desk two")
    behind = cli.run("sessions", "--offline")
    assert (
        behind.stderr == "walletsync: last backup made less than an hour ago, changes since: walletsync backup create\n"
    )
    assert "changes since then are not in it" in cli.run("backup", "status").stdout
    assert cli.run("sessions", "--offline", "--json").stderr == ""


def test_check_share_reads_an_image_path_typed_at_its_hidden_prompt(cli, tmp_path):
    file, pages = tmp_path / "b.wsbackup", tmp_path / "pages"
    cli.json("backup", "create", "-o", str(file), "--shares", "2", "--pages", str(pages))
    second = photo(pages / "share-2-of-2.html", tmp_path / "second.png")
    argv = [sys.executable, "-m", "walletsync", "--data-dir", str(cli.home), "backup", "check-share", str(file)]
    asked = Terminal(argv, _terminal_env(), tmp_path / "check.txt")
    asked.expect("The share's words, or an image of its QR (not shown): ")
    asked.type(str(second))
    code, out = asked.finish()
    assert code == 0 and "share 2 checks out (any 2 restore)" in out, asked.screen
    assert str(second) not in asked.screen  # not echoed: the prompt hides what is typed
