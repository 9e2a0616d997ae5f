"""Nonces for sends in flight: each the next one, whatever order the phone answers in.

Pure. The node's pending count alone is not enough: forge sends up to 7 transactions at once, and none of them is
in the node's pool until the phone has signed and broadcast it, so all 7 would get the same count. And a phone
that broadcasts through a node of its own may answer before the upstream has seen the transaction. So the
bridge remembers what it handed out: the next nonce is the lowest one given back (a rejected send's) at or above
the pending count, else the larger of the pending count and one past the highest handed out.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class _Account:
    next: int = 0
    returned: set[int] = field(default_factory=set)


class Nonces:
    """Per account (lower-case ``0x`` address): :meth:`take` one, then :meth:`give_back` it if the send did not go
    out (rejected, refused, failed); a sent one stays taken. :meth:`saw` notes a nonce a tool chose itself."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}

    def take(self, account: str, pending: int) -> int:
        """The nonce for the next send from ``account``, given the node's pending transaction count."""
        state = self._accounts.setdefault(account.lower(), _Account())
        state.returned = {n for n in state.returned if n >= pending}
        if state.returned:
            nonce = min(state.returned)
            state.returned.discard(nonce)
            return nonce
        nonce = max(pending, state.next)
        state.next = nonce + 1
        return nonce

    def give_back(self, account: str, nonce: int) -> None:
        """``nonce`` was not used (the send never went out): the next send may take it."""
        state = self._accounts.setdefault(account.lower(), _Account())
        if nonce == state.next - 1:
            state.next = nonce
            while state.next - 1 in state.returned:  # the top of what was handed out is all given back
                state.next -= 1
                state.returned.discard(state.next)
        elif nonce < state.next:
            state.returned.add(nonce)

    def saw(self, account: str, nonce: int) -> None:
        """A tool sent ``nonce`` itself: sends the bridge fills go after it."""
        state = self._accounts.setdefault(account.lower(), _Account())
        state.returned.discard(nonce)
        state.next = max(state.next, nonce + 1)
