"""Turning the console's HTML forms into the service layer's input shapes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import FormData

from bolo.cap.codec import unencodable_character
from bolo.i18n import zones


def local_time(value: str) -> str:
    """A ``datetime-local`` value as an ISO time in UTC: a time without an offset is local to
    ``BOLO_TIMEZONE`` (the forms' zone); ValueError when it is not a time."""
    if not value:
        return value
    return zones.from_form(value).isoformat()


def _person(values: dict[str, str], prefix: str) -> dict[str, Any] | None:
    name = values.get(f"{prefix}_name", "").strip()
    if not name:
        return None
    person: dict[str, Any] = {
        "name": name,
        "description": values.get(f"{prefix}_description", "").strip(),
    }
    age = values.get(f"{prefix}_age", "").strip()
    if age:
        person["age"] = age
    for key in ("sex", "photo_url"):
        text = values.get(f"{prefix}_{key}", "").strip()
        if text:
            person[key] = text
    return person


def _float(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # left for validation to name the field


def _time(text: str) -> str:
    try:
        return local_time(text)
    except ValueError:
        return text  # left for validation to name the field


def case_form_data(values: dict[str, str]) -> dict[str, Any]:
    """The CaseCreate dict of the "open a case" form (validation is CaseCreate's)."""
    children = [p for p in (_person(values, "child"),) if p]
    suspects = [p for p in (_person(values, "suspect1"), _person(values, "suspect2")) if p]
    vehicle = values.get("vehicle", "").strip()
    data: dict[str, Any] = {
        "children": children,
        "suspects": suspects,
        "vehicles": [{"description": vehicle}] if vehicle else [],
        "narrative": values.get("narrative", "").strip(),
        "network": values.get("network", "").strip() or None,
        "last_known": {
            "place": values.get("place", "").strip(),
            "lat": _float(values.get("lat", "")),
            "lon": _float(values.get("lon", "")),
            "time_earliest": _time(values.get("time_earliest", "")),
            "time_latest": _time(values.get("time_latest", "")),
        },
    }
    bearing = values.get("heading_deg", "").strip()
    if bearing:
        data["hints"] = [
            {
                "kind": "heading",
                "bearing_deg": _float(bearing),
                "weight": 0.7,
                "text": values.get("heading_text", "").strip(),
            }
        ]
    return data


async def checked_form(request: Request) -> FormData:
    """The posted form (URL-encoded or multipart), refused (422 naming the field) when a field's
    name or text holds a character no bolo text may hold: NUL, which PostgreSQL refuses, or
    another control character CAP's XML cannot carry. Files are not texts and pass as sent."""
    form = await request.form()
    for key, value in form.multi_items():
        for text in (key, value) if isinstance(value, str) else (key,):
            character = unencodable_character(text)
            if character is not None:
                raise RequestValidationError(
                    [
                        {
                            "type": "string_unsafe_character",
                            "loc": ("form", key),
                            "input": None,
                            "msg": f"{character} (a control character) is not accepted in any text",
                        }
                    ]
                )
    return form


async def _form_fields(request: Request) -> dict[str, str]:
    form = await checked_form(request)
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


async def _form_lists(request: Request) -> dict[str, list[str]]:
    form = await checked_form(request)
    lists: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            lists.setdefault(key, []).append(value)
    return lists


# The posted form as a dependency: routes stay synchronous (database work runs in the thread
# pool) and declare no body model, so nothing else reads the body before the form parser.
FormFields = Annotated[dict[str, str], Depends(_form_fields)]
FormLists = Annotated[dict[str, list[str]], Depends(_form_lists)]
