"""How an audit row names a client of the signer bridge: the tool that asked, in its own (clipped) words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_CLIENT_TEXT = 200
"""Characters of a client's own words (its User-Agent, an Origin) an audit row keeps."""


def client_fields(client: Mapping[str, Any]) -> dict[str, Any]:
    """A client's description as an audit row keeps it: its own words are data, clipped; absent ones left out."""
    return {str(key): str(value)[:MAX_CLIENT_TEXT] for key, value in client.items() if value is not None}
