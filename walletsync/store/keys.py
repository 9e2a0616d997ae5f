"""The device's two secrets, and where they live: the OS keyring, or a passphrase-sealed file.

A walletsync data dir belongs to one device identity, made of two 32-byte secrets
(:class:`DeviceSecrets`): the Ed25519 seed behind the relay client id and the audit
signatures, and the storage key that seals pairing and session keys inside SQLite
(:mod:`walletsync.store.sealing`). Neither is ever written to disk in clear.

Where they are kept:

- **The OS keyring** (default, :class:`OsKeyring`): one entry per data dir, service
  ``walletsync``, username ``device:`` + the first 16 hex digits of sha256 of the data
  dir's resolved path, so two data dirs never share an identity. Only a real OS keyring
  is accepted (Secret Service, KWallet, macOS Keychain, Windows Credential Locker, or any
  backend keyring itself calls recommended). No backend, a disabled one, or a plaintext
  one (keyrings.alt and the like) is :class:`KeyringUnavailable`, with the fix in its
  message: walletsync never falls back to a plain file on its own.
- **A passphrase file** (:class:`PassphraseFile`, ``--keyring-file PATH``): the explicit
  opt-in for machines without a keyring. Argon2id derives a key from the passphrase;
  SecretBox seals the 64 bytes; the file is JSON, written atomically with mode 0600.

:func:`open_device_secrets` is what the service calls: it loads the secrets, or creates
and stores them on first use. Everything raised here is a :class:`DeviceSecretsError`
whose message says what to do; no message ever contains key material.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import getpass
import hashlib
import json
import os
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from nacl.exceptions import CryptoError
from nacl.pwhash import argon2id
from nacl.secret import SecretBox
from nacl.utils import random as nacl_random

from walletsync.errors import WalletsyncError
from walletsync.protocol.relay_auth import RelayIdentity

try:  # present wherever keyring can use the Secret Service
    from secretstorage.exceptions import LockedException as _SsLocked
    from secretstorage.exceptions import PromptDismissedException as _SsDismissed

    _SECRETSTORAGE_LOCKED: tuple[type[BaseException], ...] = (_SsLocked, _SsDismissed)
except ImportError:  # pragma: no cover - non-Linux platforms
    _SECRETSTORAGE_LOCKED = ()

SEED_SIZE = 32
STORAGE_KEY_SIZE = 32
SECRETS_SIZE = SEED_SIZE + STORAGE_KEY_SIZE

KEYRING_SERVICE = "walletsync"
PASSPHRASE_ENV = "WALLETSYNC_PASSPHRASE"

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
PROMPT_ATTEMPTS = 3


# --- errors -----------------------------------------------------------------------------


class DeviceSecretsError(WalletsyncError):
    """The device secrets could not be loaded or stored. Messages never contain key material."""

    code = "device_secrets"


class KeyringUnavailable(DeviceSecretsError):
    """No usable OS keyring: none installed or running, disabled, or only a plaintext one.

    ``reason`` is what keyring reported (or why the backend was refused). The fix is in
    the message: start a keyring, or opt in to ``--keyring-file``.
    """

    code = "keyring_unavailable"
    FIX = (
        "no OS keyring is available (install and unlock gnome-keyring or KWallet, or run inside a "
        "desktop session), or use --keyring-file PATH to keep the keys in a passphrase-protected file"
    )

    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        super().__init__(f"{self.FIX} [{reason}]" if reason else self.FIX)


class KeyringLocked(DeviceSecretsError):
    """The keyring exists but is locked, or its unlock prompt was dismissed. Unlock it and retry."""

    code = "keyring_locked"

    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        message = "the OS keyring is locked: unlock it and retry"
        super().__init__(f"{message} [{reason}]" if reason else message)


class KeyringFailed(DeviceSecretsError):
    """The keyring backend failed in some other way (D-Bus error, refused write, ...)."""

    code = "keyring_error"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the OS keyring failed: {reason}")


class InvalidSecrets(DeviceSecretsError):
    """Bytes that are not a device's secrets: wrong length, or a keyring entry walletsync did not write."""

    code = "invalid_secrets"


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
    """File mode needs a passphrase and there is none: no argument, no $WALLETSYNC_PASSPHRASE, no terminal."""

    code = "passphrase_required"


