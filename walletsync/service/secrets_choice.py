"""Which key store holds a data dir's device secrets, and the first run on a machine with no OS keyring.

The key file named by ``--keyring-file``, ``$WALLETSYNC_KEYRING_FILE`` or ``config.json`` (in that
order), else the OS keyring. When a fresh data dir finds no usable OS keyring (a server, a container,
an ssh login), the passphrase-protected key file is offered right there: on a terminal the question
says what it is and asks for a new passphrase twice; without one, the error names the exact setting
to use. A fresh data dir remembers its key file in ``config.json``, so no later command needs the
flag. A data dir that already has keys somewhere is never given a new identity on a guess.

A key file unlocked with a typed passphrase stays unlocked for the login session
(:mod:`walletsync.store.unlocked`) for ``keep_unlocked`` seconds after its last use.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from walletsync.service.config import (
    KEYRING_FILE_ENV,
    Config,
    configured_keep_unlocked,
    configured_keyring_file,
    remember_keyring_file,
    remembered_keyring_file,
)
from walletsync.store.keys import (
    KEEP_UNLOCKED,
    PASSPHRASE_ENV,
    DeviceSecrets,
    KeyFileError,
    KeyringUnavailable,
    LoginSession,
    Prompt,
    open_device_secrets,
)

DEFAULT_KEY_FILE = "device-keys.json"
"""The key file offered to a fresh data dir with no OS keyring, inside that data dir."""


def open_secrets(config: Config, home: Path, prompt: Prompt | None, *, fresh: bool) -> DeviceSecrets:
    """The device secrets of ``home`` from the key store ``config`` and the data dir choose.

    ``fresh`` says the data dir holds no database yet: only then may a missing OS keyring lead to
    a key file (and is a key file remembered in ``config.json``). Raises a ``DeviceSecretsError``.
    """
    chosen = configured_keyring_file(config, home)
    if chosen is not None and not fresh and not chosen.exists():
        raise KeyFileError(
            chosen,
            "does not exist, and this data dir holds data sealed with its keys: restore the file, or name the "
            "right one with --keyring-file (a new key file would be another identity, unable to open that data)",
        )
    session = login_session(home)
    try:
        secrets = open_device_secrets(
            home, keyring_file=chosen, passphrase=config.passphrase, prompt=prompt, session=session
        )
    except KeyringUnavailable as exc:
        if not fresh:
            raise
        chosen = home / DEFAULT_KEY_FILE
        if prompt is None or config.passphrase or os.environ.get(PASSPHRASE_ENV):
            raise KeyringUnavailable(exc.reason, fix=_headless_fix(chosen)) from None
        offer = _offering(prompt, exc.reason, chosen, kept=session is not None)
        secrets = open_device_secrets(home, keyring_file=chosen, prompt=offer, session=session)
    if chosen is not None and fresh and remembered_keyring_file(home) is None:
        remember_keyring_file(home, chosen)
    return secrets


def login_session(home: Path) -> LoginSession | None:
    """Where typed passphrases are kept for the login session; None when ``config.json`` says never."""
    keep = configured_keep_unlocked(home, KEEP_UNLOCKED)
    return LoginSession(keep) if keep > 0 else None


def lock_key_files() -> list[Path]:
    """Forget every key file unlocked in this login session; the ones that were."""
    return LoginSession().lock_all()


def _headless_fix(path: Path) -> str:
    where = shlex.quote(str(path))
    return (
        "no OS keyring is available; to keep this device's keys in a passphrase-protected file instead, "
        f"run walletsync once in a terminal (it offers to create {where}), or set {KEYRING_FILE_ENV}={where} "
        f"and {PASSPHRASE_ENV} (or pass --keyring-file {where}): the data dir's config.json remembers it"
    )


def _offering(prompt: Prompt, reason: str, path: Path, *, kept: bool) -> Prompt:
    """``prompt``, with its first question preceded by what is being offered and why."""
    explained = False
    typed = (
        "You type the passphrase once per login session ('walletsync lock' forgets it sooner)."
        if kept
        else "You type the passphrase for every command (config.json's keep_unlocked is 0)."
    )

    def ask(question: str) -> str:
        nonlocal explained
        if not explained:
            explained = True
            question = (
                f"walletsync: no OS keyring is available here ({reason}).\n"
                "It can keep this device's keys in a file protected by a passphrase instead:\n"
                f"  {path}\n"
                f"The data dir's config.json remembers the file. {typed}\n"
                "To use an OS keyring instead, press Ctrl+C and start one.\n" + question
            )
        return prompt(question)

    return ask
