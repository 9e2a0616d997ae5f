"""Decoding: what a transaction or typed data would do, in words and effects, with warnings — before the phone is
asked.

Pure rules: the request and the registry come in as data; nothing here reads the network, the disk or the
clock (``now`` is an argument). Where things live: ``transaction.decode_transaction`` (calldata, over the
table of known functions in ``functions.py``, read with eth-abi in ``abi.py``), ``typed_data.decode_typed_data``,
``message.decode_message``; ``amounts`` (exact amounts, for policies too), ``warning`` (the warnings and their
thresholds), ``words`` (how summaries name things), ``contracts`` (protocol contracts known by address),
``selectors`` (names from the bundled list in ``data/``); ``model`` is what they all return.
"""