class PassphraseMismatch(DeviceSecretsError):
    """The two passphrases typed for a new key file differ; nothing was written."""

    code = "passphrase_mismatch"


# --- the secrets --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceSecrets:
    """The device's identity seed and storage key. Holds secrets: never log or print them.

    ``repr``/``str`` show only the public relay client id. Keep the object in memory
    only as long as needed; store it with :class:`OsKeyring` or :class:`PassphraseFile`.
    """

    identity_seed: bytes = field(repr=False)
    storage_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        for name, size in (("identity_seed", SEED_SIZE), ("storage_key", STORAGE_KEY_SIZE)):
            value = getattr(self, name)
            if not isinstance(value, (bytes, bytearray)) or len(value) != size:
                raise InvalidSecrets(f"{name} must be {size} bytes")
            object.__setattr__(self, name, bytes(value))

    @classmethod
    def generate(cls, random: Callable[[int], bytes] = os.urandom) -> DeviceSecrets:
        """Fresh secrets from ``random`` (the OS CSPRNG unless a test passes its own)."""
        return cls(random(SEED_SIZE), random(STORAGE_KEY_SIZE))

    @classmethod
    def from_bytes(cls, data: bytes) -> DeviceSecrets:
        """The inverse of :meth:`to_bytes`; :class:`InvalidSecrets` unless exactly 64 bytes."""
        if not isinstance(data, (bytes, bytearray)) or len(data) != SECRETS_SIZE:
            raise InvalidSecrets(f"device secrets must be {SECRETS_SIZE} bytes")
        return cls(bytes(data[:SEED_SIZE]), bytes(data[SEED_SIZE:]))

    def to_bytes(self) -> bytes:
        """``identity_seed ‖ storage_key`` (64 bytes): only for sealing or a keyring, never for disk in clear."""
        return self.identity_seed + self.storage_key

    @cached_property
    def identity(self) -> RelayIdentity:
        """The Ed25519 relay identity (client id, JWT and audit signing) behind ``identity_seed``."""
        return RelayIdentity(self.identity_seed)

    @property
    def client_id(self) -> str:
        """The public did:key the relay knows this device by."""
        return self.identity.client_id

    def __repr__(self) -> str:
        return f"DeviceSecrets(client_id={self.client_id!r})"

    __str__ = __repr__


# --- the OS keyring -----------------------------------------------------------------------


def _label(backend: KeyringBackend) -> str:
    try:
        return str(type(backend).name)
    except Exception:  # a third-party backend with a broken name property
        return type(backend).__qualname__


def _refusal(backend: KeyringBackend) -> str | None:
    """Why ``backend`` must not hold device secrets, or None if it is a real OS keyring."""
    kind = type(backend)
    if isinstance(backend, fail.Keyring):
        return "keyring found no backend (keyring.backends.fail)"
    if isinstance(backend, null.Keyring):
        return "keyring is disabled (keyring.backends.null)"
    if kind.__module__.startswith("keyrings.alt") or "plaintext" in kind.__name__.lower():
        return f"{_label(backend)} keeps secrets in a file, not an OS keyring; walletsync refuses it"
    try:
        priority = kind.priority
    except Exception as exc:  # keyring's way of saying "not usable here"
        return f"{_label(backend)} is not usable here: {_describe(exc)}"
    if not isinstance(priority, (int, float)) or priority < 1:
        return f"{_label(backend)} is not a recommended (secure) keyring backend; walletsync refuses it"
    return None


