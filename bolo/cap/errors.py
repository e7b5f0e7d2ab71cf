"""Errors raised by the CAP package."""

from __future__ import annotations


class CapRefused(Exception):
    """A message was refused; `reason` says why in words a person can act on, `rule` names the
    rule (an id of `bolo.cap.findings.RULES`)."""

    def __init__(self, reason: str, rule: str = "decode") -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule = rule


class SignatureError(Exception):
    """A signature is missing, does not verify, or was made by a signer we do not trust."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
