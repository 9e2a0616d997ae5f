"""Joining the user's other device from this one: the pasted link, then the join dialog, run in a screen's worker.

Both first screens offer it: the pairing screen (``j``) and the session list right after a restore whose device
was in a device group (this device joins that group as a new device).
"""

from __future__ import annotations

from textual import work

from walletsync.app.screens.base import CompanionScreen
from walletsync.app.screens.linking import JoinScreen, LinkToJoin, PasteLinkScreen
from walletsync.service import DeviceRecord


class JoinsGroup(CompanionScreen):
    """A screen that can join the user's device group: :meth:`action_join` asks for the link and joins."""

    def action_join(self) -> None:
        relay = self.companion.relay
        mine = next((d.name for d in self.companion.devices() if d.this_device), "")
        self.app.push_screen(PasteLinkScreen(relay.url if relay else None, self.companion.clock, mine), self._pasted)

    def _pasted(self, link: LinkToJoin | None) -> None:
        if link is not None:
            self.join(link)

    @work(exclusive=True, group="device-join", exit_on_error=False)
    async def join(self, link: LinkToJoin) -> None:
        """Show the join dialog and join in this worker (so a failure reaches this screen's handler)."""
        relay = self.companion.relay
        dialog = JoinScreen(relay.url if relay else "no relay")
        await self.app.push_screen(dialog, self._join_closed)
        await dialog.follow(
            self.companion.join_group(link.uri, show_code=dialog.show_code, confirm=dialog.confirm, name=link.name)
        )

    def _join_closed(self, devices: list[DeviceRecord] | None) -> None:
        """The dialog closed: a join still under way is cancelled; once joined, the group is shown."""
        self.workers.cancel_group(self, "device-join")
        if devices:
            self.walletsync_app.action_devices()
