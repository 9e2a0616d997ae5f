"""The terminal UI: the only package that imports textual. Build it with :func:`build_app`."""

from walletsync.app.app import WalletsyncApp, build_app

__all__ = ["WalletsyncApp", "build_app"]
