"""Set a session's policy in the app: the fields of ``walletsync policy set``, prefilled with the session's own.

The form only gathers text; the service checks it (the words of its errors name the CLI's options, which the
labels show), so the app and the CLI accept and refuse the same policies. Saving goes through the ``save`` it is
given; what that refuses is shown in the form, and what was typed stays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from walletsync.errors import WalletsyncError
from walletsync.policy.model import EVERY_CHAIN, Policy
from walletsync.service import PolicyView
from walletsync.text import shown

FIELDS = (
    ("chains", "Chains (--chains)", "CHAIN,… — e.g. eip155:1, eip155:137; empty: any chain; none: not one"),
    ("methods", "Methods (--methods)", "METHOD,… — e.g. personal_sign; empty: any method; none: not one"),
    ("native", "Max native per day (--max-native-per-day)", "0.1 (each chain) or eip155:137=50, …; empty: no cap"),
    ("tokens", "Max token per day (--max-token-per-day)", "SYMBOL_OR_ADDRESS=AMOUNT, … — e.g. USDC=500; empty: no cap"),
    (
        "recipients",
        "Recipients (--recipients)",
        "ADDR,… — the only addresses value may go to; empty: any; none: not one",
    ),
    ("rate", "Max requests per hour (--max-requests-per-hour)", "N; empty: no limit"),
)
"""Each text field: its key, its label (naming the CLI option its errors name), its placeholder."""


@dataclass(frozen=True)
class PolicyInput:
    """The form's text, field by field (a list is comma-separated, as ``policy set`` takes ``--chains``)."""

    chains: str = ""
    methods: str = ""
    native: str = ""
    tokens: str = ""
    recipients: str = ""
    rate: str = ""
    allow_unlimited_approvals: bool = False

    @classmethod
    def of(cls, policy: Policy | None) -> PolicyInput:
        """The text that sets ``policy`` again (empty for none); token caps by chain and address, exactly."""
        if policy is None:
            return cls()
        return cls(
            chains=_listed(policy.chains),
            methods=_listed(policy.methods),
            native=", ".join(
                c.per_day if c.chain_id == EVERY_CHAIN else f"{c.chain_id}={c.per_day}" for c in policy.native_caps
            ),
            tokens=", ".join(f"{c.chain_id}:{c.address}={c.per_day}" for c in policy.token_caps),
            recipients=_listed(policy.recipients),
            rate="" if policy.max_requests_per_hour is None else str(policy.max_requests_per_hour),
            allow_unlimited_approvals=policy.allow_unlimited_approvals,
        )

    def limits(self) -> dict[str, Any]:
        """The keyword arguments of :meth:`Companion.set_policy`; an empty field sets no limit of its kind.
        :class:`WalletsyncError` for a rate that is not a whole number (the service checks everything else)."""
        rate = self.rate.strip()
        if rate and not (rate.isascii() and rate.isdigit()):
            raise WalletsyncError(f"--max-requests-per-hour: {rate[:40]!r} is not a whole number")
        return {
            "chains": _allowed(self.chains),
            "methods": _allowed(self.methods),
            "max_native_per_day": _items(self.native),
            "max_token_per_day": _items(self.tokens),
            "recipients": _allowed(self.recipients),
            "max_requests_per_hour": int(rate) if rate else None,
            "allow_unlimited_approvals": self.allow_unlimited_approvals,
        }


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


NOT_ONE = "none"
"""What an allow-list that allows nothing reads as: an empty field means no limit, so saving a policy's text
unchanged must never turn "not one" into "any"."""


def _listed(allowed: frozenset[str] | None) -> str:
    if allowed is None:
        return ""
    return ", ".join(sorted(allowed)) or NOT_ONE


def _allowed(text: str) -> list[str] | None:
    """An allow-list's text: empty = no limit (None), ``none`` = not one ([]), else the items."""
    if text.strip().lower() == NOT_ONE:
        return []
    return _items(text) or None


class PolicyFormScreen(ModalScreen[PolicyView | None]):
    """The session's policy as a form; dismisses with the view after a save, or None when cancelled.

    ``save`` takes :meth:`PolicyInput.limits` and returns the view after setting them (it is run off the event
    loop); its :class:`WalletsyncError` is shown under the fields and the form stays. ``problem`` is why the policy
    file is unattested (None: it is attested): the form says so, and the service refuses the save.
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="policy-form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="policy-form.cancel"),
    ]

    def __init__(
        self, name: str, policy: Policy | None, problem: str | None, save: Callable[[dict[str, Any]], PolicyView]
    ) -> None:
        super().__init__()
        self.session_name, self.given, self.problem, self.save_limits = name, PolicyInput.of(policy), problem, save
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="policy-form"):
            yield Label(f"Policy of '{shown(self.session_name, 40)}'", classes="dialog-heading", markup=False)
            if self.problem is not None:
                yield Static(
                    f"UNATTESTED — saving is refused until the policy file is attested: {shown(self.problem, 300)}",
                    id="policy-form-unattested",
                    markup=False,
                )
            for key, label, placeholder in FIELDS:
                yield Label(label, markup=False)
                yield Input(value=getattr(self.given, key), placeholder=placeholder, id=f"policy-{key}")
            yield Checkbox(
                "Allow unlimited approvals (--allow-unlimited-approvals)",
                self.given.allow_unlimited_approvals,
                id="policy-unlimited",
            )
            yield Static(id="policy-form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (^s)", variant="primary", id="policy-form-save")
                yield Button("Cancel (esc)", id="policy-form-cancel")

    def on_mount(self) -> None:
        self.query_one("#policy-chains", Input).focus()

    def typed(self) -> PolicyInput:
        """What the form holds now."""
        text = {key: self.query_one(f"#policy-{key}", Input).value for key, _, _ in FIELDS}
        return PolicyInput(**text, allow_unlimited_approvals=self.query_one("#policy-unlimited", Checkbox).value)

    @on(Button.Pressed, "#policy-form-save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        if not self.saving:
            self.saving = True
            self.save(self.typed())

    @on(Button.Pressed, "#policy-form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(group="policy-form", exit_on_error=False)
    async def save(self, typed: PolicyInput) -> None:
        try:
            view = await asyncio.to_thread(lambda: self.save_limits(typed.limits()))
        except WalletsyncError as exc:
            self.query_one("#policy-form-error", Static).update(f"Not saved: {shown(exc, 400)}")
            self.saving = False
            return
        self.dismiss(view)
