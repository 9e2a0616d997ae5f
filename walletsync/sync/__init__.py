"""The device group: several terminals of one user sharing sessions, names, requests and audit.

The pure rules live here (sans-IO, like ``protocol/``: time and randomness come in as
arguments): the link handshake, the signed membership list, the group's data keys, the sealed
change envelopes and the state every device converges to. The service drives them over the relay.
"""
