"""`backup create --pages`: a page per share, private on disk, escaped, whose words and QR code read back as the share."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import zxingcpp

from tests.backup.page_qr import draw, svg_of
from walletsync.commands.share_pages import PagesRefused, check, prepare, warning, write_pages
from walletsync.service import ShareSpec
from walletsync.vault import seal

MADE = 1_764_633_600  # 2025-12-02 UTC


@pytest.fixture(scope="module")
def shares() -> list[list[str]]:
    return seal(b"x", random=os.urandom, spec=ShareSpec.simple(2, 3)).shares


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_pages_are_private_named_per_share_and_never_overwrite(shares, tmp_path):
    directory = tmp_path / "pages"
    assert prepare(directory) is True
    written = write_pages(directory, shares, 2, MADE, Path("b.wsbackup"))
    names = [p.name for p in written]
    assert names == [f"share-{n}-of-3.{s}" for n in (1, 2, 3) for s in ("txt", "html")]
    assert _mode(directory) == 0o700 and all(_mode(p) == 0o600 for p in written)
    with pytest.raises(FileExistsError):
        write_pages(directory, shares, 2, MADE, Path("b.wsbackup"))
    for step in (check, prepare):
        with pytest.raises(PagesRefused, match="not empty"):
            step(directory)
        (tmp_path / "file").write_text("")
        with pytest.raises(PagesRefused, match="not a directory"):
            step(tmp_path / "file")
        (tmp_path / "link").unlink(missing_ok=True)
        (tmp_path / "link").symlink_to(tmp_path / "empty-elsewhere", target_is_directory=True)
        with pytest.raises(PagesRefused, match="not a directory"):
            step(tmp_path / "link")
    with pytest.raises(PagesRefused, match="cannot make"):
        check(tmp_path / "missing" / "pages")
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    assert prepare(empty) is False and _mode(empty) == 0o700


def test_the_text_page_numbers_the_words_down_columns_and_says_what_to_do(shares, tmp_path):
    prepare(tmp_path / "p")
    write_pages(tmp_path / "p", shares, 2, MADE, Path("b.wsbackup"))
    share = shares[0][1]
    text = (tmp_path / "p" / "share-2-of-3.txt").read_text()
    numbered = {}
    for line in text.splitlines():
        cells = line.split()
        if cells and cells[0].rstrip(".").isdigit() and line.startswith("  "):
            for number, word in zip(cells[::2], cells[1::2]):
                numbered[int(number.rstrip("."))] = word
    assert " ".join(numbered[n] for n in sorted(numbered)) == share
    first_row = next(line for line in text.splitlines() if line.startswith("   1. "))
    assert " 12. " in first_row  # 33 words: 1, 12 and 23 head the three columns
    assert "share 2 of 3" in text and "Any 2 of the 3 shares" in text and "2025-12-02" in text
    assert "delete it after printing" in text


def test_the_html_page_escapes_what_it_shows_and_its_qr_reads_back_as_the_share(shares, tmp_path):
    prepare(tmp_path / "p")
    hostile = Path("<script>alert(1)<\\script>&.wsbackup")
    write_pages(tmp_path / "p", shares, 2, MADE, hostile)
    page = (tmp_path / "p" / "share-3-of-3.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;\\script&gt;&amp;.wsbackup" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched when printed
    share = shares[0][2]
    assert [
        r.text.lower()
        for r in zxingcpp.read_barcodes(draw(svg_of(page)), formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False)
    ] == [share]
    assert page.count("<li>") == len(share.split())


def test_the_svg_as_a_renderer_draws_it_reads_back(shares, tmp_path):
    """The same QR drawn by librsvg (the test command installs it), as a browser would print it, not by the test's own
    reading of the path."""
    prepare(tmp_path / "p")
    write_pages(tmp_path / "p", shares, 2, MADE, Path("b.wsbackup"))
    svg = tmp_path / "qr.svg"
    svg.write_text(svg_of((tmp_path / "p" / "share-1-of-3.html").read_text()))
    png = tmp_path / "qr.png"
    subprocess.run(["rsvg-convert", "--background-color", "white", "-w", "400", "-o", str(png), str(svg)], check=True)
    from PIL import Image

    with Image.open(png) as image:
        assert [
            r.text.lower() for r in zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
        ] == [shares[0][0]]


def test_the_warning_names_the_directory_quoted_for_a_shell(tmp_path):
    text = warning(tmp_path / "my pages")
    assert "IN CLEAR" in text and f"shred -u '{tmp_path}/my pages'/*" in text
