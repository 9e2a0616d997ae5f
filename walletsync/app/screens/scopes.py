"""What a pairing asks the phone for (chains, methods, events), and the dialog that edits it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from walletsync.app.format import chain_label
from walletsync.service import DEFAULT_CHAINS, DEFAULT_EVENTS, DEFAULT_METHODS, Registry, is_chain_id
from walletsync.text import shown


class ScopeKwargs(TypedDict):
    """:meth:`Companion.pair`'s scope arguments."""

    chains: tuple[str, ...]
    methods: tuple[str, ...]
    events: tuple[str, ...]


def comma_separated(text: str) -> tuple[str, ...]:
    """``"a, b,,c"`` → ``("a", "b", "c")``, as ``walletsync pair --chains`` reads it."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Scopes:
    """The scopes a pairing proposes; the companion's defaults until the user edits them."""

    chains: tuple[str, ...] = DEFAULT_CHAINS
    methods: tuple[str, ...] = DEFAULT_METHODS
    events: tuple[str, ...] = DEFAULT_EVENTS

    @classmethod
    def parse(cls, chains: str, methods: str, events: str) -> Scopes:
        """Scopes from comma-separated text; ValueError says what is wrong with the chains."""
        chain_ids = comma_separated(chains)
        if not chain_ids:
            raise ValueError("Ask for at least one chain, e.g. eip155:1")
        for chain in chain_ids:
            if not is_chain_id(chain):
                raise ValueError(
                    f"{chain!r} is not a CAIP-2 chain id (namespace:reference, e.g. eip155:1 or eip155:137)"
                )
        return cls(chain_ids, comma_separated(methods), comma_separated(events))

    def summary(self, registry: Registry) -> str:
        """One line for the pairing screen: the chains by name (the user's text escaped), methods and events."""
        chains = ", ".join(chain_label(registry, c) for c in self.chains)
        methods, events = shown(", ".join(self.methods)) or "none", shown(", ".join(self.events)) or "none"
        return f"Asks for {chains} · methods: {methods} · events: {events}"

    def as_kwargs(self) -> ScopeKwargs:
        """For ``companion.pair(**scopes.as_kwargs())``."""
        return {"chains": self.chains, "methods": self.methods, "events": self.events}


class ScopesScreen(ModalScreen[Scopes | None]):
    """Edits the scopes of the next pairing; dismisses with valid scopes, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="scopes.cancel")]

    def __init__(self, scopes: Scopes) -> None:
        super().__init__()
        self.scopes = scopes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="scopes-dialog"):
            yield Label("What the phone is asked for (comma-separated)", classes="scopes-heading")
            yield Label("Chains (CAIP-2)")
            yield Input(", ".join(self.scopes.chains), id="scopes-chains")
            yield Label("Methods")
            yield Input(", ".join(self.scopes.methods), id="scopes-methods")
            yield Label("Events")
            yield Input(", ".join(self.scopes.events), id="scopes-events")
            yield Static("", id="scopes-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("New QR", variant="primary", id="scopes-ok")
                yield Button("Cancel (esc)", id="scopes-cancel")

    def on_input_submitted(self) -> None:
        self.save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "scopes-ok":
            self.save()
        else:
            self.dismiss(None)

    def save(self) -> None:
        """Dismiss with the edited scopes, or say what is wrong and stay open."""
        values = (self.query_one(f"#scopes-{field}", Input).value for field in ("chains", "methods", "events"))
        try:
            scopes = Scopes.parse(*values)
        except ValueError as exc:
            self.query_one("#scopes-error", Static).update(str(exc))
            self.query_one("#scopes-chains", Input).focus()
            return
        self.dismiss(scopes)

    def action_cancel(self) -> None:
        self.dismiss(None)
