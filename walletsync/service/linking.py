"""Linking a device over the relay: the I/O around :mod:`walletsync.sync.link`'s two state machines.

The member shows a link and answers on its topic; the joiner commits, both show the code, the users
confirm, and the member sends the group (:meth:`DeviceGroup.welcome`). Every refusal, a second device
on the same link, and the outcome are audited. Link messages ride the relay as opaque ciphertext
on the link's own topic, under :data:`LINK_TAG`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from walletsync.protocol.crypto import b64decode, b64encode
from walletsync.protocol.errors import ProtocolError
from walletsync.protocol.relay_rpc import MessageData, Publish
from walletsync.service.devices import DeviceGroup, DeviceRecord
from walletsync.sync.keys import DeviceCard
from walletsync.sync.link import (
    CodeReady,
    JoinerLink,
    LinkDevice,
    Linked,
    LinkError,
    LinkExpired,
    LinkInUse,
    LinkRefused,
    LinkStep,
    MemberLink,
    ReadyToWelcome,
    SomeoneElseTried,
)
from walletsync.sync.link_uri import parse_link_uri
from walletsync.transport.runner import EngineRunner

LINK_TAG = 7710
LINK_TTL = 300
MAX_REFUSED_AUDITS = 20
"""Bad messages on one link that get an audit row each; past that they are only counted (a flood)."""

Audit = Callable[..., None]
"""``audit(kind, **data)``: one signed audit row (not about a session)."""
Confirm = Callable[[], Awaitable[bool]]
"""Asks the user whether the codes match."""
ShowCode = Callable[[str, str], None]
"""``show(code, other device's name)``."""


@dataclass(frozen=True)
class LinkOffer:
    """A link to show: the URI (QR) and when it stops working (unix seconds)."""

    uri: str
    expires_at: int


def relay_of_link(text: str, now: float) -> tuple[str, str | None]:
    """The relay URL (and project id) a link URI names, to open the joiner there; typed errors if it is no link."""
    uri = parse_link_uri(text.strip(), now)
    return uri.relay, uri.project


class _Wire:
    """The link topic on the runner's relay client: a queue of what arrives, and publishing."""

    def __init__(self, runner: EngineRunner, topic: str) -> None:
        self.runner, self.topic = runner, topic
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue(maxsize=256)

    async def _tap(self, data: MessageData) -> None:
        try:
            message = b64decode(data.message)
        except ProtocolError:
            return
        if not self.inbox.full():  # a flood past the bound is dropped: the link is single use anyway
            self.inbox.put_nowait(message)

    async def send(self, step: LinkStep) -> None:
        for message in step.send:
            await self.runner.client.publish(Publish(self.topic, b64encode(message), LINK_TTL, LINK_TAG))

    def keep_pending(self, reading: asyncio.Future[bytes]) -> None:
        """A read cancelled just as a message arrived must not lose it."""
        if reading.done() and not reading.cancelled() and reading.exception() is None:
            self.inbox.put_nowait(reading.result())

    async def next(self, expires: int, clock: Callable[[], float]) -> bytes:
        try:
            async with asyncio.timeout(max(0.0, expires - clock())):
                return await self.inbox.get()
        except TimeoutError:
            raise LinkExpired("the link expired before the other device answered: show a new one") from None


@asynccontextmanager
async def _listening(runner: EngineRunner, topic: str) -> AsyncIterator[_Wire]:
    wire = _Wire(runner, topic)
    runner.taps[topic] = wire._tap
    try:
        await runner.client.subscribe(topic)
        yield wire
    finally:
        runner.taps.pop(topic, None)
        try:
            await runner.client.unsubscribe(topic)
        except Exception:  # the relay link may be down; the topic is dead anyway
            pass


def _card(device: LinkDevice) -> DeviceCard:
    return DeviceCard(device.id, device.signing_public, device.exchange_public, device.name)


def _about(device: LinkDevice) -> dict[str, Any]:
    return {"device": device.id, "name": device.name}


class _Refusals:
    """Audits bad messages on a link, up to a bound, so a flood cannot fill the audit log."""

    def __init__(self, audit: Audit) -> None:
        self.audit, self.count = audit, 0

    def note(self, exc: LinkError) -> None:
        self.count += 1
        if self.count <= MAX_REFUSED_AUDITS:
            self.audit("link_message_refused", code=exc.code, reason=str(exc))


async def _ask(
    link: MemberLink | JoinerLink,
    code: str,
    other: LinkDevice,
    show: ShowCode,
    confirm: Confirm,
    now: Callable[[], float],
    wire: _Wire,
) -> tuple[LinkStep, list[LinkStep]]:
    """Ask the user while still reading the link: the other side may refuse (or confirm) meanwhile.

    Returns the user's step and the steps of what arrived while asking; a refusal from the other side
    raises :class:`LinkRefused` at once (the question is withdrawn)."""
    show(code, other.name)
    answer = asyncio.ensure_future(confirm())
    arrived: list[LinkStep] = []
    try:
        while not answer.done():
            reading = asyncio.ensure_future(wire.next(link.uri.expires, now))
            await asyncio.wait({answer, reading}, return_when=asyncio.FIRST_COMPLETED)
            if reading.done():
                try:
                    arrived.append(link.receive(reading.result(), now()))
                except (LinkRefused, LinkExpired):
                    raise
                except LinkError:
                    continue  # a bad message while asking: the main loop's bound applies to the rest
            else:
                reading.cancel()
                wire.keep_pending(reading)
    finally:
        if not answer.done():
            answer.cancel()
    step = link.confirm(now()) if answer.result() else link.refuse(now())
    return step, arrived


async def _next_step(
    link: MemberLink | JoinerLink, wire: _Wire, refusals: _Refusals, audit: Audit, clock: Callable[[], float]
) -> LinkStep | None:
    """The next message on the link, taken and answered; None for one that was refused (and noted).

    A refusal by the other side, an expiry or a link used by another device first ends the link (audited)."""
    try:
        message = await wire.next(link.uri.expires, clock)
        step = link.receive(message, clock())
    except (LinkRefused, LinkExpired, LinkInUse) as exc:
        audit("link_ended", code=exc.code, reason=str(exc))
        raise
    except LinkError as exc:
        refusals.note(exc)
        return None
    await wire.send(step)
    return step


async def _asked(
    link: MemberLink | JoinerLink,
    event: CodeReady,
    show: ShowCode,
    confirm: Confirm,
    clock: Callable[[], float],
    wire: _Wire,
    audit: Audit,
) -> LinkStep:
    """:func:`_ask`, sending what it produced; a refusal or expiry meanwhile is audited and raised."""
    try:
        step, arrived = await _ask(link, event.code, event.device, show, confirm, clock, wire)
    except (LinkRefused, LinkExpired) as exc:
        audit("link_ended", code=exc.code, reason=str(exc))
        raise
    for earlier in arrived:
        await wire.send(earlier)
        if isinstance(earlier.event, SomeoneElseTried):
            audit("link_second_device_refused", **_about(earlier.event.device))
    await wire.send(step)
    return step


async def show_link(
    runner: EngineRunner,
    group: DeviceGroup,
    state: Callable[[], dict[str, Any]],
    *,
    relay: str,
    project: str | None,
    on_offer: Callable[[LinkOffer], None],
    show_code: ShowCode,
    confirm: Confirm,
    audit: Audit,
    clock: Callable[[], float] = time.time,
) -> DeviceRecord:
    """Show a link (``on_offer``), take the first device that uses it, and once both users said the codes
    match make it a member and send it the group (with ``state()``, the shared state's snapshot). Returns
    the new member; :class:`LinkRefused` or :class:`LinkExpired` otherwise."""
    me = group.card()
    link = MemberLink.create(
        LinkDevice(me.id, me.signing_public, me.exchange_public, me.name), group.random, relay, clock(), project=project
    )
    refusals = _Refusals(audit)
    async with _listening(runner, link.topic) as wire:
        on_offer(LinkOffer(link.uri.format(), link.uri.expires))
        audit("link_offered", expires_at=link.uri.expires)
        while True:
            step = await _next_step(link, wire, refusals, audit, clock)
            if step is None:
                continue
            event = step.event
            if isinstance(event, SomeoneElseTried):
                audit("link_second_device_refused", **_about(event.device))
            elif isinstance(event, CodeReady):
                step = await _asked(link, event, show_code, confirm, clock, wire, audit)
                if link.state == "refused":
                    audit("link_refused", by="this device", **_about(event.device))
                    raise LinkRefused("the codes did not match (or you said no): the device was not linked")
                event = step.event
            if isinstance(event, ReadyToWelcome):
                group.add(_card(event.device))
                await wire.send(link.welcome(group.welcome(state()), clock()))
                audit("device_linked", **_about(event.device))
                return next(d for d in group.devices() if d.id == event.device.id)


async def join_link(
    runner: EngineRunner,
    group: DeviceGroup,
    uri_text: str,
    *,
    name: str,
    show_code: ShowCode,
    confirm: Confirm,
    audit: Audit,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Use a member's link: compare codes, confirm, and join its group. Returns the shared state it sent."""
    uri = parse_link_uri(uri_text.strip(), clock())
    keys = group.keys
    link = JoinerLink(uri, LinkDevice(keys.id, keys.signing_public, keys.exchange_public, name), group.random)
    refusals = _Refusals(audit)
    async with _listening(runner, link.topic) as wire:
        await wire.send(link.commit(clock()))
        while True:
            step = await _next_step(link, wire, refusals, audit, clock)
            if step is None:
                continue
            event = step.event
            if isinstance(event, CodeReady):
                step = await _asked(link, event, show_code, confirm, clock, wire, audit)
                if link.state == "refused":
                    audit("link_refused", by="this device", **_about(event.device))
                    raise LinkRefused("the codes did not match (or you said no): this device did not join")
            elif isinstance(event, Linked):
                state = group.install(event.payload, name)
                group_id = group.membership.group_id if group.membership else None
                audit("device_joined", group=group_id, **_about(event.device))
                return state