def _usable_backend() -> KeyringBackend:
    """keyring's current backend if it is a real OS keyring (the best one behind a chainer)."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a keyringrc or PYTHON_KEYRING_BACKEND naming a missing backend
        raise KeyringUnavailable(_describe(exc)) from None
    if isinstance(backend, chainer.ChainerBackend):
        try:
            chained = list(backend.backends)
        except Exception as exc:
            raise KeyringUnavailable(_describe(exc)) from None
        refusals = [_refusal(candidate) for candidate in chained]
        usable = [candidate for candidate, refusal in zip(chained, refusals) if refusal is None]
        if not usable:
            raise KeyringUnavailable("; ".join(r for r in refusals if r) or "the keyring chainer has no backends")
        return usable[0]  # the chainer sorts by priority; writing only there keeps secrets out of weaker ones
    refusal = _refusal(backend)
    if refusal is not None:
        raise KeyringUnavailable(refusal)
    return backend


def _describe(exc: BaseException, scrub: str | None = None) -> str:
    text = str(exc).strip()
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if scrub:
        text = text.replace(scrub, "<redacted>").replace(scrub.upper(), "<redacted>")
    return text if len(text) <= 300 else text[:297] + "..."


def _chain(exc: BaseException):
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _keyring_error(exc: BaseException, scrub: str | None = None) -> DeviceSecretsError:
    """A backend exception as one of ours, with keyring's reason and without any secret."""
    reason = _describe(exc, scrub)
    if any(isinstance(e, keyring.errors.KeyringLocked) or isinstance(e, _SECRETSTORAGE_LOCKED) for e in _chain(exc)):
        return KeyringLocked(reason)
    if isinstance(exc, keyring.errors.NoKeyringError):
        return KeyringUnavailable(reason)
    return KeyringFailed(reason)


class OsKeyring:
    """The device secrets of one data dir, in the OS keyring (service ``walletsync``).

    Every call checks the current keyring backend first (:class:`KeyringUnavailable`
    if it is missing or not a real OS keyring) and turns the backend's errors into
    :class:`KeyringLocked` or :class:`KeyringFailed`.
    """

    service = KEYRING_SERVICE

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.username = "device:" + hashlib.sha256(str(self.data_dir).encode("utf-8")).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"OsKeyring(service={self.service!r}, username={self.username!r}, data_dir={str(self.data_dir)!r})"

    @property
    def backend_name(self) -> str:
        """The keyring backend in use, for display (``"SecretService Keyring"``)."""
        return _label(_usable_backend())

    def load(self) -> DeviceSecrets | None:
        """This data dir's secrets, or None if the keyring holds none yet."""
        backend = _usable_backend()
        try:
            value = backend.get_password(self.service, self.username)
        except Exception as exc:
            raise _keyring_error(exc) from None
        if value is None:
            return None
        where = f"the OS keyring entry {self.service}/{self.username}"
        try:
            return DeviceSecrets.from_bytes(bytes.fromhex(value))
        except (ValueError, TypeError, InvalidSecrets):
            raise InvalidSecrets(
                f"{where} is not walletsync device keys (not {SECRETS_SIZE * 2} hex digits); "
                "it was changed outside walletsync: restore it, or delete it and pair again"
            ) from None

    def save(self, secrets: DeviceSecrets) -> None:
        """Store ``secrets`` for this data dir, replacing any already there."""
        if not isinstance(secrets, DeviceSecrets):
            raise TypeError("save() takes DeviceSecrets")
        backend = _usable_backend()
        value = secrets.to_bytes().hex()
        try:
            backend.set_password(self.service, self.username, value)
        except Exception as exc:
            raise _keyring_error(exc, scrub=value) from None

    def delete(self) -> bool:
        """Forget this data dir's secrets; False if there were none. Sealed data becomes unreadable."""
        if self.load() is None:
            return False
        backend = _usable_backend()
        try:
            backend.delete_password(self.service, self.username)
        except Exception as exc:
            raise _keyring_error(exc) from None
        return True


# --- the passphrase file ------------------------------------------------------------------


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


# --- the one entry point ------------------------------------------------------------------


