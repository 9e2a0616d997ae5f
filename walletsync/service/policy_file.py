"""The policy file in the data dir, and its attestation in the signed audit log.

``policies.json`` is indented JSON people can read and edit (:class:`~walletsync.policy.model.Policies`). It
takes effect only as attested: each ``policy set``/``clear``/``attest`` appends a ``policy_attested`` audit row
(signed by the device key) naming the file's sha256, and before every request the file is hashed again and
compared with the newest such row. Edited, replaced by an older copy, deleted, unreadable, or an attestation
that does not verify: every request is refused (rule ``policy_unattested``) with a message saying why and what
to run. So a file changed behind walletsync's back can never loosen a limit, only stop everything.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from walletsync.errors import WalletsyncError
from walletsync.paths import open_private
from walletsync.policy.model import MAX_FILE_BYTES, Policies, PolicyFileError
from walletsync.store.db import Database

FILE_NAME = "policies.json"
ATTESTED = "policy_attested"


class PolicyUnattested(WalletsyncError):
    """The policy file is not the one last attested: ``policy set`` will not build on it (``attest`` or ``clear``)."""

    code = "policy_unattested"


@dataclass(frozen=True)
class PolicyStatus:
    """The policy file as it is now: what it says and whether it is in force.

    ``problem`` is None when the file is the one last attested (or there is none and never was one); otherwise it
    says why every request is refused and what to run, and ``policies`` is what the file says if it can be read.
    """

    path: Path
    sha256: str | None
    """Of the file now; None when there is no file."""
    attested_sha256: str | None
    """What the newest attestation names (None: no file, or never attested)."""
    problem: str | None
    policies: Policies

    @property
    def in_force(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "attested": self.problem is None,
            "problem": self.problem,
        }


class PolicyFile:
    """Reads, writes and attests ``policies.json``; each method runs inside the caller's database transaction."""

    def __init__(self, home: Path, db: Database, audit: Callable[..., None], public_key: bytes) -> None:
        """``audit(kind, session, **data)`` appends a signed audit row; ``public_key`` checks the rows it finds."""
        self.path = home / FILE_NAME
        self.db, self.audit, self.public_key = db, audit, public_key
        self._verified: tuple[int, str] | None = None

    def status(self) -> PolicyStatus:
        """The file as it is now against its newest attestation (read the two inside one transaction)."""
        refused = "until then every request is refused"
        run = f"review {self.path}, then run 'walletsync policy attest' (or 'walletsync policy clear' to remove every policy)"
        ever, attested, problem = self._attested()
        try:
            text = self._read()
        except PolicyFileError as exc:
            return PolicyStatus(self.path, None, attested, f"{exc}; {refused}", Policies())
        digest = None if text is None else _sha256(text)
        policies = Policies()
        if text is not None:
            try:
                policies = Policies.from_text(text.decode("utf-8", "replace"))
            except PolicyFileError as exc:
                problem = (
                    problem or f"the policy file cannot be read ({exc}): fix it, then run 'walletsync policy attest'"
                )
                return PolicyStatus(self.path, digest, attested, f"{problem}; {refused}", Policies())
        if problem is None and digest == attested:
            return PolicyStatus(self.path, digest, attested, None, policies)
        if problem is None and digest is None:
            problem = (
                f"the attested policy file {self.path} is gone: restore it, or run 'walletsync policy attest' "
                "to accept having no policies"
            )
        elif problem is None and not ever:
            problem = f"the policy file was never attested: {run}"
        elif problem is None:
            problem = f"the policy file changed since it was attested: {run}"
        return PolicyStatus(self.path, digest, attested, f"{problem}; {refused}", policies)

    def write(self, policies: Policies, by: str, session: str | None = None, **data: Any) -> PolicyStatus:
        """Replace the file with ``policies`` and attest it, in one step; returns the new status.

        ``session``: the topic whose policy changed, for the audit row (None: the all-sessions policy or all)."""
        text = policies.to_text().encode("utf-8")
        temporary = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        fd = open_private(temporary, os.O_WRONLY | os.O_TRUNC)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self.audit(ATTESTED, session, sha256=_sha256(text), by=by, **data)
        return self.status()

    def attest(self) -> PolicyStatus:
        """Put the file as it is now in force (a missing file: no policies); :class:`PolicyFileError` if it is
        not a policy file walletsync can enforce."""
        text = self._read()
        if text is not None:
            Policies.from_text(text.decode("utf-8", "replace"))  # refuse to attest what cannot be enforced
        self.audit(ATTESTED, None, sha256=None if text is None else _sha256(text), by="attest")
        return self.status()

    def _read(self) -> bytes | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PolicyFileError(f"cannot read {self.path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as source:
            return source.read(MAX_FILE_BYTES + 1)

    def _attested(self) -> tuple[bool, str | None, str | None]:
        """Whether the file was ever attested, the sha256 the newest attestation names (None: no file), and a
        problem if that row is not the device's own."""
        entry = self.db.latest_audit(ATTESTED)
        if entry is None:
            return False, None, None
        if self._verified != (entry.seq, entry.signature):
            try:
                VerifyKey(self.public_key).verify(entry.canonical(), bytes.fromhex(entry.signature))
            except (BadSignatureError, TypeError, ValueError):
                return (
                    True,
                    None,
                    (
                        f"the policy file's attestation (audit row {entry.seq}) is not signed by this device: "
                        "run 'walletsync audit verify', then 'walletsync policy attest'"
                    ),
                )
            self._verified = (entry.seq, entry.signature)
        sha256 = entry.data.get("sha256")
        return True, (sha256 if isinstance(sha256, str) else None), None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
