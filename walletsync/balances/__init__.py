"""Balances across chains, as pure rules: the row every screen and ``balances --json`` shows, the JSON-RPC calls
that read it, and the status each row earns from what the chain's RPCs answered (time comes in as an argument).
The service does the reading (:mod:`walletsync.service.balances`)."""
