"""`walletsync backup` on a terminal: the passphrase asked twice, shares typed one by one and checked as entered."""

from __future__ import annotations

import json
import os
import sys

from tests.terminal import Terminal


def _walletsync(home, *args: str) -> list[str]:
    return [sys.executable, "-m", "walletsync", "--data-dir", str(home), *args]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("WALLETSYNC_")}


def test_passphrase_asked_twice_and_shares_typed_one_by_one_with_a_typo_caught(tmp_path):
    old, fresh = tmp_path / "old", tmp_path / "fresh"
    file = tmp_path / "b.wsbackup"
    made = Terminal(
        _walletsync(old, "backup", "create", "-o", str(file), "--shares", "2", "--with-passphrase", "--json"),
        _env(),
        tmp_path / "create.json",
    )
    made.expect("New backup passphrase: ")
    made.type("typed on a terminal")
    made.expect("Repeat the backup passphrase: ")
    made.type("typed on a terminal")
    code, out = made.finish()
    assert code == 0, made.screen
    shares = json.loads(out)["shares"]
    assert len(shares) == 2 and "typed on a terminal" not in made.screen

    restore = Terminal(_walletsync(fresh, "backup", "restore", str(file), "--shares-file", "/dev/null"), _env(), None)
    code, _ = restore.finish()
    assert code != 0 and "0 of" not in restore.screen  # an empty shares file: too few, said plainly
    assert "no shares were given" in restore.screen

    asked = Terminal(_walletsync(fresh, "backup", "verify", str(file)), _env(), tmp_path / "verify.txt")
    asked.expect("Backup passphrase: ")
    asked.type("not the passphrase")
    asked.expect("wrong passphrase")
    asked.expect("Backup passphrase: ")
    asked.type("typed on a terminal")
    code, out = asked.finish()
    assert code == 0 and "audit log intact" in out

    only_shares = tmp_path / "shares.wsbackup"
    made = Terminal(
        _walletsync(old, "backup", "create", "-o", str(only_shares), "--shares", "3", "--threshold", "2", "--json"),
        _env(),
        tmp_path / "create2.json",
    )
    code, out = made.finish(unasked="passphrase")
    shares = json.loads(out)["shares"]

    typed = Terminal(_walletsync(fresh, "backup", "restore", str(only_shares)), _env(), tmp_path / "restore.txt")
    typed.expect("Share 1 (its words on one line): ")
    words = shares[2].split()
    words[8] = "notaword"
    typed.type(" ".join(words))
    typed.expect("this share: word 9 is not in the SLIP-39 word list")
    typed.expect("Share 1 (its words on one line): ")
    typed.type(shares[2])
    typed.expect("share 1: checksum ok")
    typed.expect("Share 2 of 2")
    typed.type(shares[0])
    typed.expect("Share passphrase (Enter if none): ")
    typed.type("")
    code, out = typed.finish()
    assert code == 0, typed.screen
    assert "restored the backup made" in out
