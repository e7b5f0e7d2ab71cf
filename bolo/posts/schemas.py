"""Input and output shapes of posts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from bolo.network.graph import Mode, PostKind
from bolo.posts.channel_kinds import REGISTERED_KINDS, ChannelKind
from bolo.schemas import Strict

LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
ACCEPTED_SECRETS = (
    "give a whsec_ symmetric secret (HMAC, v1) or the whsk_ ed25519 private key "
    "(v1a; the post keeps the whpk_ public key to verify)"
)


_EXPECTED = ", ".join(f"'{k}'" for k in REGISTERED_KINDS[:-1]) + f" or '{REGISTERED_KINDS[-1]}'"


def _registered(kind: object) -> object:
    """Only the kinds a post registers: the feed and ``none`` are the dispatcher's."""
    if kind not in REGISTERED_KINDS:
        raise PydanticCustomError("enum", "Input should be {expected}", {"expected": _EXPECTED})
    return kind


RegisteredKind = Annotated[
    ChannelKind,
    BeforeValidator(_registered),
    WithJsonSchema({"type": "string", "enum": [str(k) for k in REGISTERED_KINDS]}),
]


class ChannelIn(BaseModel):
    """One way to reach a post; channels are tried in order when escalating."""

    model_config = ConfigDict(extra="forbid")

    kind: RegisteredKind
    url: str = Field(min_length=1, max_length=2000)
    secret: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _webhook_secret_signs(self) -> ChannelIn:
        """A webhook channel's secret must be one bolo can sign with: refused here, at
        registration, because the dispatcher would otherwise fail every send to the post."""
        if self.kind != ChannelKind.WEBHOOK or not self.secret:
            return self
        # Imported here: the dispatch domain (and its crypto) stays out of `bolo --help` and
        # of every command that never registers a post.
        from bolo.dispatch.signing import PUBLIC_PREFIX, key_from_string

        if self.secret.startswith(PUBLIC_PREFIX):
            raise PydanticCustomError(
                "webhook_secret",
                "the webhook secret is a whpk_ ed25519 public key, which can "
                "only verify: bolo cannot sign with it; " + ACCEPTED_SECRETS,
            )
        try:
            key_from_string(self.secret)
        except ValueError as exc:
            # The parser's reason (bad base64, wrong seed length) never quotes the secret.
            raise PydanticCustomError(
                "webhook_secret",
                "the webhook secret cannot be read ({reason}); " + ACCEPTED_SECRETS,
                {"reason": str(exc)},
            ) from None
        return self


class PostIn(Strict):
    """A post to create or update."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    kind: PostKind
    name: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    mode: Mode = Mode.ROAD
    network: str | None = None
    node: int | None = None
    region: str | None = Field(default=None, max_length=64)
    supervisor_id: str | None = None
    language: str | None = Field(
        default=None,
        max_length=35,
        pattern=LANGUAGE_TAG,
        description="BCP 47 language tag, e.g. 'ca' or 'fr-AD'.",
    )
    channels: list[ChannelIn] = Field(default_factory=list, max_length=10)


class PostOut(BaseModel):
    """A post as staff see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    name: str
    lat: float
    lon: float
    mode: str
    network: str | None
    node: int | None
    region: str | None
    supervisor_id: str | None
    language: str | None
    channels: list[dict[str, Any]]
    heartbeat_at: datetime | None
    active: bool
