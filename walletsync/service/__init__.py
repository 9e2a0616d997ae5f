"""The service: the one façade (:class:`Companion`) the CLI and the app use, and every word it speaks.

Callers import from here: the façade, its settings, results, errors and events,
and the store and transport types it hands out (``SessionRecord``, ``Status``,
``AuditEntry``, ...), so that the app never reaches below the service.
"""

from walletsync.audit import AuditEntry, AuditVerdict
from walletsync.localrelay import LocalRelayError
from walletsync.service import events
from walletsync.service.api import CompanionAPI
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
from walletsync.service.relay_choice import ONLINE_TIMEOUT, PUBLIC_RELAY, RelayChoice, RelayKind, choose_relay
from walletsync.service.scopes import DEFAULT_CHAINS, DEFAULT_EVENTS, DEFAULT_METHODS, METADATA, is_chain_id
from walletsync.service.secrets_choice import lock_key_files
from walletsync.service.store_sync import STORE_POLL
from walletsync.service.user_input import phone_command, read_input_file
from walletsync.signatures import MalformedRequest, UserRequest, read_request
from walletsync.store.db import RequestRecord, SessionRecord, SessionSummary
from walletsync.transport.client import RelayUnreachable, Status, TransportError

__all__ = [
    "LocalRelayError",
    "TransportError",
    "RelayUnreachable",
    "DEFAULT_CHAINS",
    "DEFAULT_EVENTS",
    "DEFAULT_METHODS",
    "METADATA",
    "ONLINE_TIMEOUT",
    "PUBLIC_RELAY",
    "STORE_POLL",
    "AmbiguousSession",
    "AuditEntry",
    "AuditVerdict",
    "ChainNotRequested",
    "Companion",
    "CompanionAPI",
    "Config",
    "DeviceGroupError",
    "DeviceRecord",
    "LinkOffer",
    "MalformedRequest",
    "Event",
    "InputFileError",
    "NameTaken",
    "PairingFailed",
    "PairingOffer",
    "RelayChoice",
    "RelayKind",
    "RelayStatusChanged",
    "RequestOutcome",
    "RequestRecord",
    "RequestTimeout",
    "RequestVerified",
    "RevokedLocally",
    "ScopeWidened",
    "ServiceEvent",
    "SessionInactive",
    "SessionNotFound",
    "SessionRecord",
    "SessionSummary",
    "SessionRenamed",
    "Status",
    "SyncStatus",
    "StoreChanged",
    "UserRequest",
    "choose_relay",
    "events",
    "is_chain_id",
    "lock_key_files",
    "phone_command",
    "read_input_file",
    "read_request",
    "relay_of_link",
]
