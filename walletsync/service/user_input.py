"""What the user hands the companion from outside it: a file named on the command line, a shell line to run."""

from __future__ import annotations

import shlex
from pathlib import Path

from walletsync.service.outcomes import InputFileError


def read_input_file(path: str, flag: str) -> str:
    """The text of a file the user named (``-`` is stdin); :class:`InputFileError` names ``flag`` when it cannot be read."""
    try:
        return Path("/dev/stdin" if path == "-" else path).expanduser().read_text()
    except OSError as exc:
        raise InputFileError(f"{flag}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{flag}: {path} is not UTF-8 text") from None


def phone_command(uri: str) -> str:
    """The shell line that pairs ``walletsync phone`` with ``uri`` without putting the URI's key in ``ps``."""
    return f"WALLETSYNC_URI={shlex.quote(uri)} walletsync phone"
