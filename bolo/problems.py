"""RFC 9457 problem details: the one shape of every error the API answers.

An error is ``application/problem+json``: ``{"type", "title", "status", "detail"}``, where
``detail`` is the message saying what is wrong (the text bolo's errors always carried) and
``title`` the HTTP status's phrase. ``type`` is ``about:blank`` (the status says it all) except
for input that fails validation, whose problem type adds ``errors``: one entry per field, with
its ``location`` (``["body", "lat"]``, ``["query", "limit"]``), ``message`` and ``type``, and
for a body field a JSON ``pointer`` into the body (``"#/lat"``). Extension members a problem
carries are listed in docs/api.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"
BLANK = "about:blank"
VALIDATION = "urn:bolo:problem:validation"
VALIDATION_TITLE = "The request is not valid"
# Locations pydantic and FastAPI put first in an error's ``loc``.
PARTS = frozenset({"body", "query", "path", "header", "cookie"})


class ProblemResponse(JSONResponse):
    """A JSON response served as ``application/problem+json``."""

    media_type = PROBLEM_JSON


def title_of(status: int) -> str:
    """The HTTP reason phrase of ``status`` (``"Not Found"``), or ``"Error"`` when unknown."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(
    status: int, detail: str, *, type_: str = BLANK, title: str | None = None, **extensions: Any
) -> dict[str, Any]:
    """The problem document for HTTP ``status`` with ``detail`` (what is wrong, for a person)
    and any extension members."""
    return {
        "type": type_,
        "title": title or title_of(status),
        "status": status,
        "detail": detail,
        **extensions,
    }


def problem_response(
    status: int, detail: str, *, headers: Mapping[str, str] | None = None, **extensions: Any
) -> ProblemResponse:
    """An ``application/problem+json`` answer (see :func:`problem`)."""
    return ProblemResponse(
        problem(status, detail, **extensions), status, headers=dict(headers) if headers else None
    )


def problem_bytes(status: int, detail: str) -> bytes:
    """The encoded problem document, for ASGI middleware answering without the app."""
    return json.dumps(problem(status, detail)).encode()


def field_errors(
    errors: Iterable[Mapping[str, Any]], *, part: str | None = None
) -> list[dict[str, Any]]:
    """pydantic/FastAPI error dicts as ``[{"location", "message", "type"[, "pointer"]}]``.
    ``part`` is prefixed to locations that do not name one (a body validated by hand)."""
    entries: list[dict[str, Any]] = []
    for error in errors:
        location = [
            part_ if isinstance(part_, int) else str(part_) for part_ in error.get("loc", ())
        ]
        if part is not None and (not location or location[0] not in PARTS):
            location = [part, *location]
        entry: dict[str, Any] = {
            "location": location,
            "message": str(error.get("msg", "")),
            "type": str(error.get("type", "invalid")),
        }
        if location and location[0] == "body":
            entry["pointer"] = "#/" + "/".join(
                str(p).replace("~", "~0").replace("/", "~1") for p in location[1:]
            )
        entries.append(entry)
    return entries


def summary(entries: Sequence[Mapping[str, Any]]) -> str:
    """One line naming each invalid field and what is wrong with it."""
    parts = []
    for entry in entries:
        location = entry["location"]
        where = ".".join(str(p) for p in location[1:]) or (location[0] if location else "request")
        parts.append(f"{where}: {entry['message']}")
    return "; ".join(parts) or "the request is not valid"


def validation_response(
    errors: Iterable[Mapping[str, Any]],
    *,
    part: str | None = None,
    detail: str | None = None,
    **extensions: Any,
) -> ProblemResponse:
    """422 for input that fails validation: the field ``errors`` and a ``detail`` naming
    them (or the ``detail`` given)."""
    entries = field_errors(errors, part=part)
    return problem_response(
        422,
        detail or summary(entries),
        type_=VALIDATION,
        title=VALIDATION_TITLE,
        errors=entries,
        **extensions,
    )
