"""The service: the one façade (:class:`Companion`) the CLI and the app use, and every word it speaks.

Callers import from here: the façade, its settings, results, errors and events,
and the store and transport types it hands out (``SessionRecord``, ``Status``,
``AuditEntry``, ...), so that the app never reaches below the service.

Names are imported on first use (PEP 562): a command that only parses its arguments, or needs one
constant, does not pay for importing the whole companion (about 100 ms at every start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names are, for type checkers and import-linter; at run time see __getattr__
    from walletsync.audit import AuditEntry, AuditVerdict
    from walletsync.balances.model import BalanceRow, by_chain
    from walletsync.chains.changes import BundledEntry, UnknownChain, UnknownToken
    from walletsync.chains.model import Chain, Token
    from walletsync.chains.registry import Registry
    from walletsync.chains.user import BadChainEntry
    from walletsync.decode.amounts import BadAmount
    from walletsync.localrelay import LocalRelayError
    from walletsync.policy.model import PolicyFileError
    from walletsync.service import backup, events
    from walletsync.service.api import CompanionAPI
    from walletsync.service.backup import RestoredHere, read_backup_file
    from walletsync.service.backup_facade import BackupAge
    from walletsync.service.balance_facade import BadWatch, NotWatched
    from walletsync.service.bridge_facade import BridgeScope
    from walletsync.service.companion import Companion
    from walletsync.service.config import Config
    from walletsync.service.devices import DeviceGroupError, DeviceRecord
    from walletsync.service.events import (
        Event,
        RelayStatusChanged,
        RequestVerified,
        ScopeWidened,
        ServiceEvent,
        SessionRenamed,
        StoreChanged,
    )
    from walletsync.service.group_sync import SyncStatus
    from walletsync.service.linking import LinkOffer, relay_of_link
    from walletsync.service.outcomes import (
        AmbiguousSession,
        ChainNotRequested,
        InputFileError,
        NameTaken,
        PairingFailed,
        PairingOffer,
        RequestOutcome,
        RequestTimeout,
        RevokedLocally,
        SessionInactive,
        SessionNotFound,
    )
    from walletsync.service.policies import PolicyRefused
    from walletsync.service.policy_facade import PolicyView
    from walletsync.service.policy_file import PolicyStatus, PolicyUnattested
    from walletsync.service.preview import RequestPreview
    from walletsync.service.registry import (
        add_chain,
        add_token,
        chain_id_of,
        change_rpc,
        load_registry,
        remove_chain,
        remove_token,
    )
    from walletsync.service.relay_choice import ONLINE_TIMEOUT, PUBLIC_RELAY, RelayChoice, RelayKind, choose_relay
    from walletsync.service.scopes import DEFAULT_CHAINS, DEFAULT_EVENTS, DEFAULT_METHODS, METADATA, is_chain_id
    from walletsync.service.secrets_choice import lock_key_files
    from walletsync.service.store_sync import STORE_POLL
    from walletsync.service.user_input import phone_command, read_input_file
    from walletsync.signatures import MalformedRequest, UserRequest, read_request
    from walletsync.store.db import RequestRecord, SessionRecord, SessionSummary, Watched
    from walletsync.transport.client import RelayUnreachable, Status, TransportError
    from walletsync.vault import ShareError, ShareSpec, VaultError, check_share

_WHERE = {
    "AuditEntry": "walletsync.audit",
    "AuditVerdict": "walletsync.audit",
    "BalanceRow": "walletsync.balances.model",
    "by_chain": "walletsync.balances.model",
    "BadWatch": "walletsync.service.balance_facade",
    "NotWatched": "walletsync.service.balance_facade",
    "Watched": "walletsync.store.db",
    "change_rpc": "walletsync.service.registry",
    "BadChainEntry": "walletsync.chains.user",
    "BundledEntry": "walletsync.chains.changes",
    "Chain": "walletsync.chains.model",
    "Registry": "walletsync.chains.registry",
    "Token": "walletsync.chains.model",
    "UnknownChain": "walletsync.chains.changes",
    "UnknownToken": "walletsync.chains.changes",
    "LocalRelayError": "walletsync.localrelay",
    "events": "walletsync.service.events",  # the module itself
    "backup": "walletsync.service.backup",  # the module itself
    "ShareSpec": "walletsync.vault",
    "ShareError": "walletsync.vault",
    "check_share": "walletsync.vault",
    "VaultError": "walletsync.vault",
    "CompanionAPI": "walletsync.service.api",
    "RestoredHere": "walletsync.service.backup",
    "read_backup_file": "walletsync.service.backup",
    "BackupAge": "walletsync.service.backup_facade",
    "BridgeScope": "walletsync.service.bridge_facade",
    "Companion": "walletsync.service.companion",
    "Config": "walletsync.service.config",
    "DeviceGroupError": "walletsync.service.devices",
    "DeviceRecord": "walletsync.service.devices",
    "Event": "walletsync.service.events",
    "RelayStatusChanged": "walletsync.service.events",
    "RequestVerified": "walletsync.service.events",
    "ScopeWidened": "walletsync.service.events",
    "ServiceEvent": "walletsync.service.events",
    "SessionRenamed": "walletsync.service.events",
    "StoreChanged": "walletsync.service.events",
    "SyncStatus": "walletsync.service.group_sync",
    "LinkOffer": "walletsync.service.linking",
    "relay_of_link": "walletsync.service.linking",
    "AmbiguousSession": "walletsync.service.outcomes",
    "ChainNotRequested": "walletsync.service.outcomes",
    "InputFileError": "walletsync.service.outcomes",
    "NameTaken": "walletsync.service.outcomes",
    "PairingFailed": "walletsync.service.outcomes",
    "PairingOffer": "walletsync.service.outcomes",
    "RequestOutcome": "walletsync.service.outcomes",
    "RequestTimeout": "walletsync.service.outcomes",
    "RevokedLocally": "walletsync.service.outcomes",
    "SessionInactive": "walletsync.service.outcomes",
    "SessionNotFound": "walletsync.service.outcomes",
    "BadAmount": "walletsync.decode.amounts",
    "PolicyFileError": "walletsync.policy.model",
    "PolicyRefused": "walletsync.service.policies",
    "PolicyView": "walletsync.service.policy_facade",
    "PolicyStatus": "walletsync.service.policy_file",
    "PolicyUnattested": "walletsync.service.policy_file",
    "RequestPreview": "walletsync.service.preview",
    "add_chain": "walletsync.service.registry",
    "add_token": "walletsync.service.registry",
    "chain_id_of": "walletsync.service.registry",
    "load_registry": "walletsync.service.registry",
    "remove_chain": "walletsync.service.registry",
    "remove_token": "walletsync.service.registry",
    "ONLINE_TIMEOUT": "walletsync.service.relay_choice",
    "PUBLIC_RELAY": "walletsync.service.relay_choice",
    "RelayChoice": "walletsync.service.relay_choice",
    "RelayKind": "walletsync.service.relay_choice",
    "choose_relay": "walletsync.service.relay_choice",
    "DEFAULT_CHAINS": "walletsync.service.scopes",
    "DEFAULT_EVENTS": "walletsync.service.scopes",
    "DEFAULT_METHODS": "walletsync.service.scopes",
    "METADATA": "walletsync.service.scopes",
    "is_chain_id": "walletsync.service.scopes",
    "lock_key_files": "walletsync.service.secrets_choice",
    "STORE_POLL": "walletsync.service.store_sync",
    "phone_command": "walletsync.service.user_input",
    "read_input_file": "walletsync.service.user_input",
    "MalformedRequest": "walletsync.signatures",
    "UserRequest": "walletsync.signatures",
    "read_request": "walletsync.signatures",
    "RequestRecord": "walletsync.store.db",
    "SessionRecord": "walletsync.store.db",
    "SessionSummary": "walletsync.store.db",
    "RelayUnreachable": "walletsync.transport.client",
    "Status": "walletsync.transport.client",
    "TransportError": "walletsync.transport.client",
}
"""Each public name and the module that defines it."""

__all__ = [
    "ShareError",
    "ShareSpec",
    "VaultError",
    "check_share",
    "backup",
    "AmbiguousSession",
    "AuditEntry",
    "AuditVerdict",
    "BadAmount",
    "BadWatch",
    "BalanceRow",
    "BadChainEntry",
    "BridgeScope",
    "BundledEntry",
    "Chain",
    "ChainNotRequested",
    "Companion",
    "CompanionAPI",
    "RestoredHere",
    "read_backup_file",
    "BackupAge",
    "Config",
    "DEFAULT_CHAINS",
    "DEFAULT_EVENTS",
    "DEFAULT_METHODS",
    "DeviceGroupError",
    "DeviceRecord",
    "Event",
    "InputFileError",
    "LinkOffer",
    "LocalRelayError",
    "METADATA",
    "MalformedRequest",
    "NameTaken",
    "NotWatched",
    "ONLINE_TIMEOUT",
    "PUBLIC_RELAY",
    "PairingFailed",
    "PairingOffer",
    "PolicyFileError",
    "PolicyRefused",
    "PolicyStatus",
    "PolicyUnattested",
    "PolicyView",
    "Registry",
    "RelayChoice",
    "RelayKind",
    "RelayStatusChanged",
    "RelayUnreachable",
    "RequestOutcome",
    "RequestPreview",
    "RequestRecord",
    "RequestTimeout",
    "RequestVerified",
    "RevokedLocally",
    "STORE_POLL",
    "ScopeWidened",
    "ServiceEvent",
    "SessionInactive",
    "SessionNotFound",
    "SessionRecord",
    "SessionSummary",
    "SessionRenamed",
    "Status",
    "StoreChanged",
    "SyncStatus",
    "Token",
    "TransportError",
    "UnknownChain",
    "UnknownToken",
    "UserRequest",
    "Watched",
    "add_chain",
    "add_token",
    "by_chain",
    "chain_id_of",
    "change_rpc",
    "choose_relay",
    "events",
    "is_chain_id",
    "load_registry",
    "lock_key_files",
    "phone_command",
    "read_input_file",
    "read_request",
    "relay_of_link",
    "remove_chain",
    "remove_token",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = loaded if name == "events" else getattr(loaded, name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return __all__
