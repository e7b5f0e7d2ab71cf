"""Settings of the public tip intake (environment prefix ``BOLO_TIPS_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TipSettings(BaseSettings):
    """Limits of the public tip intake: rates (per second/minute), sizes (bytes)."""

    model_config = SettingsConfigDict(env_prefix="BOLO_TIPS_", extra="ignore")

    per_client_per_minute: float = Field(6.0, gt=0, description="Sustained tips per client.")
    per_client_burst: int = Field(5, ge=1, description="Tips a client may send at once.")
    overall_per_second: float = Field(2000.0, gt=0, description="All clients together.")
    overall_burst: int = Field(2000, ge=1)
    trusted_proxies: str = Field(
        "127.0.0.1,::1",
        description="Peers whose X-Forwarded-For names the client (comma-separated addresses).",
    )
    max_json_bytes: int = Field(16 * 1024, ge=1024, description="JSON tip without photo.")
    max_upload_bytes: int = Field(6 * 1024 * 1024, ge=1024, description="Form or JSON with photo.")
    batch_max: int = Field(512, ge=1, description="Tips written per transaction at most.")

    def proxies(self) -> frozenset[str]:
        """The trusted proxy addresses as a set."""
        return _proxy_set(self.trusted_proxies)


@lru_cache(maxsize=8)
def _proxy_set(addresses: str) -> frozenset[str]:
    # Asked on every public request: parse each setting once.
    return frozenset(p.strip() for p in addresses.split(",") if p.strip())


@lru_cache(maxsize=1)
def tip_settings() -> TipSettings:
    """The process-wide tip settings, read once from the environment."""
    return TipSettings()
