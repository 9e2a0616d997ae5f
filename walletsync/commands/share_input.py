"""Shares as the user enters them: typed words, or a photo or scan of a share page's QR code.

``--share-image FILE`` names an image; at a share prompt, a line naming a file that exists, or ending in ``.png``,
``.jpg`` or ``.jpeg``, is read as one too (a mistyped share is never taken for a path: an error about a path would
repeat the words on the terminal). Either way the share is checked as it is read, like a typed one;
:mod:`walletsync.service.share_image` bounds and decodes the image.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from walletsync.commands.output import quoted
from walletsync.service.share_image import image_path

HINT = "Type each share's words, or the path to a photo or scan of its QR code."


def add_image_argument(parser: argparse.ArgumentParser, *, repeat: bool) -> None:
    if repeat:
        parser.add_argument(
            "--share-image",
            action="append",
            metavar="FILE",
            help="a share read from a PNG or JPEG of its QR code (repeat for each; a terminal asks for the rest)",
        )
    else:
        parser.add_argument("--share-image", metavar="FILE", help="read the share from a PNG or JPEG of its QR code")


def from_entry(line: str) -> str:
    """The share a prompt's line gives: its words, or the share read from the image it names."""
    from walletsync.service.share_image import share_from_image

    path = image_path(line)
    return line if path is None else share_from_image(path)


def from_images(paths: Iterable[str] | None) -> list[str]:
    """The shares in these images, each checked as it is read (stderr says which file gave which share)."""
    from walletsync.service.share_image import share_from_image

    shares = []
    for path in paths or ():
        shares.append(share_from_image(Path(path)))
        print(f"share {len(shares)} read from {quoted(path)}: checksum ok", file=sys.stderr, flush=True)
    return shares
