"""The façade's policy half: showing, setting, clearing and attesting the user's limits on sessions.

:class:`~walletsync.service.companion.Companion` inherits these; enforcing them on each request is
:class:`~walletsync.service.policies.PolicyGate`'s job. Policies belong to this device (its data dir): the
device group does not carry them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from walletsync.protocol.namespaces import granted_chains
from walletsync.service.scopes import DEFAULT_CHAINS
from walletsync.store.db import Database, SessionRecord

if TYPE_CHECKING:  # the policy rules load when policies are used, not at every start
    from walletsync.policy.model import Policy
    from walletsync.service.policies import PolicyGate
    from walletsync.service.policy_file import PolicyStatus


@dataclass(frozen=True)
class PolicyView:
    """The policies as they stand: the file's status and what it says, for one session or for all.

    ``session`` is None for the whole file; ``names`` maps each session topic in the file to its current name.
    """

    status: PolicyStatus
    session: SessionRecord | None
    names: Mapping[str, str]

    @property
    def own(self) -> Policy | None:
        """The session's own policy (None: none, or the view is of the whole file)."""
        return self.status.policies.sessions.get(self.session.topic) if self.session else None

    @property
    def all(self) -> Policy | None:
        """The policy for every session (None: none)."""
        return self.status.policies.all

    def to_json(self) -> dict[str, Any]:
        """The ``policy show --json`` document."""
        document: dict[str, Any] = {"file": self.status.to_json()}
        if self.session is not None:
            own = self.own
            document |= {"session": self.session.name, "topic": self.session.topic}
            document["policy"] = None if own is None else own.to_json()
            document["all"] = None if self.all is None else self.all.to_json()
            return document
        document["all"] = None if self.all is None else self.all.to_json()
        document["sessions"] = [
            {"session": self.names.get(topic), "topic": topic, "policy": policy.to_json()}
            for topic, policy in sorted(self.status.policies.sessions.items())
        ]
        return document


class PolicyMethods:
    """The policy methods of the façade (the attributes and calls below are the Companion's)."""

    db: Database
    policies: PolicyGate
    clock: Callable[[], float]
    resolve: Callable[[str], SessionRecord]

    def policy(self, ref: str | None = None) -> PolicyView:
        """The policies in force for session ``ref`` (its own and the all-sessions one), or the whole file without
        ``ref``; the view says whether the file is attested (if not, every request is refused and it says why)."""
        record = self.resolve(ref) if ref else None
        with self.db.snapshot():
            status = self.policies.file.status()
        return PolicyView(status, record, self._names(status.policies.sessions))

    def set_policy(
        self,
        ref: str | None,
        *,
        chains: Iterable[str] | None = None,
        methods: Iterable[str] | None = None,
        max_native_per_day: Iterable[str] = (),
        max_token_per_day: Iterable[str] = (),
        recipients: Iterable[str] | None = None,
        max_requests_per_hour: int | None = None,
        allow_unlimited_approvals: bool = False,
    ) -> PolicyView:
        """The view after replacing session ``ref``'s policy (None: the all-sessions policy) with exactly these
        limits, written and attested in one step (audited).

        Bad input is :class:`PolicyFileError`, :class:`BadAmount` or :class:`UnknownToken`; a policy file changed
        since it was attested is :class:`PolicyUnattested` (attest or clear it first: ``set`` never builds on it).
        """
        from walletsync.policy.model import ALL
        from walletsync.service.policy_input import policy_from_input

        record = self.resolve(ref) if ref else None
        policy = policy_from_input(
            self.policies.lookup,
            self._token_chains(record),
            chains=chains,
            methods=methods,
            max_native_per_day=max_native_per_day,
            max_token_per_day=max_token_per_day,
            recipients=recipients,
            max_requests_per_hour=max_requests_per_hour,
            allow_unlimited_approvals=allow_unlimited_approvals,
        )
        scope = record.topic if record else ALL
        with self.db.transaction():
            status = self._attested_status()
            changed = status.policies.with_policy(scope, policy, record.name if record else None)
            session = record.topic if record else None
            self.policies.file.write(changed, "set", session, scope=_scope(record), policy=policy.to_json())
        return self.policy(ref)

    def clear_policy(self, ref: str | None = None, *, all_sessions: bool = False) -> PolicyView:
        """The view after removing session ``ref``'s policy, or the all-sessions policy (``all_sessions``), or with
        neither every policy; written and attested in one step (audited).

        Removing one policy from a file changed since it was attested is :class:`PolicyUnattested`; removing every
        policy is always allowed (it is how to start over).
        """
        from walletsync.policy.model import ALL, Policies

        record = self.resolve(ref) if ref else None
        with self.db.transaction():
            if record is None and not all_sessions:
                self.policies.file.write(Policies(), "clear", None, scope="every")
            else:
                status = self._attested_status()
                changed = status.policies.with_policy(record.topic if record else ALL, None)
                self.policies.file.write(changed, "clear", record.topic if record else None, scope=_scope(record))
        return self.policy(ref)

    def attest_policy(self) -> PolicyView:
        """The view after putting the policy file as it is now in force (audited with its sha256); a missing file
        means no policies. :class:`PolicyFileError` when the file is not one walletsync can enforce."""
        with self.db.transaction():
            self.policies.file.attest()
        return self.policy()

    def _attested_status(self) -> PolicyStatus:
        from walletsync.service.policy_file import PolicyUnattested

        status = self.policies.file.status()
        if status.problem is not None:
            raise PolicyUnattested(status.problem)
        return status

    def _token_chains(self, record: SessionRecord | None) -> list[str]:
        """Where a token named without a chain is looked up: the session's chains, or every active session's."""
        records = [record] if record else self.db.sessions(include_ended=False)
        chains = [c for r in records for c in granted_chains(r.namespaces)]
        return chains if record else chains + list(DEFAULT_CHAINS)

    def _names(self, topics: Iterable[str]) -> dict[str, str]:
        names = {}
        for topic in topics:
            record = self.db.session(topic)
            if record is not None:
                names[topic] = record.name
        return names


def _scope(record: SessionRecord | None) -> str:
    return record.name if record else "all"
