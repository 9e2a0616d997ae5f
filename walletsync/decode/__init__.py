"""Decoding: what a transaction or typed data would do, in words, with warnings — before the phone is asked.

Pure rules: the request and the registry come in as data; nothing here reads the network, the disk or the
clock (``now`` is an argument).
"""
