"""The walletsync relay: a WalletConnect-compatible relay with a durable mailbox.

``mailbox`` holds the delivery rules (TTL, dedup, acks, limits) over a store
interface; ``mailboxes`` has its memory, SQLite and Redis backends. ``server``
is the websocket glue: ``connection`` authenticates a client and writes to it
without waiting, ``delivery`` knows who is subscribed where and pushes to them,
``methods`` answers each frame (the irn_* methods). ``frames`` is the fast path
through the wire format for the frames that make up nearly all traffic
(publishes, pushes, acks) and ``wire`` the fast path to the socket (the only
code touching websockets' internals); ``audience`` says which token audiences
are this relay, ``logs`` keeps tokens out of the logs; ``process`` runs a relay
until a signal stops it (``walletsync relay``).
"""
