"""Settings: one pydantic-settings object read from the environment (prefix ``BOLO_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The names of bolo.alerts.activation.Criterion (settings import nothing from the domains).
ACTIVATION_CRITERIA = ("child_age", "abduction", "risk_of_harm", "description")


class Settings(BaseSettings):
    """Everything bolo reads from its environment.

    ``database_url`` defaults to a SQLite file inside ``data_dir``; ``broker_url`` empty means the
    in-process dispatcher.
    """

    model_config = SettingsConfigDict(env_prefix="BOLO_", extra="ignore")

    data_dir: Path = Field(default=Path(".bolo"), description="Where bolo keeps its files.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in data_dir.")
    broker_url: str = Field(default="", description="nats://... for JetStream; empty = in-process.")
    public_base_url: str = Field(default="http://127.0.0.1:8000")
    cap_sender: str = Field(default="bolo@bolo.local", description="CAP <sender> of our alerts.")
    default_network: str = Field(
        default="",
        description="The network a case is on when it names none; empty: the only "
        "imported network when there is exactly one, else the bundled dprk corridors.",
    )
    retention_days: int = Field(default=30, ge=0)
    token_days: int = Field(
        default=90, ge=0, description="API tokens expire after this many days; 0 = never."
    )
    approver_totp_required: bool = Field(
        default=False, description="Approving an Actual alert needs the approver's TOTP code."
    )
    log_format: Literal["console", "json"] = Field(
        default="console",
        description="Logs on stderr: key=value lines, or one JSON object a line (json).",
    )
    metrics_token: str = Field(
        default="", description="When set, /metrics needs it as a bearer token."
    )
    cap_signing_key: Path | None = Field(
        default=None, description="PEM private key: sign every issued CAP message (XML-DSig)."
    )
    cap_signing_cert: Path | None = Field(
        default=None, description="PEM certificate that goes with cap_signing_key."
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone (e.g. Asia/Seoul) in which pages show "
        "times and forms take them; storage stays UTC.",
    )
    cap_profile: Literal["ipaws", "google"] | None = Field(
        default=None, description="Make every issued CAP message conform to this profile."
    )

    activation_criteria: str = Field(
        default="child_age,abduction,risk_of_harm,description",
        description="Comma-separated activation criteria an Actual alert must meet before it "
        "is submitted (child_age, abduction, risk_of_harm, description); empty = no gate.",
    )
    activation_age_limit: int = Field(
        default=18, ge=1, le=120, description="child_age: a child is younger than this (years)."
    )
    activation_override_min_length: int = Field(
        default=20,
        ge=1,
        le=2000,
        description="Characters an override reason needs when a criterion is not met.",
    )
    post_catchment_metres: float = Field(
        default=250.0,
        ge=0,
        le=5000,
        description="A post watches every network node of its mode this close to it (metres): "
        "suspects passing any of them pass the post in the search picture.",
    )

    @field_validator("activation_criteria")
    @classmethod
    def _known_criteria(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in ACTIVATION_CRITERIA]
        if unknown:
            raise ValueError(
                f"unknown activation criteria {unknown}; "
                f"choose from {', '.join(ACTIVATION_CRITERIA)}"
            )
        return ",".join(names)

    def activation_criteria_list(self) -> list[str]:
        """The activation criteria in force, in the order given (empty: no gate)."""
        return [n for n in self.activation_criteria.split(",") if n]

    @property
    def effective_database_url(self) -> str:
        """The database URL to connect to, with the SQLite default filled in."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'bolo.db').resolve()}"

    def networks_dir(self) -> Path:
        """Folder where imported networks are cached."""
        return self.data_dir / "networks"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
