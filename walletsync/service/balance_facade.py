"""The façade's balances half: the watch list, and every holder's balances on its chains, cached and fresh.

:class:`~walletsync.service.companion.Companion` inherits these. Who is read: every account of every live session
(active and not expired) on its account's chain, labelled with the session's local name, and every watched
address on its chains, labelled with its watch label (which wins over a session's name for the same address).
Reading is :mod:`walletsync.service.balances`; the status rules are :mod:`walletsync.balances.status`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from walletsync.errors import WalletsyncError
from walletsync.names import local_name, skeleton
from walletsync.service.journal import Journal
from walletsync.store.db import Database, Watched
from walletsync.store.watch_rows import MAX_WATCHED

if TYPE_CHECKING:
    from walletsync.balances.model import Row
    from walletsync.balances.rpc import Call
    from walletsync.chains.registry import Registry
    from walletsync.service.balances import Target


class NotWatched(WalletsyncError):
    """No watched address is that address or has that label."""

    code = "not_watched"


class BadWatch(WalletsyncError):
    """The address, label or chains given to ``watch add`` cannot be used; the text says why."""

    code = "bad_watch"


class BalanceMethods:
    """The façade's balance and watch-list methods (the attributes below are the Companion's)."""

    home: Path
    db: Database
    journal: Journal
    clock: Callable[[], float]

    def registry(self) -> Registry:
        raise NotImplementedError  # the Companion's

    # --- the watch list ---------------------------------------------------------------------------

    def watched(self) -> list[Watched]:
        """Every watched address (EIP-55), its label and chains, in the order they were added."""
        return self.db.watched()

    def watch(self, address: str, *, label: str | None = None, chains: Iterable[str] | None = None) -> Watched:
        """``address`` watched from now on, with its local ``label`` and ``chains`` (CAIP-2 or EVM numbers).

        Watching it again replaces what is given and keeps the rest (a ``label`` of ``""`` takes the label away). Without chains (and not yet watched), it is
        read on the chains of the live sessions' accounts now, else on Ethereum: written down, so what is read does
        not change behind the user's back. :class:`BadWatch` for a bad address, label or chain; NameTaken when
        another watched address has a label that looks the same."""
        from walletsync.chains.user import BadChainEntry, address_of, chain_id_of
        from walletsync.names import BadName
        from walletsync.service.outcomes import NameTaken
        from walletsync.service.scopes import DEFAULT_CHAINS

        try:
            checked = address_of(address)
            wanted = None if chains is None else tuple(dict.fromkeys(chain_id_of(c) for c in chains))
            name = None if not label else local_name(label, "label")
        except (BadChainEntry, BadName) as exc:
            raise BadWatch(str(exc)) from None
        if wanted is not None and (not wanted or any(not c.startswith("eip155:") for c in wanted)):
            raise BadWatch("balances are read on EVM chains: give eip155 chain ids (eip155:1) or their numbers")
        with self.db.transaction():
            listed = self.db.watched()
            old = next((w for w in listed if w.address.lower() == checked.lower()), None)
            if name is not None:
                clash = next(
                    (w for w in listed if w is not old and w.label and skeleton(w.label) == skeleton(name)), None
                )
                if clash is not None:
                    raise NameTaken(
                        f"{clash.address} is already watched as '{clash.label}' (a label that looks the same)"
                    )
            if old is None and len(listed) >= MAX_WATCHED:
                raise BadWatch(f"{MAX_WATCHED} addresses are watched already: remove one first ('walletsync watch')")
            if wanted is None:
                wanted = old.chains if old else tuple(self._session_chains()) or DEFAULT_CHAINS
            entry = Watched(
                checked,
                name if label is not None else (old.label if old else None),
                wanted,
                old.added_at if old else int(self.clock()),
            )
            self.db.put_watched(entry)
            self.db.touch("watch", entry.address.lower())  # the device group shares it (service/shared_rows.py)
            if entry != old:
                self.journal.audit(
                    "watch_added" if old is None else "watch_changed",
                    None,
                    address=entry.address,
                    label=entry.label,
                    chains=list(entry.chains),
                )
        return entry

    def unwatch(self, ref: str) -> Watched:
        """The watched address ``ref`` (the address in any case, or its label), no longer watched."""
        with self.db.transaction():
            found = self._find_watched(ref)
            self.db.drop_watched(found.address)
            self.db.touch("watch", found.address.lower())
            self.journal.audit("watch_removed", None, address=found.address, label=found.label)
        return found

    def _find_watched(self, ref: str) -> Watched:
        listed = self.db.watched()
        for entry in listed:
            if entry.address.lower() == ref.strip().lower() or (entry.label and entry.label == ref):
                return entry
        by_look = [w for w in listed if w.label and skeleton(w.label) == skeleton(ref)]
        if len(by_look) == 1:
            return by_look[0]
        raise NotWatched(f"no watched address is {ref!r} (see 'walletsync watch')")

    def _session_chains(self) -> list[str]:
        return sorted({c for t in self.balance_targets(watched=False) for c in t.chains if c.startswith("eip155:")})

    # --- balances ---------------------------------------------------------------------------------

    def balance_targets(self, *, watched: bool = True) -> list[Target]:
        """Who is read, on which chains, with which label: the live sessions' accounts, then the watched addresses."""
        from walletsync.service.balances import Target

        now = self.clock()
        chains: dict[str, list[str]] = {}
        labels: dict[str, str | None] = {}
        shown: dict[str, str] = {}
        for summary in self.db.session_summaries():
            if summary.status != "active" or summary.expiry <= now:
                continue
            for account in summary.accounts:
                chain, _, address = account.rpartition(":")
                if not chain or not address:
                    continue
                key = address.lower()
                shown.setdefault(key, address)
                labels.setdefault(key, summary.name)
                chains.setdefault(key, [])
                if chain not in chains[key]:
                    chains[key].append(chain)
        for entry in self.db.watched() if watched else []:
            key = entry.address.lower()
            shown[key] = entry.address
            if entry.label or key not in labels:
                labels[key] = entry.label
            chains[key] = list(dict.fromkeys([*chains.get(key, []), *entry.chains]))
        return [Target(shown[key], labels[key], tuple(on)) for key, on in chains.items()]

    def cached_balances(self) -> list[Row]:
        """The last figures read for everyone :meth:`balance_targets` names, at once (no RPC is asked), each with its
        age now and ``cached`` set; stale once older than the threshold. Rows never read are left out."""
        from walletsync.balances.status import aged
        from walletsync.service.balances import calls_of

        calls = calls_of(self.registry(), self.balance_targets())
        cached = self.db.cached_figures({c.holder.address for c in calls})
        now, stale_after = self.clock(), self._stale_after()
        out = []
        for call in calls:
            found = cached.get(key(call))
            if found is not None:
                out.append(aged(replace(found[0], label=call.holder.label, asset=call.asset), now, stale_after))
        return out

    async def balances(self, *, refresh: bool = False) -> list[Row]:
        """Every row of :meth:`balance_targets`: read now from the chains' RPCs, except (without ``refresh``) the
        (account, chain) pairs whose every figure was read ``ok`` less than the stale threshold ago, which come from
        the cache. A row no RPC could give a figure for shows the last figure read, if any, still ``unreachable`` and
        ``cached``. Never raises for an RPC's trouble: the rows say it. Fresh figures are kept for next time."""
        from walletsync.balances.status import aged
        from walletsync.service.balances import calls_of, read_calls

        registry, stale_after = self.registry(), self._stale_after()
        calls = calls_of(registry, self.balance_targets())
        cached = await asyncio.to_thread(self.db.cached_figures, {c.holder.address for c in calls})
        now = self.clock()

        pairs: dict[tuple[str, str], bool] = {}
        for call in calls:
            hit = cached.get(key(call))
            fresh = hit is not None and now - hit[1] < stale_after and aged(hit[0], now, stale_after).status == "ok"
            pair = (call.holder.address.lower(), call.asset.chain)
            pairs[pair] = pairs.get(pair, True) and fresh
        to_read = [c for c in calls if refresh or not pairs[(c.holder.address.lower(), c.asset.chain)]]
        read = await read_calls(registry, to_read, self.clock, stale_after=stale_after) if to_read else []
        fresh_rows = {id(c): r for c, r in zip(to_read, read)}
        await asyncio.to_thread(self._keep, read)
        now = self.clock()
        out = []
        for call in calls:
            row = fresh_rows.get(id(call))
            hit = cached.get(key(call))
            if row is None and hit is not None:
                row = aged(replace(hit[0], label=call.holder.label, asset=call.asset), now, stale_after)
            elif row is not None and row.amount is None and hit is not None:
                old = aged(replace(hit[0], label=call.holder.label, asset=call.asset), now, stale_after)
                row = replace(old, status="unreachable", fallback_from=row.fallback_from, error=row.error, other=None)
            if row is not None:
                out.append(row)
        return out

    def _keep(self, rows: Sequence[Row]) -> None:
        with self.db.transaction():
            self.db.cache_figures(rows, int(self.clock()))

    def _stale_after(self) -> int:
        from walletsync.balances.status import STALE_AFTER
        from walletsync.service.config import configured_stale_after

        return configured_stale_after(self.home, STALE_AFTER)


def key(call: Call) -> tuple[str, str, str]:
    """The cache's key for what ``call`` reads (as :attr:`Row.key`)."""
    return (call.holder.address.lower(), call.asset.chain, call.asset.address.lower())
