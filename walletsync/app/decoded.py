"""What a decoded request and a session's policies say, as plain lines for people: every piece of request or phone
text escaped (:func:`walletsync.text.shown`), amounts with their decimals and token labels."""

from __future__ import annotations

from walletsync.app.format import chain_label
from walletsync.decode.amounts import format_amount
from walletsync.decode.model import NATIVE, Call, Decoded, Effect, RequestWarning
from walletsync.policy.model import EVERY_CHAIN, Policy
from walletsync.service import PolicyView, Registry
from walletsync.text import shown

INDENT = "  "
MAX_CALL_LINES = 40
"""Calls shown at most (a multicall can nest many); the rest are counted."""
MAX_DATA = 138
"""Characters of an unknown call's raw data shown."""


def decoded_text(decoded: Decoded, registry: Registry) -> str:
    """The summary and chain, the calls (nested ones indented; one call that only repeats the summary left out) or
    typed data's message as a tree, then the effects."""
    lines = [shown(decoded.summary, 300), f"on {chain_label(registry, decoded.chain.id)}"]
    calls = [line for call in decoded.calls for line in _call_lines(call, 1)]
    if calls and calls != [INDENT + shown(decoded.summary, 200)]:  # one call that only says the summary again: left out
        lines.append("Calls")
        lines += calls[:MAX_CALL_LINES]
        if len(calls) > MAX_CALL_LINES:
            lines.append(f"{INDENT}… and {len(calls) - MAX_CALL_LINES} more lines")
    if decoded.kind == "typed_data" and isinstance(decoded.tree, dict):
        lines.append("Message")
        tree = _tree_lines(decoded.tree, 1)
        lines += tree[:MAX_CALL_LINES]
        if len(tree) > MAX_CALL_LINES:
            lines.append(f"{INDENT}… and {len(tree) - MAX_CALL_LINES} more fields")
    if decoded.effects:
        lines.append("Effects")
        lines += [INDENT + effect_text(e, registry) for e in decoded.effects]
    return "\n".join(lines)


def warnings_text(warnings: tuple[RequestWarning, ...]) -> str:
    """One line per warning, its stable code last (what scripts match on)."""
    return "\n".join(f"⚠ {shown(w.message, 300)} ({shown(w.code)})" for w in warnings)


def _call_lines(call: Call, depth: int) -> list[str]:
    lines = [INDENT * depth + shown(call.summary, 200)]
    if call.function is None and call.data != "0x":
        data = call.data if len(call.data) <= MAX_DATA else call.data[: MAX_DATA - 1] + "…"
        lines.append(INDENT * (depth + 1) + f"data {shown(data)}")
    for inner in call.calls:
        lines += _call_lines(inner, depth + 1)
    return lines


def _tree_lines(node: dict[str, object], depth: int) -> list[str]:
    """Typed data's message, a field a line (``name (type): value``), structs' fields indented under them."""
    label = f"{shown(node.get('name'), 60)} ({shown(node.get('type'), 60)})"
    fields = node.get("fields")
    if isinstance(fields, list):
        lines = [INDENT * depth + label]
        for field in fields:
            if isinstance(field, dict):
                lines += _tree_lines(field, depth + 1)
        return lines
    return [INDENT * depth + f"{label}: {shown(node.get('value'), 200)}"]


def amount_text(amount: int | None, chain_id: str, asset: str, registry: Registry) -> str:
    """``1.5 USDC 0xA0b8…eB48``, ``0.06 ETH``; "unlimited …" for None; raw units when the token is unknown."""
    if asset == NATIVE:
        chain = registry.chain(chain_id)
        decimals, label = (chain.decimals, chain.currency) if chain else (None, "of the chain's currency")
    else:
        token = registry.token(chain_id, asset)
        decimals, label = (token.decimals, token.label()) if token else (None, registry.token_label(chain_id, asset))
    if amount is None:
        return f"unlimited {shown(label)}"
    if decimals is None:
        return f"{amount} units of {shown(label)}"
    return f"{format_amount(amount, decimals)} {shown(label)}"


def effect_text(effect: Effect, registry: Registry) -> str:
    """``send 0.06 ETH → 0x…``, ``approve unlimited USDC 0xA0b8…eB48 → 0x…``, with an NFT's id and an expiry."""
    if effect.token_id is not None:
        what = f"#{effect.token_id} of {shown(registry.token_label(effect.chain_id, effect.asset))}"
        if effect.amount not in (None, 1):
            what = f"{effect.amount} × {what}"
    elif effect.kind == "approve_all":
        what = f"every token of {shown(registry.token_label(effect.chain_id, effect.asset))}"
    else:
        what = amount_text(effect.amount, effect.chain_id, effect.asset, registry)
    to = "" if effect.counterparty is None else f" → {shown(effect.counterparty)}"
    until = "" if effect.expiry is None else f" until {effect.expiry}"
    return f"{effect.kind.replace('_', ' ')} {what}{to}{until}"


def policy_lines(policy: Policy | None, registry: Registry) -> list[str]:
    """Each limit of one policy on a line; ``["no policy"]`` for none."""
    if policy is None:
        return ["no policy"]
    lines = []
    if policy.chains is not None:
        lines.append("chains     " + (", ".join(chain_label(registry, c) for c in sorted(policy.chains)) or "none"))
    if policy.methods is not None:
        lines.append("methods    " + (shown(", ".join(sorted(policy.methods))) or "none"))
    for native in policy.native_caps:
        if native.chain_id == EVERY_CHAIN:
            lines.append(f"at most    {shown(native.per_day)} of each chain's currency a day, on each chain")
        else:
            currency = registry.currency(native.chain_id) or "of its currency"
            where = chain_label(registry, native.chain_id)
            lines.append(f"at most    {shown(native.per_day)} {shown(currency)} a day on {where}")
    for token in policy.token_caps:
        lines.append(
            f"at most    {shown(token.per_day)} {shown(token.label())} a day on {chain_label(registry, token.chain_id)}"
        )
    if policy.recipients is not None:
        lines.append("recipients " + (", ".join(sorted(policy.recipients)) or "none (no value may leave)"))
    if policy.max_requests_per_hour is not None:
        lines.append(f"at most    {policy.max_requests_per_hour} requests an hour")
    lines.append("unlimited approvals " + ("allowed" if policy.allow_unlimited_approvals else "refused"))
    return lines


def policy_text(view: PolicyView, registry: Registry, set_hint: str) -> str:
    """What is in force for the view's session: its own policy, the all-sessions one, and the file's state."""
    lines = []
    if view.status.problem is not None:
        lines += [
            "UNATTESTED — every request is refused until the policy file is attested:",
            INDENT + shown(view.status.problem, 400),
        ]
    for heading, policy in (("This session", view.own), ("All sessions", view.all)):
        found = policy_lines(policy, registry)
        lines.append(f"{heading:<14}{found[0]}")
        lines += [" " * 14 + line for line in found[1:]]
    lines.append(set_hint)
    return "\n".join(lines)
