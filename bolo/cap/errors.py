"""Errors raised by the CAP package."""

from __future__ import annotations


class CapRefused(Exception):
    """A message was refused; `reason` says why in words a person can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureError(Exception):
    """A signature is missing, does not verify, or was made by a signer we do not trust."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
