"""Which chain and account of a session a request goes to when the user named none."""

from __future__ import annotations

from walletsync.protocol.errors import ProtocolError
from walletsync.protocol.namespaces import chain_of_account, granted_chains
from walletsync.service.outcomes import ChainNotRequested
from walletsync.store.db import SessionRecord


def default_chain(record: SessionRecord) -> str:
    """The first chain (in account order) the user asked for and the phone granted; never one nobody asked for."""
    if not record.accounts:
        raise ProtocolError(f"session {record.name!r} has no accounts", by="peer")
    requested = record.requested_chains
    if requested:
        return requested[0]
    granted = granted_chains(record.namespaces)
    shown = ", ".join(granted[:5]) + (f" and {len(granted) - 5} more" if len(granted) > 5 else "")
    raise ChainNotRequested(
        f"the phone granted {record.name!r} only chains you did not ask for ({shown}); "
        "pass --chain with one of them to use it anyway"
    )


def account_for(record: SessionRecord | None, chain_id: str | None) -> str:
    """The session's address on ``chain_id`` (any chain when None), else its first address; "" without a session."""
    if record is None:
        return ""
    for account in record.accounts:
        if chain_id is None or chain_of_account(account) == chain_id:
            return account.split(":")[2]
    return record.accounts[0].split(":")[2] if record.accounts else ""
