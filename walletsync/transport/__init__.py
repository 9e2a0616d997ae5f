"""The asyncio side of the protocol: a relay client and the pump that runs an engine over it."""
