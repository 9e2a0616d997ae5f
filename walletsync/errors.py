"""The one exception base every walletsync error derives from.

Library exceptions (pynacl, json, binascii, ...) never leak out of walletsync:
each layer turns them into a subclass of :class:`WalletsyncError` whose message
says what was wrong, so callers need a single ``except`` and users get one line.
"""


class WalletsyncError(Exception):
    """Base of every error walletsync raises on purpose.

    ``code`` is a short stable identifier for scripts (``--json`` output).
    """

    code = "error"
