"""The policy gate on the request path: read, judged and reserved before the phone is asked; settled from its answer.

:meth:`PolicyGate.guarded` wraps every push of a request (:meth:`Companion.request`, so ``sign`` too, and the
signer bridge to come). In one ``BEGIN IMMEDIATE`` transaction it checks the policy file's attestation, reads
what the last 24 h used, judges the request (:func:`walletsync.policy.evaluate.evaluate`) and reserves its
amounts, so seven requests at once, from one process or two, can never all pass a cap that fits five. A refusal
writes a ``request_refused_by_policy`` audit row naming its rule and raises :class:`PolicyRefused`: nothing
reaches the phone. Once the phone answers, the reservation is spent (approved) or released (rejected, failed);
one whose answer never comes counts until its request expires (a late answer then still spends it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walletsync.chains.model import Lookup, NoRegistry
from walletsync.errors import WalletsyncError
from walletsync.protocol.errors import OutOfScope
from walletsync.protocol.events import RequestSent
from walletsync.service.accounts import account_for
from walletsync.service.outcomes import RequestOutcome
from walletsync.service.relay_choice import ONLINE_TIMEOUT
from walletsync.store.budgets import MAX_USES
from walletsync.store.db import Database, SessionRecord

if TYPE_CHECKING:  # the policy rules and the decoder load on the first request, not at every start
    from walletsync.decode.model import Decoded
    from walletsync.policy.evaluate import Refusal
    from walletsync.service.policy_file import PolicyFile

MAX_TYPED_DATA = 1 << 20
"""Bytes of typed-data JSON the gate reads to find a permit."""


class PolicyRefused(WalletsyncError):
    """A policy refused the request before it reached the phone; ``rule`` names which limit (stable, for scripts)."""

    code = "policy_refused"

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"refused by policy ({refusal.rule}): {refusal.message}")
        self.rule = refusal.rule
        self.refusal = refusal
        """The rule, the message for people (what to do) and the scope whose policy refused it."""
        self.fields: dict[str, Any] = {"rule": refusal.rule}
        """What ``--json`` adds to the error object."""


class PolicyGate:
    """Judges and reserves each request under the data dir's policies; the companion's ``policies``."""

    def __init__(
        self,
        home: Path,
        db: Database,
        audit: Callable[..., None],
        public_key: bytes,
        clock: Callable[[], float],
        registry: Callable[[], Lookup] = NoRegistry,
    ) -> None:
        """``registry()`` reads the chain registry as it is now (the user's additions included)."""
        self.db, self.audit, self.clock, self.registry = db, audit, clock, registry
        self._home, self._public_key = home, public_key

    @cached_property
    def file(self) -> PolicyFile:
        """The data dir's policy file and its attestation."""
        from walletsync.service.policy_file import PolicyFile

        return PolicyFile(self._home, self.db, self.audit, self._public_key)

    @property
    def lookup(self) -> Lookup:
        """The chain registry: chains' currencies and decimals, tokens' symbols and decimals."""
        return self.registry()

    async def guarded(
        self,
        record: SessionRecord,
        chain_id: str,
        method: str,
        params: Any,
        expiry: int,
        push: Callable[[Callable[[RequestSent], None]], Awaitable[RequestOutcome]],
        on_sent: Callable[[RequestSent], None] | None = None,
    ) -> RequestOutcome:
        """The outcome of ``push``, run only if the policies let the request through; :class:`PolicyRefused` if not.

        ``push(sent)`` pushes the request and returns its outcome, calling ``sent`` once it is on its way.
        """
        use = self.reserve(record, chain_id, method, params, expiry)

        def sent(event: RequestSent) -> None:
            if use is not None:
                with self.db.transaction():
                    self.db.attach_use(use, event.id, event.expiry)
            if on_sent is not None:
                on_sent(event)

        try:
            outcome = await push(sent)
        except OutOfScope:  # refused by the engine before anything was sent
            self._settle(use, "released")
            raise
        self._settle(use, "spent" if outcome.error is None else "released")
        return outcome

    def reserve(self, record: SessionRecord, chain_id: str, method: str, params: Any, expiry: int) -> int | None:
        """Check the request and reserve what it would use; returns the reservation's id, or None when there is
        nothing to count (no policy at all, or no room left while none applies to this session).
        :class:`PolicyRefused`, audited, when a policy refuses it.

        Without any policy nothing is recorded (no transaction on the request path): a cap counts what went
        through walletsync since policies were first set, within its 24 h.
        """
        first = self.file.status()
        if first.problem is None and first.policies.empty:
            return None
        from walletsync.policy.evaluate import DAY, POLICY_UNATTESTED, RATE_LIMIT, Refusal, Request, evaluate
        from walletsync.policy.model import ALL

        now = int(self.clock())
        lookup = self.lookup
        decoded = decoded_request(method, params, chain_id, account_for(record, chain_id), lookup, now)
        refusal: Refusal | None = None
        use: int | None = None
        with self.db.transaction():  # the check and the reservation in one BEGIN IMMEDIATE: nobody in between
            status = self.file.status()
            if status.problem is not None:
                refusal = Refusal(POLICY_UNATTESTED, status.problem, ALL)
            elif self.db.prune_uses(now) >= MAX_USES:
                if status.policies.applying(record.topic):
                    refusal = Refusal(
                        RATE_LIMIT, f"more than {MAX_USES} requests in 24 h: too many for a policy to count", ALL
                    )
            else:
                request = Request(record.topic, method, chain_id, decoded)
                verdict = evaluate(status.policies, request, self.db.uses_since(now - DAY), now, lookup)
                if isinstance(verdict, Refusal):
                    refusal = verdict
                else:
                    use = self.db.add_use(record.topic, now, now + expiry + int(ONLINE_TIMEOUT) + 5, verdict.amounts)
            if refusal is not None:
                self.audit(
                    "request_refused_by_policy",
                    record.topic,
                    method=method,
                    chain_id=chain_id,
                    rule=refusal.rule,
                    scope=refusal.scope,
                    message=refusal.message,
                )
        if refusal is not None:
            raise PolicyRefused(refusal)
        return use

    def _settle(self, use: int | None, state: str) -> None:
        if use is not None:
            with self.db.transaction():
                self.db.settle_use(use, "spent" if state == "spent" else "released")


def decoded_request(method: str, params: Any, chain_id: str, account: str, lookup: Lookup, now: int) -> Decoded | None:
    """What the request would do, as :mod:`walletsync.decode` reads it; None for a method (or params) walletsync
    cannot read: a policy that counts value then refuses it."""
    from walletsync.decode.message import decode_message
    from walletsync.decode.transaction import decode_transaction
    from walletsync.decode.typed_data import decode_typed_data

    try:
        if method in ("eth_sendTransaction", "eth_signTransaction"):
            tx = params[0] if isinstance(params, list) and len(params) == 1 else None
            return decode_transaction(tx, chain_id, lookup, account=account or None, now=now)
        if method in ("eth_signTypedData_v4", "eth_signTypedData_v3"):
            typed = params[1] if isinstance(params, list) and len(params) == 2 else None
            if isinstance(typed, str) and len(typed) > MAX_TYPED_DATA:
                return None
            return decode_typed_data(typed, chain_id, lookup, now=now)
        if method == "personal_sign":
            message = params[0] if isinstance(params, list) and params and isinstance(params[0], str) else ""
            is_hex = message[:2] == "0x" and len(message) % 2 == 0
            try:
                raw = bytes.fromhex(message[2:]) if is_hex else message.encode("utf-8", "replace")
            except ValueError:
                raw = message.encode("utf-8", "replace")
            return decode_message(raw, chain_id, lookup)
    except WalletsyncError:
        return None
    return None
