"""A recovery share read from a photo or scan of its QR code (``--share-image``, or a path typed at the prompt).

Bounded before any decoding: the file's bytes (:data:`MAX_BYTES`), its format (PNG or JPEG only: Pillow is not
asked to guess among the dozens it knows) and its pixels (:data:`MAX_PIXELS`, read from the header before the
image is decoded). The QR is found by zxing-cpp; what it holds must pass SLIP-39's checksum, so a QR that is
something else is told apart from a mistyped share. Errors name the file and what went wrong, never what the QR
holds (it may be a secret of another kind).
"""

from __future__ import annotations

import io
from pathlib import Path

from walletsync.errors import WalletsyncError

MAX_BYTES = 25 * 1024 * 1024
"""A phone's photo is a few MiB; a scan at 600 dpi of an A4 page as PNG about 10."""
MAX_PIXELS = 50_000_000
"""A 48-megapixel phone camera's full-size photo fits; more is not a photo of a page."""
FORMATS = ("PNG", "JPEG")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
"""A typed line ending so is taken for an image even when no such file exists (then said to be missing)."""
DRAFT = 2000
"""A large JPEG is decoded at the smallest scale (1/2 to 1/8) that keeps it at least this many pixels on each side:
a page's QR code fills a good part of a photo of it, and a 48-megapixel photo then takes a quarter of the memory."""


def image_path(line: str) -> Path | None:
    """The image a typed share line names (quotes a terminal adds to a dropped file removed), or None for words: a
    mistyped share is never taken for a path, whose error would repeat the words."""
    text = line.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    if not text:
        return None
    try:
        path = Path(text).expanduser()
        if path.suffix.lower() in IMAGE_SUFFIXES or path.is_file():
            return path
    except (OSError, ValueError, RuntimeError):  # a name too long, a NUL, a ~user that does not exist: words then
        pass
    return None


class ShareImageError(WalletsyncError):
    """A share could not be had from an image (the subclass says why)."""

    code = "share_image"


class UnreadableImage(ShareImageError):
    """Not a readable PNG or JPEG within the bounds (or not a file that can be read)."""

    code = "unreadable_image"


class NoQrCode(ShareImageError):
    """The image decodes but no QR code was found in it (or several different ones)."""

    code = "no_qr_code"


class NotAShare(ShareImageError):
    """The QR code decodes but what it holds is not a SLIP-39 share."""

    code = "qr_not_a_share"


def share_from_image(path: Path) -> str:
    """The share in the QR code of the image at ``path``, checked (lower-case words, single spaces)."""
    from walletsync.vault import ShareError, check_share

    texts = qr_texts(_read(path), str(path))
    if not texts:
        raise NoQrCode(f"no QR code found in {path} (a sharper, straighter photo of the whole code may do)")
    shares = []
    for text in texts:
        normal = " ".join(text.lower().split())
        try:
            check_share(normal)
        except ShareError as exc:
            if len(texts) == 1:
                raise NotAShare(f"the QR code in {path} {_why_not(normal, exc)}") from None
            continue
        shares.append(normal)
    if len(set(shares)) != 1:
        found = "no share" if not shares else "several different shares"
        raise NoQrCode(f"{path} holds {len(texts)} QR codes and {found}: photograph one share's page alone")
    return shares[0]


def _why_not(text: str, error: Exception) -> str:
    """A share whose checksum fails (a damaged code, or a page printed wrong) is told apart from something else."""
    from shamir_mnemonic.wordlist import WORD_INDEX_MAP

    words = text.split()
    if words and sum(word in WORD_INDEX_MAP for word in words) * 2 > len(words):
        return f"holds a SLIP-39 share that does not check out ({str(error).removeprefix('share 1: ')})"
    return "is not a SLIP-39 share"


def qr_texts(data: bytes, name: str) -> list[str]:
    """The text of every QR code in the image ``data`` (PNG or JPEG), in zxing-cpp's order."""
    import warnings

    import zxingcpp
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise UnreadableImage(f"{name} is {width}×{height} pixels, more than {MAX_PIXELS:,}: scale it down")
                image.draft("L", (DRAFT, DRAFT))  # a JPEG decodes straight to grey, smaller if large
                grey = image.convert("L")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnreadableImage(f"{name} is not a readable PNG or JPEG image") from None
    found = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]  # 2.x and 3.x
    return [result.text for result in found if result.valid]


def _read(path: Path) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UnreadableImage(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise UnreadableImage(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MiB: not a photo of a share")
    return data
