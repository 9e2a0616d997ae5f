"""A share read from an image of its QR code: bounded, typed errors for what is not a share, and the share back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import qrcode
from PIL import Image

from tests.backup.page_qr import draw
from walletsync.commands.share_pages import qr_svg
from walletsync.service import ShareSpec, share_image
from walletsync.service.share_image import NoQrCode, NotAShare, UnreadableImage, image_path, share_from_image
from walletsync.vault import seal


@pytest.fixture(scope="module")
def share() -> str:
    return seal(b"x", random=os.urandom, spec=ShareSpec.simple(2, 3)).shares[0][1]


def _qr_png(text: str, path, **kwargs) -> str:
    qrcode.make(text, **kwargs).save(path)
    return str(path)


def test_the_page_qr_as_png_or_jpeg_reads_back_as_the_share(share, tmp_path):
    image = draw(qr_svg(share))
    image.save(tmp_path / "page.png")
    assert share_from_image(tmp_path / "page.png") == share
    photo = Image.new("L", (image.width + 300, image.height + 200), 180)  # a grey table around the page
    photo.paste(image.rotate(90), (150, 100))
    photo.convert("RGB").save(tmp_path / "photo.jpg", quality=60)
    assert share_from_image(tmp_path / "photo.jpg") == share


def test_a_lower_case_qr_from_the_terminal_reads_too(share, tmp_path):
    assert share_from_image(_qr_png(share, tmp_path / "t.png")) == share


def test_what_is_not_a_share_is_named_and_not_repeated(share, tmp_path):
    with pytest.raises(NotAShare, match="not a SLIP-39 share") as caught:
        share_from_image(_qr_png("wc:some-uri-that-is-not-a-share@2", tmp_path / "uri.png"))
    assert "wc:" not in str(caught.value)
    words = share.split()
    words[4] = "zebra" if words[4] != "zebra" else "zero"
    with pytest.raises(NotAShare, match="holds a SLIP-39 share that does not check out") as caught:
        share_from_image(_qr_png(" ".join(words), tmp_path / "typo.png"))
    assert caught.value.code == "qr_not_a_share" and words[0] not in str(caught.value)

    Image.new("L", (400, 400), 255).save(tmp_path / "blank.png")
    with pytest.raises(NoQrCode) as caught:
        share_from_image(tmp_path / "blank.png")
    assert caught.value.code == "no_qr_code"


def test_two_different_shares_in_one_photo_are_refused(tmp_path):
    shares = seal(b"x", random=os.urandom, spec=ShareSpec.simple(2, 3)).shares[0]
    first, second = (qrcode.make(s).get_image().convert("L") for s in shares[:2])
    both = Image.new("L", (first.width * 2 + 40, first.height), 255)
    both.paste(first, (0, 0))
    both.paste(second, (first.width + 40, 0))
    both.save(tmp_path / "two.png")
    with pytest.raises(NoQrCode, match="several different shares"):
        share_from_image(tmp_path / "two.png")


def test_bounds_and_formats(share, tmp_path, monkeypatch):
    (tmp_path / "notes.png").write_text("not an image at all")
    with pytest.raises(UnreadableImage, match="not a readable PNG or JPEG") as caught:
        share_from_image(tmp_path / "notes.png")
    assert caught.value.code == "unreadable_image"
    draw(qr_svg(share)).save(tmp_path / "page.gif")
    with pytest.raises(UnreadableImage, match="not a readable PNG or JPEG"):
        share_from_image(tmp_path / "page.gif")
    with pytest.raises(UnreadableImage, match="cannot read"):
        share_from_image(tmp_path / "missing.png")

    Image.new("1", (8000, 7000), 1).save(tmp_path / "huge.png")  # small on disk, 56 million pixels
    assert (tmp_path / "huge.png").stat().st_size < share_image.MAX_BYTES
    with pytest.raises(UnreadableImage, match="8000×7000 pixels"):
        share_from_image(tmp_path / "huge.png")

    monkeypatch.setattr(share_image, "MAX_BYTES", 1000)
    draw(qr_svg(share)).save(tmp_path / "page.png")
    with pytest.raises(UnreadableImage, match="larger than"):
        share_from_image(tmp_path / "page.png")


def test_a_typed_line_is_an_image_only_when_it_names_one(share, tmp_path):
    assert image_path(share) is None
    assert image_path(share + " .") is None  # a stray dot: still words (their error names no word)
    assert image_path("x" * 5000) is None
    assert image_path(f"'{tmp_path}/scan 1.PNG'") == tmp_path / "scan 1.PNG"
    (tmp_path / "scan").write_bytes(b"")
    assert image_path(f" {tmp_path}/scan \n") == tmp_path / "scan"
    assert image_path("~/share.jpg") == Path.home() / "share.jpg"


def test_a_large_photo_is_read_at_a_smaller_scale(share, tmp_path):
    """A 48-megapixel JPEG of the page: decoded at half size (JPEG's draft mode), and its QR still reads."""
    code = draw(qr_svg(share), scale=40)  # the QR about 2400 pixels wide, as a close photo of the page has it
    photo = Image.new("L", (8000, 6000), 230)
    photo.paste(code, (2800, 1800))
    photo.save(tmp_path / "big.jpg", quality=85)
    assert share_from_image(tmp_path / "big.jpg") == share
