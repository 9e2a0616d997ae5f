"""What every walletsync screen shares: the companion, the footer + status bar, one worker-error handler."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from walletsync.errors import WalletsyncError
from walletsync.text import shown

if TYPE_CHECKING:
    from walletsync.app.app import WalletsyncApp
    from walletsync.service import CompanionAPI


class CompanionScreen(Screen[None]):
    """A screen that talks to the companion only through workers.

    Workers are started with ``exit_on_error=False``; a failure becomes an error
    notification here instead of tearing the app down.
    """

    # The app's own ? binding (a priority one, so it reaches dialogs too) is the one that runs; declared here as
    # well so that the footer shows it up front, where an 80-column terminal still has room for it.
    BINDINGS = [Binding("question_mark", "app.keys", "Keys", id="screen.keys")]

    def __init__(self, companion: CompanionAPI, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.companion: CompanionAPI = companion

    @property
    def walletsync_app(self) -> WalletsyncApp:
        """``self.app``, typed: every companion screen runs inside :class:`WalletsyncApp`."""
        return cast("WalletsyncApp", self.app)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            message = str(error) if isinstance(error, WalletsyncError) else f"{type(error).__name__}: {error}"
            self.notify(shown(message, 300), title="Failed", severity="error", timeout=8, markup=False)
