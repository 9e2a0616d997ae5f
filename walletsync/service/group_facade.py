"""The façade's device-group half: linking, joining, listing, renaming and revoking devices, syncing now.

:class:`~walletsync.service.companion.Companion` inherits these, so the CLI and the app still talk to
one façade; they live here because the group is one job (docs/SYNC.md) and the companion's other
methods are about sessions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from walletsync.errors import WalletsyncError
from walletsync.names import local_name
from walletsync.service.devices import DeviceAuditEntry, DeviceGroup, DeviceGroupError, DeviceRecord
from walletsync.service.group_sync import GroupSync, SyncStatus
from walletsync.service.journal import Journal
from walletsync.service.relay_choice import ONLINE_TIMEOUT, RelayChoice
from walletsync.service.shared_rows import device_name_write
from walletsync.service.store_sync import StoreSync
from walletsync.store.db import Database, SessionRecord
from walletsync.sync.changes import device_entity, session_entity
from walletsync.sync.keys import check_device_name
from walletsync.transport.client import RelayClient, TransportError
from walletsync.transport.runner import EngineRunner

if TYPE_CHECKING:  # the link handshake loads when a link is made, not at every start
    from walletsync.service.linking import Confirm, LinkOffer, ShowCode

log = logging.getLogger("walletsync.sync")

ANSWER_QUIET = 0.3
"""Seconds without news after which ``sync_now`` takes it that the members online now have answered its hello."""


class GroupMethods:
    """The device-group methods of the façade (the attributes and calls below are the Companion's)."""

    db: Database
    group: DeviceGroup
    group_sync: GroupSync
    journal: Journal
    store_sync: StoreSync
    runner: EngineRunner | None
    client: RelayClient | None
    relay: RelayChoice | None
    clock: Callable[[], float]
    online: Callable[..., Coroutine[Any, Any, None]]
    sync: Callable[..., Coroutine[Any, Any, None]]
    revoke: Callable[[str], Coroutine[Any, Any, SessionRecord]]
    resolve: Callable[[str], SessionRecord]
    _runner: Callable[[], EngineRunner]

    def group_audit(self, ref: str | None = None) -> list[DeviceAuditEntry]:
        """The audit rows of every device of the group (of one session, or all), oldest first."""
        topic = self.resolve(ref).topic if ref else None
        names, me = self.device_names(), self.group.keys.id
        rows = [DeviceAuditEntry(me, names.get(me, "this device"), True, e) for e in self.db.audit_entries(topic)]
        rows += [
            DeviceAuditEntry(device, names.get(device, device[:12]), False, e)
            for device, e in self.db.remote_audit_entries(topic)
        ]
        return sorted(rows, key=lambda r: (r.entry.ts, r.device, r.entry.seq))

    def also_named(self) -> dict[str, list[tuple[str, str]]]:
        """Per session topic, the names other renames gave it that lost to the current one, newest first,
        each with the device that gave it (concurrent renames on two devices: one wins, the other is kept)."""
        state, names = self.group_sync.state(), self.device_names()
        out: dict[str, list[tuple[str, str]]] = {}
        for record in self.db.sessions():
            lost = [
                (value, names.get(stamp.device, stamp.device[:12]))
                for stamp, value in state.history(session_entity(record.topic), "name")
                if isinstance(value, str) and value != record.name
            ]
            if lost:
                out[record.topic] = lost
        return out

    def device_names(self) -> dict[str, str]:
        """Every device ever in the group by id, under its current name (a rename by any member wins over the
        name it linked with)."""
        from walletsync.service.backup_import import restored_devices

        state = self.group_sync.state()
        names = {d: c.name for d, c in self.group.cards_ever().items()}
        mine = names.get(self.group.keys.id)
        for device, old in restored_devices(self.db, self.group.keys.signing_public).items():
            # a device whose backup came back here as this one: its rows under its name (told apart from this one's)
            names.setdefault(device, old.name if old.name != mine else f"{old.name} (old)")
        for device in names:
            renamed = state.get(device_entity(device), "name")
            if isinstance(renamed, str):
                names[device] = renamed
        return names

    # --- your devices -----------------------------------------------------------------------------

    @property
    def in_group(self) -> bool:
        """True when this device is in a device group (what it changes is shared with the other members)."""
        return self.group.joined

    def devices(self) -> list[DeviceRecord]:
        """The device group's members (this device alone before any link), this device first."""
        return self.group.devices(self.group_sync.state().vector, self.device_names())

    def _audit_group(self, kind: str, **data: Any) -> None:
        with self.db.transaction():
            self.journal.audit(kind, None, **data)

    async def link_device(
        self, *, on_offer: Callable[[LinkOffer], None], show_code: ShowCode, confirm: Confirm
    ) -> DeviceRecord:
        """The device that joined through the link shown with ``on_offer``, once both users confirmed the code.

        :class:`LinkRefused` when a user said no, :class:`LinkExpired` when nobody used it in time.
        """
        await self.online()
        relay = self.relay
        assert relay is not None  # online
        if not self.group.joined:
            self.group.found()
            self._share_everything()
            await self.group_sync.listen()
        from walletsync.service.linking import show_link

        device = await show_link(
            self._runner(),
            self.group,
            lambda: self.group_sync.state().to_snapshot(),
            relay=relay.url,
            project=relay.project_id,
            on_offer=on_offer,
            show_code=show_code,
            confirm=confirm,
            audit=self._audit_group,
            clock=self.clock,
        )
        try:  # the link is done; should the relay refuse these now, the members' hellos trade the entries later
            await self.group_sync.listen()
            await self.group_sync.publish_entries()  # the other members learn of the new one
        except TransportError as exc:
            log.warning("the new device is linked; telling the other members failed for now (%s)", exc)
        return device

    def rename_device(self, ref: str, name: str) -> DeviceRecord:
        """The device under its new name in the group (any member may rename any device; shared, audited)."""
        if not self.group.joined:
            raise DeviceGroupError("this device is in no group yet: 'walletsync devices link' starts one")
        device = self.group.find(ref, self.device_names())
        name = check_device_name(local_name(name, what="device"))
        with self.db.transaction():
            self.group_sync.record([device_name_write(device, name)])
            self.journal.audit("device_renamed", None, device=device, name=name)
        return next(d for d in self.devices() if d.id == device)

    async def revoke_device(self, ref: str, *, end_sessions: bool = False) -> tuple[DeviceRecord, list[SessionRecord]]:
        """The device revoked, and the sessions ended with it (``end_sessions``) or kept (else).

        A new data key goes to the remaining members only, so the revoked device reads nothing published
        from now on; the sessions it knew are still open to it unless ended here (the audit names them)."""
        if not self.group.joined:
            raise DeviceGroupError("this device is in no group yet")
        names = self.device_names()
        device = self.group.find(ref, names)
        record = next(d for d in self.devices() if d.id == device)
        await self.online()
        previous = self.group_sync.current_key()
        with self.db.transaction():
            self.group.revoke(device)
        await self.group_sync.publish_entries(previous)  # on the old topic: the others learn the new key there
        await self.group_sync.listen()  # the new epoch's topic
        active = self.db.sessions(include_ended=False)
        ended: list[SessionRecord] = []
        failed: list[str] = []
        for session in active if end_sessions else []:
            try:
                ended.append(await self.revoke(session.topic))
            except WalletsyncError as exc:  # ended locally (no key) or meanwhile: say so, go on with the rest
                failed.append(f"{session.name}: {exc}")
        kept = [] if end_sessions else [s.name for s in active]
        self._audit_group(
            "device_revoked",
            device=device,
            name=record.name,
            by=self.group.keys.id,
            ended_sessions=[s.name for s in ended],
            kept_sessions=kept,
            **({"not_ended": failed} if failed else {}),
        )
        return record, ended

    async def join_group(
        self, uri: str, *, show_code: ShowCode, confirm: Confirm, name: str | None = None
    ) -> list[DeviceRecord]:
        """The group's devices once this device joined through the member's link ``uri`` (codes confirmed)."""
        await self.online()
        from walletsync.service.linking import join_link

        state = await join_link(
            self._runner(),
            self.group,
            uri,
            name=name or self.group.card().name,
            show_code=show_code,
            confirm=confirm,
            audit=self._audit_group,
            clock=self.clock,
        )
        self.group_sync.take_welcome(state)
        self._share_everything()
        await self.group_sync.listen()
        await self.store_sync.catch_up(self.runner, force=True)
        return self.devices()

    def _share_everything(self) -> None:
        """Record every session, request, audit row and watched address this device holds as shared (on founding or
        joining)."""
        with self.db.transaction():
            self.db.touched |= {("watch", w.address.lower()) for w in self.db.watched()}
            self.db.touched |= {("session", s.topic) for s in self.db.sessions()}
            self.db.touched |= {("request", f"{r.topic}/{r.id}") for r in self.db.requests()}
            self.db.touched |= {("audit", str(e.seq)) for e in self.db.audit_entries()}

    async def _reload_group(self) -> None:
        """Another process on this data dir changed the group (linked, joined, revoked): follow it."""
        if (
            self.group.reload()
            and self.runner is not None
            and self.client is not None
            and self.client.status.state == "online"
        ):
            await self.group_sync.listen()

    def _adopt_shared(self) -> None:
        """What members shared changed this device's rows: reload the engine (new topics, ended sessions)."""
        asyncio.ensure_future(self.store_sync.catch_up(self.runner, force=True))

    async def sync_now(self, timeout: float = ONLINE_TIMEOUT) -> SyncStatus:
        """The group's status after exchanging with every member online now (and publishing a snapshot)."""
        await self.sync(timeout)
        if self.group.joined:
            await self.group_sync.hello()
            await self.group_sync.publish_pending()
            await self.group_sync.publish_snapshot()
            await self.sync(timeout, quiet=ANSWER_QUIET)  # the members online now answer the hello
        return SyncStatus(self.devices(), self.group_sync.pending())
