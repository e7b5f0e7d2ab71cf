"""The base of bolo's request bodies (API, CLI input files, console forms)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A body that refuses unknown fields (a misspelt field is an error, never ignored) and
    strips the whitespace around its texts."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
