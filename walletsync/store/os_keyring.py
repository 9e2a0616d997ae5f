"""The OS keyring as a :class:`~walletsync.store.secrets.KeyStore`, and the probing that refuses fake ones.

One entry per data dir: service ``walletsync``, username ``device:`` + the first 16 hex
digits of sha256 of the data dir's resolved path, so two data dirs never share an
identity. Only a real OS keyring is accepted (Secret Service, KWallet, macOS Keychain,
Windows Credential Locker, or any backend keyring itself calls recommended). No backend,
a disabled one, or a plaintext one (keyrings.alt and the like) is
:class:`KeyringUnavailable`, with the fix in its message: walletsync never falls back to
a plain file on its own.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.errors
import keyring.util.platform_
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from walletsync.store.secrets import SECRETS_SIZE, DeviceSecrets, DeviceSecretsError, InvalidSecrets

try:  # present wherever keyring can use the Secret Service
    from secretstorage.exceptions import LockedException as _SsLocked
    from secretstorage.exceptions import PromptDismissedException as _SsDismissed

    _SECRETSTORAGE_LOCKED: tuple[type[BaseException], ...] = (_SsLocked, _SsDismissed)
except ImportError:  # pragma: no cover - non-Linux platforms
    _SECRETSTORAGE_LOCKED = ()

KEYRING_SERVICE = "walletsync"


class KeyringUnavailable(DeviceSecretsError):
    """No usable OS keyring: none installed or running, disabled, or only a plaintext one.

    ``reason`` is what keyring reported (or why the backend was refused). The fix is in
    the message: start a keyring, or opt in to ``--keyring-file``; a caller that knows a
    more exact one (the path to give) passes it as ``fix``.
    """

    code = "keyring_unavailable"
    FIX = (
        "no OS keyring is available (install and unlock gnome-keyring or KWallet, or run inside a "
        "desktop session), or use --keyring-file PATH to keep the keys in a passphrase-protected file"
    )

    def __init__(self, reason: str = "", fix: str | None = None) -> None:
        self.reason = reason
        fix = fix or self.FIX
        super().__init__(f"{fix} [{reason}]" if reason else fix)


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


def _secret_service_when_unconfigured() -> None:
    """Hand keyring the Secret Service backend when its own detection could choose nothing else.

    keyring's detection imports every backend and scans every installed package's entry points (on Linux
    its macOS backend even runs ldconfig): about 50 ms of every command. On Linux with no keyring
    configuration (``PYTHON_KEYRING_BACKEND``, keyringrc.cfg) and no KDE session, a running Secret Service
    is what it would choose, so that backend alone is asked. Anything else goes through the detection.
    """
    if sys.platform != "linux" or getattr(keyring.core, "_keyring_backend", None) is not None:
        return  # chosen already (by an earlier call, or by whoever embeds walletsync)
    if os.environ.get("PYTHON_KEYRING_BACKEND") or "KDE" in os.environ.get("XDG_CURRENT_DESKTOP", "").split(":"):
        return
    if (keyring.util.platform_.config_root() / "keyringrc.cfg").exists():
        return
    try:
        from keyring.backends import SecretService

        SecretService.Keyring.priority  # noqa: B018 - raises unless a Secret Service is running or activatable
    except Exception:
        return
    keyring.set_keyring(SecretService.Keyring())  # type: ignore[no-untyped-call]


def _usable_backend() -> KeyringBackend:
    """keyring's current backend if it is a real OS keyring (the best one behind a chainer)."""
    _secret_service_when_unconfigured()
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a keyringrc or PYTHON_KEYRING_BACKEND naming a missing backend
        raise KeyringUnavailable(_describe(exc)) from None
    if isinstance(backend, chainer.ChainerBackend):
        try:
            chained: list[KeyringBackend] = list(backend.backends)
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


def _chain(exc: BaseException) -> Iterator[BaseException]:
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
