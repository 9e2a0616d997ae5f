"""The chain registry: chain names, native currencies, explorers and RPCs, and the major tokens.

Pure rules: the bundled lists are package data; the user's additions come in as data from the service.
"""
