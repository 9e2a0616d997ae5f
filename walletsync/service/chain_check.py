"""A chain node's word on a transaction the phone says it sent: found on chain, sent by the session account."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from walletsync.service.events import RequestVerified
from walletsync.service.journal import Journal
from walletsync.service.outcomes import RequestOutcome
from walletsync.store.db import Database


async def check_on_chain(
    outcome: RequestOutcome, rpc_url: str, account: str, db: Database, journal: Journal
) -> tuple[RequestOutcome, RequestVerified]:
    """``outcome`` with the verdict of the node at ``rpc_url`` instead, journaled with its audit row; and the event."""
    from walletsync.chain_rpc import lookup_transaction  # the signing stack loads slowly: only when it is needed

    verdict = (await asyncio.to_thread(lookup_transaction, rpc_url, outcome.result, account)).to_json()
    with db.transaction():
        journal.lookup_checked(outcome.session.topic, outcome.id, outcome.result, rpc_url, verdict)
    checked = replace(outcome, error=None, verdict=verdict)
    return checked, RequestVerified(outcome.session.topic, outcome.id, verdict)
