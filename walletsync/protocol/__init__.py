"""Sans-IO WalletConnect v2: URIs, keys and envelopes, JSON-RPC, namespaces, relay frames, the Sign engine.

Nothing in this package touches sockets, the clock, the disk or the keyring:
time (``now``) and randomness are arguments. See :mod:`walletsync.protocol.engine`.
"""
