"""The passphrase-sealed key file (``--keyring-file PATH``), a :class:`~walletsync.store.secrets.KeyStore`.

The explicit opt-in for machines without an OS keyring. Argon2id (PyNaCl) derives a key
from the passphrase; SecretBox seals the 64 bytes of :class:`DeviceSecrets`; the file is
JSON, written atomically with mode 0600. Files written by earlier versions open
unchanged: the format below is version 1 and must stay byte-compatible.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import unicodedata
from pathlib import Path

from nacl.exceptions import CryptoError
from nacl.pwhash import argon2id
from nacl.secret import SecretBox
from nacl.utils import random as nacl_random

from walletsync.store.secrets import SECRETS_SIZE, DeviceSecrets, DeviceSecretsError

FILE_FORMAT = "walletsync-keys"
FILE_VERSION = 1
# Argon2id cost for new key files: libsodium's MODERATE (3 passes, 256 MiB, ~0.4 s here).
# The file may be copied off the machine and attacked offline, so it gets more than the
# INTERACTIVE cost (64 MiB), but it is paid once per start, so less than SENSITIVE (1 GiB, ~4 s).
KDF_OPSLIMIT = argon2id.OPSLIMIT_MODERATE
KDF_MEMLIMIT = argon2id.MEMLIMIT_MODERATE
# Costs accepted when reading a file: anything libsodium allows, up to SENSITIVE, so a
# crafted file cannot make us allocate terabytes.
_OPSLIMIT_RANGE = (argon2id.OPSLIMIT_MIN, argon2id.OPSLIMIT_SENSITIVE)
_MEMLIMIT_RANGE = (argon2id.MEMLIMIT_MIN, argon2id.MEMLIMIT_SENSITIVE)
_BOX_SIZE = SecretBox.NONCE_SIZE + SecretBox.MACBYTES + SECRETS_SIZE


class KeyFileError(DeviceSecretsError):
    """The ``--keyring-file`` cannot be read, parsed or written; ``path`` names it."""

    code = "key_file_error"

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"key file {path}: {problem}")


class WrongPassphrase(DeviceSecretsError):
    """The passphrase does not open the key file (or the file's sealed part was modified)."""

    code = "wrong_passphrase"

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"wrong passphrase for key file {path} (or the file was modified)")


class PassphraseRequired(DeviceSecretsError):
    """File mode needs a passphrase and there is none: no argument, no $WALLETSYNC_PASSPHRASE, no prompt."""

    code = "passphrase_required"


def _fsync_dir(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class PassphraseFile:
    """Device secrets in a file sealed with a passphrase (the explicit ``--keyring-file`` opt-in).

    Holds the passphrase: never log it; ``repr`` shows the path only. The passphrase is
    NFC-normalised so the same words typed on another keyboard layout still open the file.
    ``opslimit``/``memlimit`` are the Argon2id cost for files this object writes; reading
    uses the cost recorded in the file.
    """

    def __init__(
        self, path: Path | str, passphrase: str, *, opslimit: int = KDF_OPSLIMIT, memlimit: int = KDF_MEMLIMIT
    ) -> None:
        if not isinstance(passphrase, str):
            raise TypeError("the passphrase must be a str")
        self.path = Path(path).expanduser()
        self._passphrase = unicodedata.normalize("NFC", passphrase).encode("utf-8")
        self._opslimit = opslimit
        self._memlimit = memlimit

    def __repr__(self) -> str:
        return f"PassphraseFile({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> DeviceSecrets | None:
        """The secrets in the file, or None if there is no file.

        :class:`WrongPassphrase` if the passphrase does not open it, :class:`KeyFileError`
        (naming the path) if it is unreadable or not a walletsync key file.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyFileError(self.path, f"cannot be read ({exc.strerror or exc})") from None
        opslimit, memlimit, salt, box = self._parse(raw)
        key = argon2id.kdf(SecretBox.KEY_SIZE, self._passphrase, salt, opslimit=opslimit, memlimit=memlimit)
        try:
            plain = SecretBox(key).decrypt(box)
        except CryptoError:
            raise WrongPassphrase(self.path) from None
        return DeviceSecrets.from_bytes(plain)

    def save(self, secrets: DeviceSecrets) -> None:
        """Seal ``secrets`` into the file, atomically replacing any file already there."""
        self._write(self._sealed(secrets), replace=True)

    def create(self, secrets: DeviceSecrets) -> bool:
        """Like :meth:`save` but never overwrites: False (nothing written) if the file already exists."""
        return self._write(self._sealed(secrets), replace=False)

    def _sealed(self, secrets: DeviceSecrets) -> bytes:
        if not isinstance(secrets, DeviceSecrets):
            raise TypeError("save() takes DeviceSecrets")
        if not self._passphrase:
            raise PassphraseRequired(f"refusing to seal key file {self.path} with an empty passphrase")
        salt = nacl_random(argon2id.SALTBYTES)
        key = argon2id.kdf(SecretBox.KEY_SIZE, self._passphrase, salt, opslimit=self._opslimit, memlimit=self._memlimit)
        document = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "kdf": "argon2id",
            "opslimit": self._opslimit,
            "memlimit": self._memlimit,
            "salt": salt.hex(),
            "box": base64.b64encode(bytes(SecretBox(key).encrypt(secrets.to_bytes()))).decode("ascii"),
        }
        return (json.dumps(document, indent=2) + "\n").encode("utf-8")

    def _parse(self, raw: bytes) -> tuple[int, int, bytes, bytes]:
        def bad(problem: str) -> KeyFileError:
            return KeyFileError(self.path, problem)

        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise bad("is not valid JSON: it is damaged or not a walletsync key file") from None
        if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
            raise bad(f'is not a walletsync key file (no "format": "{FILE_FORMAT}")')
        if document.get("version") != FILE_VERSION:
            raise bad(f"has version {document.get('version')!r}; this walletsync reads version {FILE_VERSION}")
        if document.get("kdf") != "argon2id":
            raise bad(f"uses kdf {document.get('kdf')!r}; only argon2id is supported")
        limits = []
        for name, (low, high) in (("opslimit", _OPSLIMIT_RANGE), ("memlimit", _MEMLIMIT_RANGE)):
            value = document.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise bad(f"has an invalid {name} (an integer from {low} to {high} expected)")
            limits.append(value)
        try:
            salt = bytes.fromhex(document["salt"])
            box = base64.b64decode(document["box"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise bad('"salt" must be hex and "box" base64') from None
        if len(salt) != argon2id.SALTBYTES or len(box) != _BOX_SIZE:
            raise bad(f"is damaged (salt must be {argon2id.SALTBYTES} bytes and box {_BOX_SIZE})")
        return limits[0], limits[1], salt, box

    def _write(self, data: bytes, *, replace: bool) -> bool:
        """Write via a 0600 temp file in the same directory, then rename (or link, to never overwrite)."""
        directory = self.path.parent
        temp = directory / f".{self.path.name}.{os.urandom(6).hex()}.tmp"
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                with open(fd, "wb", closefd=True) as out:
                    if hasattr(os, "fchmod"):
                        os.fchmod(out.fileno(), 0o600)
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                if replace:
                    os.replace(temp, self.path)
                else:
                    try:
                        os.link(temp, self.path)
                    except FileExistsError:
                        return False
                    except OSError:  # no hard links on this filesystem: best effort
                        if self.path.exists():
                            return False
                        os.replace(temp, self.path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
        except OSError as exc:
            raise KeyFileError(self.path, f"cannot be written ({exc.strerror or exc})") from None
        _fsync_dir(directory)
        return True
