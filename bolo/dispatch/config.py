"""Dispatch settings (prefix ``BOLO_DISPATCH_``), apart from bolo's core settings."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DispatchSettings(BaseSettings):
    """Timers and sizes of the dispatcher; durations in seconds."""

    model_config = SettingsConfigDict(env_prefix="BOLO_DISPATCH_", extra="ignore")

    escalate_after_s: float = Field(default=600.0, gt=0, description="T: wait for an ack.")
    lease_s: float = Field(default=30.0, gt=0, description="A claimed row is retried after this.")
    batch: int = Field(default=200, ge=1, description="Rows claimed per round.")
    concurrency: int = Field(default=200, ge=1, description="Sends in flight per worker.")
    in_flight_window: int = Field(
        default=512,
        ge=1,
        description="Sent but not yet recorded, per worker: the most a "
        "crash can send twice (the receiver de-duplicates them by webhook-id).",
    )
    db_process: bool = Field(
        default=True,
        description="In-process backend: bolo dispatcher "
        "does its database work in a child process (another core, no "
        "shared GIL) instead of a thread.",
    )
    rate_limits: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"apprise": (2.0, 5.0)},
        description="Per channel kind: (sends per second, burst) allowed to each destination "
        "(an Apprise gateway, a webhook host, an MQTT broker); kinds not named are not "
        'limited. JSON, e.g. BOLO_DISPATCH_RATE_LIMITS=\'{"apprise": [2, 5], "webhook": '
        "[50, 100]}'.",
    )
    shared_rate_limits: bool = Field(
        default=True,
        description="Rate limits hold for the whole deployment: every worker "
        "takes its tokens from per-destination buckets in the database (one round trip per "
        "lease of about 0.1 s of the rate). false: each worker limits itself alone.",
    )
    max_attempts: int = Field(default=8, ge=1)
    timeout_s: float = Field(default=10.0, gt=0, description="Per-send timeout.")
    poll_s: float = Field(default=0.2, gt=0, description="Idle wait between outbox polls.")
    ack_wait_s: float = Field(default=60.0, gt=0, description="NATS: redeliver unacked after.")
    rows_per_message: int = Field(
        default=32,
        ge=1,
        le=1000,
        description="NATS: outbox rows carried by one JetStream "
        "message (a parcel); one message per row costs the broker, relay and workers a "
        "publish, a delivery and an ack per post.",
    )
    stream_suffix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9_-]{0,32}$",
        description="NATS: use a stream and "
        "consumer of their own (several bolo installations sharing one NATS server).",
    )
    requeue_after_s: float = Field(default=120.0, gt=0, description="NATS: republish lost.")
    heartbeat_interval_s: float = Field(default=300.0, gt=0, description="Expected check-in.")


@lru_cache(maxsize=1)
def dispatch_settings() -> DispatchSettings:
    """The process-wide dispatch settings, read once."""
    return DispatchSettings()
