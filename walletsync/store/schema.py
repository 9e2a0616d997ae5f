"""The state file's schema, one migration a step: ``PRAGMA user_version`` says how many ran.

Append only: a released step never changes (a data dir that ran it would not run it again).
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE sessions (
        topic TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        sealed_key BLOB,
        pairing_topic TEXT NOT NULL,
        self_public_key TEXT NOT NULL,
        peer_public_key TEXT NOT NULL,
        controller_public_key TEXT NOT NULL,
        peer_metadata TEXT NOT NULL,
        namespaces TEXT NOT NULL,
        required_namespaces TEXT NOT NULL,
        optional_namespaces TEXT NOT NULL,
        session_properties TEXT,
        expiry INTEGER NOT NULL,
        is_controller INTEGER NOT NULL,
        acknowledged INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'active',
        created_at INTEGER NOT NULL,
        last_seen INTEGER,
        last_ping INTEGER
    );
    CREATE UNIQUE INDEX sessions_active_name ON sessions (name) WHERE status = 'active';
    CREATE TABLE pairings (
        topic TEXT PRIMARY KEY,
        sealed_key BLOB NOT NULL,
        expiry INTEGER NOT NULL,
        proposer INTEGER NOT NULL,
        active INTEGER NOT NULL,
        methods TEXT NOT NULL
    );
    CREATE TABLE proposals (
        id INTEGER PRIMARY KEY,
        proposal TEXT NOT NULL,
        sealed_private_key BLOB NOT NULL,
        session_topic TEXT,
        sealed_sym_key BLOB,
        responder_public_key TEXT,
        name TEXT
    );
    CREATE TABLE requests (
        topic TEXT NOT NULL,
        id INTEGER NOT NULL,
        wire_method TEXT NOT NULL,
        direction TEXT NOT NULL,
        method TEXT,
        params TEXT,
        chain_id TEXT,
        expiry INTEGER NOT NULL,
        status TEXT NOT NULL,
        result TEXT,
        error TEXT,
        verdict TEXT,
        created_at INTEGER NOT NULL,
        answered_at INTEGER,
        PRIMARY KEY (topic, id)
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        kind TEXT NOT NULL,
        session TEXT,
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        signature TEXT NOT NULL
    );
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL,
        signature TEXT NOT NULL
    );
    """,
    # replay memory: what the engine needs to refuse a replayed or stale message after a restart, and
    # the one place two processes on this data dir agree which of them handled a message
    """
    CREATE TABLE replay_seen (
        topic TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('envelope', 'request')),
        key TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (topic, kind, key)
    );
    CREATE TABLE replay_clock (
        topic TEXT NOT NULL,
        name TEXT NOT NULL,
        ms INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (topic, name)
    );
    """,
    # the device group (docs/SYNC.md): this device's place in it, membership entries, sealed data keys,
    # the sealed shared state, this device's own changes (sealed) and when each member was last heard from
    """
    CREATE TABLE group_self (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        group_id TEXT NOT NULL,
        device_name TEXT NOT NULL,
        joined_at INTEGER NOT NULL,
        next_seq INTEGER NOT NULL,
        clock TEXT
    );
    CREATE TABLE group_entries (digest TEXT PRIMARY KEY, body BLOB NOT NULL, kept_at INTEGER NOT NULL);
    CREATE TABLE group_keys (epoch INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
    CREATE TABLE group_state (id INTEGER PRIMARY KEY CHECK (id = 1), sealed BLOB NOT NULL);
    CREATE TABLE group_outbox (seq INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
    CREATE TABLE group_seen (device TEXT PRIMARY KEY, last_seen INTEGER NOT NULL, applied TEXT);
    CREATE TABLE remote_audit (
        device TEXT NOT NULL,
        seq INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        session TEXT,
        entry TEXT NOT NULL,
        PRIMARY KEY (device, seq)
    );
    """,
    # the shared state kept entity by entity (a change rewrites only what it touched); group_state keeps the
    # version vector. Rows are named by a keyed hash of their entity, which names a session: not in clear.
    """
    CREATE TABLE group_registers (id BLOB PRIMARY KEY, sealed BLOB NOT NULL);
    """,
    # a session looked up by the name the user typed is one index search, not a scan of every session
    """
    CREATE INDEX sessions_by_name ON sessions (name);
    """,
    # policy budgets: one row per request let through to the phone while policies exist (what it reserved, and
    # whether the phone spent it), kept 24 h; and the audit rows of one kind found without a scan (the policy file's last attestation)
    """
    CREATE TABLE budget_uses (
        id INTEGER PRIMARY KEY,
        session TEXT NOT NULL,
        request_id INTEGER,
        at INTEGER NOT NULL,
        expiry INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('reserved', 'spent', 'released')),
        amounts TEXT NOT NULL
    );
    CREATE INDEX budget_uses_by_time ON budget_uses (at);
    CREATE INDEX audit_by_kind ON audit (kind, seq);
    """,
    # balances: the addresses the user watches (besides the sessions' accounts), with their local labels; and the
    # last figure read per (account, chain, asset), shown at once with its age while fresh ones load (bounded)
    """
    CREATE TABLE watched (
        address TEXT PRIMARY KEY,
        label TEXT,
        chains TEXT NOT NULL,
        added_at INTEGER NOT NULL
    );
    CREATE TABLE balance_cache (
        account TEXT NOT NULL,
        chain TEXT NOT NULL,
        asset TEXT NOT NULL,
        figure TEXT NOT NULL,
        read_at INTEGER NOT NULL,
        PRIMARY KEY (account, chain, asset)
    );
    CREATE INDEX balance_cache_by_age ON balance_cache (read_at);
    """,
]
