"""A post registers only the kinds of channel it is reached by: the feed and ``none`` are the
dispatcher's own, in the one ``ChannelKind`` both use."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bolo.posts.channel_kinds import REGISTERED_KINDS, ChannelKind
from bolo.posts.schemas import ChannelIn


@pytest.mark.parametrize("kind", ["feed", "none", "pigeon", 5])
def test_a_post_cannot_register_a_kind_it_is_not_reached_by(kind: object) -> None:
    with pytest.raises(ValidationError, match="Input should be 'webhook', 'apprise' or 'mqtt'"):
        ChannelIn.model_validate({"kind": kind, "url": "https://example.org/hook"})


@pytest.mark.parametrize("kind", REGISTERED_KINDS)
def test_a_registered_kind_is_the_dispatchers_kind(kind: ChannelKind) -> None:
    channel = ChannelIn.model_validate_json(f'{{"kind": "{kind}", "url": "mqtt://b:1883/t"}}')
    assert channel.kind is kind


def test_the_api_schema_offers_only_the_registered_kinds() -> None:
    schema = ChannelIn.model_json_schema()["properties"]["kind"]
    assert schema["enum"] == ["webhook", "apprise", "mqtt"]
