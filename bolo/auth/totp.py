"""Time-based one-time passwords (RFC 6238, 30 s steps, 6 digits) for approvers."""

from __future__ import annotations

import hmac

import pyotp

from bolo.clock import now

STEP_S = 30
# One step of drift either side: a code typed in the last seconds of its step still counts.
DRIFT_STEPS = 1


def new_secret() -> str:
    """A fresh random base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, username: str, issuer: str = "bolo") -> str:
    """The otpauth:// URI an authenticator app reads (show it as a QR code, once)."""
    return pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(name=username, issuer_name=issuer)


def code_at(secret: str, *, step_offset: int = 0) -> str:
    """The code valid now (plus ``step_offset`` steps of 30 s): for tests and enrolment checks."""
    totp = pyotp.TOTP(secret, interval=STEP_S)
    return totp.at(now(), counter_offset=step_offset)


def matching_step(secret: str, code: str, *, after_step: int | None) -> int | None:
    """The time step whose code equals ``code`` (within the drift window, newer than
    ``after_step`` so that no code is accepted twice), or None."""
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret, interval=STEP_S)
    current = totp.timecode(now())
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        step = current + offset
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
