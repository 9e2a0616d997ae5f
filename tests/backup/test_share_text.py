"""What `backup create` prints for shares: numbered words that read back as the share, and a QR that decodes to it."""

from __future__ import annotations

import os
from pathlib import Path

from tests.test_qr_text import decode
from walletsync.commands.backup import made_text
from walletsync.qr import FULL, LOWER, UPPER
from walletsync.service import ShareSpec, backup
from walletsync.vault import seal

QR_GLYPHS = {FULL, LOWER, UPPER, " "}


def test_each_share_is_printed_as_numbered_words_and_a_qr_that_read_back():
    shares = seal(b"x", random=os.urandom, spec=ShareSpec.simple(2, 3)).shares
    text = made_text(backup.BackupMade(Path("b.wsbackup"), 0, shares, 2), qr=True)
    blocks = text.split("Share ")[1:]
    assert len(blocks) == 3
    for share, block in zip(shares[0], blocks):
        lines = block.splitlines()
        words = [w for line in lines[1:] for w in line.split() if not w[0].isdigit() and set(w) - QR_GLYPHS]
        assert " ".join(words) == share
        qr = [line for line in lines if line and set(line) <= QR_GLYPHS and set(line) - {" "}]
        assert decode(qr) == [share]
    assert "any 2 of the 3 shares restore it" in text and "shown this once" in text
