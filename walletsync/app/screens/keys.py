"""The keys help (``?`` or ``f1``): every key of the screen it was opened over, read from that screen's bindings.

The list is built from the bindings Textual itself would act on at that moment (the screen's own, then
the app's), so it cannot fall behind a screen's ``BINDINGS``: a key hidden there (its ``check_action`` says
False) is left out, one disabled just now is listed as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

PLUMBING = frozenset({"app.focus_next", "app.focus_previous", "screen.copy_text", "help_quit", "command_palette"})
"""Textual's own keys, shown (if at all) as the fixed lines of :data:`EVERYWHERE` instead."""
EVERYWHERE = (
    ("tab / shift+tab", "Next / previous field or button"),
    ("^p", "Command palette: theme, screenshot, …"),
)
CLOSE_HINT = "esc, ? or f1 closes this list"


@dataclass(frozen=True)
class KeyRow:
    """One line of the list: the keys (as the footer writes them), what they do, and whether they work just now."""

    keys: str
    what: str
    enabled: bool = True


@dataclass(frozen=True)
class KeyList:
    """What the help shows: the screen's name, its keys, and the keys that work on every screen."""

    title: str
    screen: tuple[KeyRow, ...]
    everywhere: tuple[KeyRow, ...]


def screen_title(screen: Screen) -> str:
    """The screen's ``TITLE``, else its class name in words (``SessionDetailScreen`` → "Session detail")."""
    if type(screen).TITLE:
        return str(type(screen).TITLE)
    words = re.findall(r"[A-Z][a-z]*", type(screen).__name__.removesuffix("Screen")) or ["This screen"]
    return " ".join([words[0], *(w.lower() for w in words[1:])])


def _rows(app: App, bindings: list[tuple[Binding, bool]]) -> tuple[KeyRow, ...]:
    """One row per description (``q`` and ``^q`` both "Quit"); one-character keys first, in a row and among rows."""
    by_what: dict[str, list[tuple[str, bool]]] = {}
    for binding, enabled in bindings:
        if binding.description and binding.action not in PLUMBING:
            by_what.setdefault(binding.description, []).append((app.get_key_display(binding), enabled))
    rows = [
        KeyRow(" / ".join(sorted(dict.fromkeys(k for k, _ in keys), key=_chord)), what, any(on for _, on in keys))
        for what, keys in by_what.items()
    ]
    return tuple(sorted(rows, key=lambda row: _chord(row.keys)))


def _chord(keys: str) -> bool:
    """Whether the (first) key's name is longer than one character (``^c``, ``f1``, ``esc``): it sorts after ``q``."""
    return len(keys.split(" / ")[0]) > 1


def key_list(app: App, screen: Screen) -> KeyList:
    """The keys of ``screen`` (the top one, read before the help covers it) and the app's.

    A dialog stops every app key but the priority ones (Textual ends the chain at a modal screen), so
    on a dialog only those are listed under "Everywhere".
    """
    active = screen.active_bindings.values()
    own = [(a.binding, a.enabled) for a in active if a.node is screen]
    if screen.is_modal:  # active_bindings stops at the dialog: the app's own map says which keys still reach past
        state = {binding.action: app.check_action(binding.action, ()) for _, binding in app._bindings}
        app_keys = [(b, bool(state[b.action])) for _, b in app._bindings if b.priority and state[b.action] is not False]
    else:
        app_keys = [(a.binding, a.enabled) for a in active if a.node is app]
    fixed = tuple(KeyRow(keys, what) for keys, what in EVERYWHERE)
    return KeyList(screen_title(screen), _rows(app, own), _rows(app, app_keys) + fixed)


class KeysScreen(ModalScreen[None]):
    """Lists the keys of the screen under it; ``escape`` (or ``?``/``f1`` again, through the app) closes it."""

    TITLE = "Keys"
    BINDINGS = [Binding("escape", "close", "Close", id="keys.close")]

    def __init__(self, keys: KeyList) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="keys-dialog"):
            yield Label(f"Keys — {self.keys.title}", classes="dialog-heading", markup=False)
            with VerticalScroll(id="keys-list"):
                yield from self._section(self.keys.screen or (KeyRow("—", "no keys of its own"),))
                yield Label("Everywhere", classes="keys-heading")
                yield from self._section(self.keys.everywhere)
            yield Static(CLOSE_HINT, id="keys-hint", markup=False)

    def _section(self, rows: tuple[KeyRow, ...]) -> ComposeResult:
        for row in rows:
            with Horizontal(classes="keys-row" if row.enabled else "keys-row -off"):
                yield Label(row.keys, classes="keys-key", markup=False)
                yield Label(row.what if row.enabled else f"{row.what} (not just now)", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
