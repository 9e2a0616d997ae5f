"""The façade's decoding half: what a request for a session would do, before it is sent, with its warnings.

:class:`~walletsync.service.companion.Companion` inherits this. It reads the request exactly as ``sign`` does,
picks the chain ``sign`` would push it to, decodes it with the registry, and adds the policies' warnings, so
a screen can show what the user is about to sign and ask twice when something deserves it.
"""

from __future__ import annotations

from collections.abc import Callable

from walletsync.chains.registry import Registry
from walletsync.decode.model import Decoded
from walletsync.errors import WalletsyncError
from walletsync.service.accounts import account_for, default_chain
from walletsync.service.decoding import DEFAULT_CHAIN, decode_user_request, request_chain
from walletsync.service.policy_facade import PolicyMethods
from walletsync.signatures import read_request
from walletsync.store.db import SessionRecord


class DecodeMethods(PolicyMethods):
    """The decoding method of the façade, over its policy methods (the attributes below are the Companion's)."""

    registry: Callable[[], Registry]

    def decode(
        self,
        ref: str,
        *,
        message: str | None = None,
        typed_data: str | None = None,
        tx: str | None = None,
        chain_id: str | None = None,
    ) -> Decoded:
        """What ``sign(ref, …)`` with the same arguments would ask the phone to do, with every warning: the
        decoder's (unlimited approval, unknown contract, chain mismatch…) and the policies' for session ``ref``
        (over a cap, a recipient not allowed). Nothing is sent, reserved or audited; it reads the database.

        The chain is ``chain_id``, else the one ``sign`` would use (the session's first asked-for chain), else the
        one the request names, else :data:`~walletsync.service.decoding.DEFAULT_CHAIN`.
        Raises what ``sign`` raises for the same input (:class:`MalformedRequest`, a ``from`` that is not the
        session's account), :class:`SessionNotFound` for ``ref``, and
        :class:`~walletsync.decode.model.Undecodable` for typed data beyond the decoder's bounds.
        """
        wanted = read_request(message=message, typed_data=typed_data, tx=tx)
        record = self.resolve(ref)
        chain = chain_id or _asked_chain(record) or request_chain(wanted) or DEFAULT_CHAIN
        account = account_for(record, chain)
        if account:
            wanted.params(account)  # a 'from' that is not the session's account is refused as sign refuses it
        lookup, now = self.registry(), int(self.clock())
        if wanted.method == "eth_sendTransaction":
            from walletsync.decode.transaction import decode_transaction

            decoded = decode_transaction(wanted.content, chain, lookup, account=account or None, now=now)
        else:
            decoded = decode_user_request(wanted, chain, lookup, now=now)
        return self.policy_warnings(decoded, wanted.method, record.topic)


def _asked_chain(record: SessionRecord) -> str | None:
    """The chain ``sign`` picks when none is named; None where it would refuse (decoding then goes on)."""
    try:
        return default_chain(record)
    except WalletsyncError:
        return None
