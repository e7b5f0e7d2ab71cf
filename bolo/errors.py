"""Domain errors raised by the service layer; the API and the CLI turn them into 4xx / exit 1."""

from __future__ import annotations


class BoloError(Exception):
    """A refusal a user can act on. ``status`` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(BoloError):
    """The thing named does not exist (or is not visible to the caller)."""

    status = 404


class Conflict(BoloError):
    """The action is not allowed in the current state (an invalid transition)."""

    status = 409


class Gone(BoloError):
    """The thing existed but its content was erased for good (a purged case's messages)."""

    status = 410


class Forbidden(BoloError):
    """The caller may not do this."""

    status = 403


class Unauthorized(BoloError):
    """No valid credentials were given."""

    status = 401


class InvalidInput(BoloError):
    """The input is well-formed but wrong."""

    status = 422