def open_device_secrets(
    data_dir: Path,
    *,
    keyring_file: Path | None = None,
    passphrase: str | None = None,
    prompt: Callable[[str], str] | None = None,
) -> DeviceSecrets:
    """The device secrets for ``data_dir``, created and stored on first use.

    Keyring mode (``keyring_file`` None): the OS keyring entry for ``data_dir``; nothing
    is written to ``data_dir``. File mode: ``keyring_file`` sealed with the passphrase
    from ``passphrase``, else ``$WALLETSYNC_PASSPHRASE``, else asked with ``prompt`` (or
    ``getpass`` when stdin is a terminal; a new file asks twice). ``data_dir`` is not
    used in file mode: the file is the identity.

    Raises a :class:`DeviceSecretsError`: :class:`KeyringUnavailable`, :class:`KeyringLocked`,
    :class:`KeyringFailed`, :class:`InvalidSecrets`, :class:`KeyFileError`,
    :class:`WrongPassphrase`, :class:`PassphraseRequired`, :class:`PassphraseMismatch`.
    """
    if keyring_file is None:
        return _open_in_keyring(OsKeyring(data_dir))
    return _open_in_file(Path(keyring_file).expanduser(), passphrase, prompt)


@contextlib.contextmanager
def _first_use_lock(directory: Path):
    """One process at a time creates a data dir's keys: an flock on the directory itself (it writes nothing)."""
    while not directory.is_dir():  # not created yet: the nearest existing parent serves as well
        directory = directory.parent
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _open_in_keyring(ring: OsKeyring) -> DeviceSecrets:
    found = ring.load()
    if found is not None:
        return found
    with _first_use_lock(ring.data_dir):
        found = ring.load()  # another walletsync may have created them while we waited
        if found is not None:
            return found
        ring.save(DeviceSecrets.generate())
        stored = ring.load()  # read back: a backend that drops writes fails here, not after pairing
    if stored is None:
        raise KeyringFailed(f"{ring.backend_name} accepted the new device keys but does not return them")
    return stored


def _open_in_file(path: Path, passphrase: str | None, prompt: Callable[[str], str] | None) -> DeviceSecrets:
    given = passphrase if passphrase is not None else (os.environ.get(PASSPHRASE_ENV) or None)
    if given is not None:
        return _load_or_create(PassphraseFile(path, given))
    ask = _prompter(path, prompt)
    if not path.exists():
        first = ask(f"New passphrase for the walletsync key file {path}: ")
        if not first:
            raise PassphraseRequired(f"an empty passphrase cannot protect the key file {path}")
        if ask("Repeat the passphrase: ") != first:
            raise PassphraseMismatch(f"the passphrases did not match; {path} was not created")
        return _load_or_create(PassphraseFile(path, first))
    for attempt in range(1, PROMPT_ATTEMPTS + 1):
        try:
            return _load_or_create(PassphraseFile(path, ask(f"Passphrase for the walletsync key file {path}: ")))
        except WrongPassphrase:
            if attempt == PROMPT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _load_or_create(file: PassphraseFile) -> DeviceSecrets:
    found = file.load()
    if found is not None:
        return found
    secrets = DeviceSecrets.generate()
    if file.create(secrets):
        return secrets
    found = file.load()  # another walletsync created it a moment ago
    if found is None:
        raise KeyFileError(file.path, "disappeared while it was being created")
    return found


def _prompter(path: Path, prompt: Callable[[str], str] | None) -> Callable[[str], str]:
    if prompt is None:
        try:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        except (ValueError, OSError):  # stdin closed
            interactive = False
        if not interactive:
            raise PassphraseRequired(
                f"the key file {path} needs a passphrase: set {PASSPHRASE_ENV}, or run walletsync in a terminal to be asked"
            )
        prompt = getpass.getpass

    def ask(text: str) -> str:
        try:
            answer = prompt(text)
        except EOFError:
            raise PassphraseRequired(f"no passphrase was entered for the key file {path}") from None
        if not isinstance(answer, str):
            raise PassphraseRequired(f"no passphrase was entered for the key file {path}")
        return answer

    return ask
