"""Opening the device secrets: which :class:`KeyStore` holds them, created once under a lock.

:func:`open_device_secrets` is what the service calls: it loads the secrets, or creates
and stores them on first use, in the OS keyring (:mod:`walletsync.store.os_keyring`, the
default) or in a passphrase file (:mod:`walletsync.store.keyfile`, ``--keyring-file``).
Asking for a passphrase is the caller's business: it passes ``prompt`` (the CLI's lives in
:mod:`walletsync.commands.prompt`); the store never talks to a terminal itself. A caller that
passes a :class:`LoginSession` has a typed passphrase asked once per login session
(:mod:`walletsync.store.unlocked`).

This module is also the front door of the secrets: the value, both backends and every
error can be imported from here.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from walletsync.store.keyfile import (
    FILE_FORMAT,
    FILE_VERSION,
    KDF_MEMLIMIT,
    KDF_OPSLIMIT,
    KeyFileError,
    PassphraseFile,
    PassphraseRequired,
    WrongPassphrase,
)
from walletsync.store.os_keyring import (
    KEYRING_SERVICE,
    KeyringFailed,
    KeyringLocked,
    KeyringUnavailable,
    OsKeyring,
)
from walletsync.store.secrets import (
    SECRETS_SIZE,
    SEED_SIZE,
    STORAGE_KEY_SIZE,
    DeviceSecrets,
    DeviceSecretsError,
    InvalidSecrets,
    KeyStore,
)
from walletsync.store.unlocked import KEEP_UNLOCKED, LoginSession

__all__ = [
    "FILE_FORMAT",
    "FILE_VERSION",
    "KDF_MEMLIMIT",
    "KDF_OPSLIMIT",
    "KEEP_UNLOCKED",
    "KEYRING_SERVICE",
    "BACKENDS",
    "PASSPHRASE_ENV",
    "PROMPT_ATTEMPTS",
    "SECRETS_SIZE",
    "SEED_SIZE",
    "STORAGE_KEY_SIZE",
    "DeviceSecrets",
    "DeviceSecretsError",
    "InvalidSecrets",
    "KeyFileError",
    "KeyStore",
    "KeyringFailed",
    "KeyringLocked",
    "KeyringUnavailable",
    "LoginSession",
    "OsKeyring",
    "PassphraseFile",
    "PassphraseMismatch",
    "PassphraseRequired",
    "Prompt",
    "WrongPassphrase",
    "open_device_secrets",
]

PASSPHRASE_ENV = "WALLETSYNC_PASSPHRASE"
PROMPT_ATTEMPTS = 3

BACKENDS: tuple[type[KeyStore], ...] = (OsKeyring, PassphraseFile)
"""Where device secrets may live; typed so that mypy holds both to the :class:`KeyStore` interface."""

Prompt = Callable[[str], str]
"""Asks the user ``question`` and returns the answer; raises EOFError if there is no answer."""


class PassphraseMismatch(DeviceSecretsError):
    """The two passphrases typed for a new key file differ; nothing was written."""

    code = "passphrase_mismatch"


def open_device_secrets(
    data_dir: Path,
    *,
    keyring_file: Path | None = None,
    passphrase: str | None = None,
    prompt: Prompt | None = None,
    session: LoginSession | None = None,
) -> DeviceSecrets:
    """The device secrets for ``data_dir``, created and stored on first use.

    Keyring mode (``keyring_file`` None): the OS keyring entry for ``data_dir``; nothing
    is written to ``data_dir``. File mode: ``keyring_file`` sealed with the passphrase
    from ``passphrase``, else ``$WALLETSYNC_PASSPHRASE``, else asked with ``prompt`` (a
    new file asks twice, a mistyped one up to :data:`PROMPT_ATTEMPTS` times); with none of
    the three, :class:`PassphraseRequired`. ``data_dir`` is not used in file mode: the
    file is the identity. With ``session``, a key file already unlocked in this login session
    opens without Argon2id or a question, and one opened with a passphrase typed at ``prompt``
    is kept unlocked for the session (one given as an argument or in the environment is not:
    scripts leave no agent behind).

    Raises a :class:`DeviceSecretsError`: :class:`KeyringUnavailable`, :class:`KeyringLocked`,
    :class:`KeyringFailed`, :class:`InvalidSecrets`, :class:`KeyFileError`,
    :class:`WrongPassphrase`, :class:`PassphraseRequired`, :class:`PassphraseMismatch`.
    """
    if keyring_file is None:
        return _open_in_keyring(OsKeyring(data_dir))
    path = Path(keyring_file).expanduser()
    found = session.get(path) if session is not None else None
    if found is not None:
        return found
    secrets, typed = _open_in_file(path, passphrase, prompt)
    if typed and session is not None:
        session.keep(path, secrets)
    return secrets


@contextlib.contextmanager
def _first_use_lock(directory: Path) -> Iterator[None]:
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


def _open_in_file(path: Path, passphrase: str | None, prompt: Prompt | None) -> tuple[DeviceSecrets, bool]:
    """The file's secrets, and whether the passphrase that opened them was typed at ``prompt``."""
    given = passphrase if passphrase is not None else (os.environ.get(PASSPHRASE_ENV) or None)
    if given is not None:
        return _load_or_create(PassphraseFile(path, given)), False
    ask = _prompter(path, prompt)
    if not path.exists():
        first = ask(f"New passphrase for the walletsync key file {path}: ")
        if not first:
            raise PassphraseRequired(f"an empty passphrase cannot protect the key file {path}")
        if ask("Repeat the passphrase: ") != first:
            raise PassphraseMismatch(f"the passphrases did not match; {path} was not created")
        return _load_or_create(PassphraseFile(path, first)), True
    for attempt in range(1, PROMPT_ATTEMPTS + 1):
        try:
            return _load_or_create(PassphraseFile(path, ask(f"Passphrase for the walletsync key file {path}: "))), True
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


def _prompter(path: Path, prompt: Prompt | None) -> Prompt:
    """``prompt`` with "no answer" (EOF, or not a str) as :class:`PassphraseRequired`; that error if no prompt."""
    if prompt is None:
        raise PassphraseRequired(
            f"the key file {path} needs a passphrase: set {PASSPHRASE_ENV}, or run walletsync in a terminal to be asked"
        )
    asker = prompt

    def ask(text: str) -> str:
        try:
            answer = asker(text)
        except EOFError:
            raise PassphraseRequired(f"no passphrase was entered for the key file {path}") from None
        if not isinstance(answer, str):
            raise PassphraseRequired(f"no passphrase was entered for the key file {path}")
        return answer

    return ask
