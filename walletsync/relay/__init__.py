"""The walletsync relay: a WalletConnect-compatible relay with a durable mailbox.

``mailbox`` holds the delivery rules (TTL, dedup, acks, limits) over a store
interface; ``stores`` has the memory, SQLite and Redis backends; ``server`` is
the websocket glue, ``frames`` its fast path through the wire format for the
frames that make up nearly all traffic (publishes, pushes, acks) and ``wire``
its fast path to the socket (the only code touching websockets' internals);
``audience`` says which token audiences are this relay, ``logs`` keeps tokens
out of the logs.
"""
