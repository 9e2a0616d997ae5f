"""The status bar at the bottom of every screen: which relay, and whether the link is up."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.widgets import Static

from walletsync.service import Status
from walletsync.text import shown

if TYPE_CHECKING:
    from walletsync.app.app import WalletsyncApp

LINK_TEXT = {"online": "link up", "connecting": "connecting…", "offline": "link down", "closed": "closed"}


class RelayStatusBar(Static):
    """Follows the app's ``link`` attribute; the app keeps it current from RelayStatusChanged events.

    The relay's close reason is its own text: shown as data, never as markup.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(markup=False, id=id)

    def on_mount(self) -> None:
        self.watch(self.app, "link", self._show_link, init=True)

    def _show_link(self, link: Status | None) -> None:
        state = link.state if link else "offline"
        reason = f" ({link.reason})" if link and link.reason and state != "online" else ""
        relay = cast("WalletsyncApp", self.app).companion.relay
        where = relay.describe() if relay else "offline (no relay)"
        self.update(shown(f"{where} · {LINK_TEXT.get(state, state)}{reason}"))
        for known in LINK_TEXT:
            self.set_class(known == state, f"-{known}")
