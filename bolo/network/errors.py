"""The errors the network package raises: each says what went wrong in words a user can act on."""

from __future__ import annotations


class NetworkError(Exception):
    """Base class of every network error."""


class NetworkNotFound(NetworkError):
    """No cached network of that name, and none can be built from bundled data."""


class NetworkImportError(NetworkError):
    """An input file (OSM extract, corridor table, posts CSV) is unreadable or unusable."""


class PointTooFar(NetworkError):
    """A point is too far from the network to be snapped to it."""


class InvalidNetworkName(NetworkError, ValueError):
    """A network name that cannot be a folder name (empty, a path, hidden, a NUL)."""
