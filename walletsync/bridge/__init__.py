"""The signer bridge: a session's phone as a local JSON-RPC node for cast, forge, web3.py, ethers and Hardhat.

``walletsync rpc`` serves it. Like the rest of walletsync it is a pure part that decides and a thin I/O part:

- pure: ``jsonrpc`` (reading requests and batches within bounds, the answers), ``guard`` (Host, Origin, token),
  ``routing`` (who answers each method), ``params`` (a signing request as the phone gets it), ``filling`` (a
  transaction filled from the node's answers), ``nonces`` (one nonce per send in flight), ``compare`` (asked vs
  mined), ``faults`` (refusals in the codes tools act on), ``retries`` (one prompt for a retried request);
- I/O: ``upstream`` (the chain's node, aiohttp's client), ``sending`` (fill, push, watch until mined),
  ``endpoint`` (the :class:`Bridge`: one request at a time, through the companion's façade), ``server``
  (aiohttp's server: HTTP and WebSocket on one loopback port), ``serving`` (the one way to start an endpoint:
  the pieces put together, for ``walletsync rpc`` and the app); ``hints`` says how to point each tool at it.

It talks to the companion only through :mod:`walletsync.service`'s names; only ``commands`` and ``app`` import it.
"""
