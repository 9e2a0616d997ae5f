"""What a request to a session would do, said before anything is pushed: ``sign`` shows it, so do
``decode --session`` and the app's request screen.

The request is decoded as the policy gate reads it (the session's chain and account) and judged by the policies
without reserving anything: the warnings a person should see, and whether a policy would refuse it now. The gate
still judges the request when it is sent (:mod:`walletsync.service.policies`): a preview is advice, not a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from walletsync.protocol.errors import OutOfScope
from walletsync.protocol.namespaces import require_in_scope
from walletsync.service.accounts import account_for, default_chain
from walletsync.service.naming import find_active
from walletsync.service.policy_facade import PolicyMethods
from walletsync.service.scopes import is_chain_id
from walletsync.signatures import read_request
from walletsync.store.db import SessionRecord

if TYPE_CHECKING:  # decoding and policy rules load when a request is previewed, not at every start
    from walletsync.chains.model import Lookup
    from walletsync.decode.model import Decoded, Undecodable
    from walletsync.policy.evaluate import Refusal


@dataclass(frozen=True)
class RequestPreview:
    """A request to ``session`` on ``chain_id``, before it is pushed.

    ``decoded`` carries the decoder's warnings and the policies' (``over_cap``, ``recipient_not_allowed``); it is
    None when the request cannot be decoded, and ``undecodable`` says why. ``refusal`` is the policy that would
    refuse the request now (None: none would).
    """

    session: SessionRecord
    chain_id: str
    method: str
    decoded: Decoded | None
    undecodable: Undecodable | None = None
    refusal: Refusal | None = None
    out_of_scope: str | None = None
    """Why the session's WalletConnect scopes do not carry this chain or method (None: they do); ``sign`` refuses
    such a request before anything is decoded or judged."""


class PreviewMethods(PolicyMethods):
    """The façade's preview, over its policy methods (the attributes and calls below are the Companion's)."""

    def preview(
        self,
        ref: str,
        *,
        message: str | None = None,
        typed_data: str | None = None,
        tx: str | None = None,
        chain_id: str | None = None,
        active: bool = False,
    ) -> RequestPreview:
        """What :meth:`sign` with the same arguments would ask the phone for on session ``ref``, and what the
        policies say of it now; nothing is pushed, reserved or audited, and no relay is needed.

        The chain is ``chain_id``, else the session's default (as ``sign`` picks it). With ``active`` the session
        must be one a request can go to now. Raises what ``sign`` raises first: :class:`MalformedRequest`,
        :class:`SessionNotFound`, :class:`SessionInactive` (with ``active``), :class:`ChainNotRequested`. A chain
        or method beyond the session's scopes is ``out_of_scope`` (``decoded`` is None for a ``chain_id`` that is
        no CAIP-2 chain).
        """
        wanted = read_request(message=message, typed_data=typed_data, tx=tx)
        record = find_active(self.db, ref, self.clock()) if active else self.resolve(ref)
        if chain_id is not None and not is_chain_id(chain_id):  # in no session's scopes: nothing to decode it on
            return RequestPreview(record, chain_id, wanted.method, None, out_of_scope=f"{chain_id[:60]!r} is no chain")
        chain = chain_id or default_chain(record)
        account = account_for(record, chain)
        wanted.params(account)  # a transaction from another account is refused here as by sign
        now = int(self.clock())
        lookup = self.policies.lookup
        from walletsync.decode.model import Undecodable
        from walletsync.service.decoding import decode_user_request

        try:
            decoded: Decoded | None = decode_user_request(wanted, chain, lookup, now=now, account=account or None)
            undecodable = None
        except Undecodable as exc:
            decoded, undecodable = None, exc
        decoded, refusal = self._judged(record, wanted.method, chain, decoded, lookup, now)
        try:
            require_in_scope(record.namespaces, chain, wanted.method)
            out_of_scope = None
        except OutOfScope as exc:
            out_of_scope = str(exc)
        return RequestPreview(record, chain, wanted.method, decoded, undecodable, refusal, out_of_scope)

    def preview_request(self, ref: str, method: str, params: Any, *, chain_id: str) -> RequestPreview:
        """What pushing the raw ``method``/``params`` (a tool's request through the signer bridge) to session ``ref``
        on ``chain_id`` would ask the phone for, and what the policies say of it now: nothing is pushed, reserved or
        audited. ``decoded`` is None for a request walletsync cannot read. Raises :class:`SessionNotFound` and
        :class:`SessionInactive` as a request would."""
        from walletsync.service.policies import decoded_request  # the decoder: when a request is previewed

        record = find_active(self.db, ref, self.clock())
        now = int(self.clock())
        lookup = self.policies.lookup
        decoded = decoded_request(method, params, chain_id, account_for(record, chain_id), lookup, now)
        decoded, refusal = self._judged(record, method, chain_id, decoded, lookup, now)
        try:
            require_in_scope(record.namespaces, chain_id, method)
            out_of_scope = None
        except OutOfScope as exc:
            out_of_scope = str(exc)
        return RequestPreview(record, chain_id, method, decoded, None, refusal, out_of_scope)

    def _judged(
        self, record: SessionRecord, method: str, chain: str, decoded: Decoded | None, lookup: Lookup, now: int
    ) -> tuple[Decoded | None, Refusal | None]:
        """``decoded`` with the policies' warnings, and the refusal a policy would give the request now."""
        from walletsync.policy.evaluate import DAY, POLICY_UNATTESTED, Refusal, Request, evaluate, warnings
        from walletsync.policy.model import ALL

        with self.db.snapshot():
            status = self.policies.file.status()
            used = self.db.uses_since(now - DAY) if status.problem is None and not status.policies.empty else []
        if status.problem is not None:
            return decoded, Refusal(POLICY_UNATTESTED, status.problem, ALL)
        if status.policies.empty:
            return decoded, None
        request = Request(record.topic, method, chain, decoded)
        if decoded is not None:
            decoded = decoded.warned(*warnings(status.policies, request, used, now, lookup))
        verdict = evaluate(status.policies, request, used, now, lookup)
        return decoded, verdict if isinstance(verdict, Refusal) else None
