"""``backup create --shares N --pages DIR``: one printable page per share, as plain text and as HTML with its QR code.

A page holds a share in clear, against the rule that no secret lies on disk unasked: so only on request, only into
a new (or empty) directory made private to the user (0700, files 0600, never overwritten), and the command says
loudly to print the pages and delete them. The HTML is self-contained (no script, no fetch: the QR is inline SVG
from the ``qrcode`` library) and fits one A4 or Letter page; everything interpolated into it is escaped.
"""

from __future__ import annotations

import html
import os
import shlex
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

from walletsync.errors import WalletsyncError
from walletsync.text import shown

if TYPE_CHECKING:
    from walletsync.service.backup import BackupMade

COLUMNS = 3
WIDTH = 78


class PagesRefused(WalletsyncError):
    """The directory for the pages cannot be used (it has files in it, or is not a directory)."""

    code = "pages_refused"


def check(directory: Path) -> None:
    """Refuse ``directory`` before anything is asked or written, if :func:`prepare` would (it checks again)."""
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise PagesRefused(f"{directory} exists and is not a directory: name a new one for the share pages")
    if directory.is_dir() and any(directory.iterdir()):
        raise PagesRefused(f"{directory} is not empty: name a new directory for the share pages")
    if not directory.exists() and not directory.parent.is_dir():
        raise PagesRefused(f"cannot make {directory}: {directory.parent} is not a directory")


def prepare(directory: Path) -> bool:
    """Make ``directory`` ready for the pages before the backup is made: True if it was created here (and may be
    removed again if the backup fails). An existing empty directory is made private; anything else is refused."""
    try:
        directory.mkdir(mode=0o700)
        return True
    except FileExistsError:
        pass
    except OSError as exc:
        raise PagesRefused(f"cannot make {directory}: {exc.strerror or exc}") from None
    if directory.is_symlink() or not directory.is_dir():
        raise PagesRefused(f"{directory} exists and is not a directory: name a new one for the share pages")
    if any(directory.iterdir()):
        raise PagesRefused(f"{directory} is not empty: name a new directory for the share pages")
    os.chmod(directory, 0o700)
    return False


def page_name(number: int, total: int, suffix: str) -> str:
    return f"share-{number}-of-{total}.{suffix}"


def write_pages(
    directory: Path,
    shares: list[list[str]],
    threshold: int,
    created_at: int,
    backup: Path,
    groups: tuple[tuple[int, int], ...] = (),
) -> list[Path]:
    """Write each share's .txt and .html page (0600, never over a file); the paths written, in share order."""
    from walletsync.service.backup import BackupMade

    made = BackupMade(backup, created_at, shares, threshold, groups)
    flat = [share for group in shares for share in group]
    total, written = len(flat), []
    for number, (share, label) in enumerate(zip(flat, made.labels(), strict=True), start=1):
        page = SharePage(number, total, label, made.rule(), created_at, backup.name, share)
        for suffix, text in (("txt", page.text()), ("html", page.html())):
            path = directory / page_name(number, total, suffix)
            _write_private(path, text.encode("utf-8"))
            written.append(path)
    return written


def write_made(directory: Path, made: BackupMade) -> list[str]:
    """The pages of the backup ``made`` (``backup create``'s result), as the paths ``--json`` lists."""
    paths = write_pages(directory, made.shares or [], made.threshold or 0, made.created_at, made.file, made.groups)
    return [str(path) for path in paths]


def warning(directory: Path) -> str:
    """The note on stderr after the pages are written."""
    where = shlex.quote(str(directory))
    return (
        f"WARNING: the pages in {where} hold the shares IN CLEAR: anyone who reads enough of them can open the backup.\n"
        f"Print them now, then delete them: shred -u {where}/* && rmdir {where}"
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


class SharePage:
    """One share's page: what it is, how many restore, when it was made, its numbered words and its QR code."""

    def __init__(
        self, number: int, total: int, label: str, rule: str, created_at: int, backup: str, share: str
    ) -> None:
        self.number, self.total, self.label, self.rule = number, total, label, rule
        self.date = time.strftime("%Y-%m-%d", time.gmtime(created_at))
        self.backup = shown(backup, 60)  # a file name may hold control characters; the HTML escapes it again
        self.words = share.split()

    @property
    def title(self) -> str:
        return f"walletsync recovery {self.label}"

    @property
    def about(self) -> str:
        return (
            f"{self.rule[0].upper()}{self.rule[1:]} open the backup made {self.date} ({self.backup}); "
            f"fewer reveal nothing."
        )

    @property
    def todo(self) -> str:
        return (
            "Keep this page on paper, apart from the other shares. To restore: walletsync backup restore FILE, "
            "then type these words or show this QR code (a photo of it: --share-image). "
            "The file this page was printed from holds the share in clear: delete it after printing."
        )

    def columns(self) -> list[list[tuple[int, str]]]:
        """The numbered words, top to bottom in :data:`COLUMNS` columns."""
        rows = -(-len(self.words) // COLUMNS)
        numbered = list(enumerate(self.words, start=1))
        return [numbered[k : k + rows] for k in range(0, len(numbered), rows)]

    def text(self) -> str:
        columns = self.columns()
        lines = [self.title, "=" * len(self.title), "", *textwrap.wrap(self.about, WIDTH, break_on_hyphens=False), ""]
        for row in range(len(columns[0])):
            cells = [f"{n:>2}. {w:<12}" for n, w in (column[row] for column in columns if row < len(column))]
            lines.append("  " + "  ".join(cells).rstrip())
        return "\n".join([*lines, "", *textwrap.wrap(self.todo, WIDTH, break_on_hyphens=False), ""])

    def html(self) -> str:
        e = html.escape
        columns = "".join(
            "<ol start='{}'>{}</ol>".format(column[0][0], "".join(f"<li>{e(word)}</li>" for _, word in column))
            for column in self.columns()
        )
        return PAGE.format(
            title=e(self.title),
            about=e(self.about),
            todo=e(self.todo),
            columns=columns,
            qr=qr_svg(" ".join(self.words)),
        )


def qr_svg(share: str) -> str:
    """The share as an inline SVG QR code. Upper case: SLIP-39 words read in any case, and QR's alphanumeric mode
    makes the code smaller (fewer, larger modules print and scan better); level M survives a crease or a stain."""
    import qrcode
    import qrcode.image.svg
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(share.upper())
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    return svg[svg.index("<svg") :] if "<svg" in svg else svg


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
@page {{ margin: 15mm; }}
body {{ font: 11pt/1.4 system-ui, sans-serif; color: #000; background: #fff; max-width: 180mm; margin: 0 auto; }}
h1 {{ font-size: 16pt; margin: 0 0 4mm; }}
.qr svg {{ width: 70mm; height: 70mm; display: block; margin: 6mm auto; }}
.words {{ display: flex; gap: 8mm; font: 12pt/1.8 ui-monospace, monospace; }}
.words ol {{ margin: 0; padding-left: 9mm; }}
.todo {{ border-top: 1px solid #000; margin-top: 6mm; padding-top: 3mm; font-size: 10pt; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{about}</p>
<div class="qr">{qr}</div>
<div class="words">{columns}</div>
<p class="todo">{todo}</p>
</body>
</html>
"""
