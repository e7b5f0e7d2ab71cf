"""Request input is checked against its declared types strictly before FastAPI's own (lax)
validation: ``false`` is not the number 0, ``"1.5"`` is not a number, and a single-valued
query parameter given twice is refused rather than silently taking the last value. What passes
here passes FastAPI's validation unchanged, so no route changes behaviour for well-typed input.

``bolo.auth.deps`` runs the check: for routes that need a bearer token after authentication
(``current_user`` calls ``check_request``), so that a caller without credentials gets 401, not a
lesson in the schema; for the others as an app-wide dependency (``strict_json_body``).
"""

from __future__ import annotations

import typing
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from bolo.cap.codec import unencodable_character
from bolo.security.jsonparse import load_json

JSON_TYPES = ("application/json",)
_CHECKED = "bolo_strict_checked"


@lru_cache(maxsize=512)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def body_annotation(route: Any) -> Any | None:
    """The type a route declares for its request body (None when it takes no body)."""
    field = getattr(route, "body_field", None)
    info = getattr(field, "field_info", None)
    return getattr(info, "annotation", None)


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, set, tuple, frozenset):
        return True
    return any(_is_sequence(a) for a in typing.get_args(annotation))


def _query_params(route: Any) -> tuple[set[str], set[str]]:
    """(every declared query parameter, the single-valued ones) of a route."""
    dependant = getattr(route, "dependant", None)
    declared: set[str] = set()
    single: set[str] = set()
    pending = [dependant] if dependant is not None else []
    while pending:
        current = pending.pop()
        for param in getattr(current, "query_params", []):
            name = param.alias or param.name
            declared.add(name)
            if not _is_sequence(param.field_info.annotation):
                single.add(name)
        pending.extend(getattr(current, "dependencies", []))
    return declared, single


def check_request(request: Request, body: bytes | None) -> None:
    """Refuse (422, FastAPI's error shape) unknown or repeated single-valued query parameters
    of API routes, and a JSON
    body whose values have the wrong JSON type for the route's body model. Runs once per
    request; ``body`` None means 'not read'."""
    if getattr(request.state, _CHECKED, False):
        return
    setattr(request.state, _CHECKED, True)
    route = request.scope.get("route")
    errors: list[dict[str, Any]] = []
    declared, single = _query_params(route)
    for name in sorted(single):
        if len(request.query_params.getlist(name)) > 1:
            errors.append(
                {
                    "type": "too_many_values",
                    "loc": ("query", name),
                    "msg": "give this parameter once",
                    "input": None,
                }
            )
    if getattr(route, "include_in_schema", False):
        # The API refuses parameters it does not know, as its bodies refuse unknown fields:
        # a misspelt filter must not silently return everything.
        for name in sorted(set(request.query_params.keys()) - declared):
            errors.append(
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "unknown query parameter",
                    "input": None,
                }
            )
    annotation = body_annotation(route)
    is_json = request.headers.get("content-type", "").startswith(JSON_TYPES)
    unsafe = _unsafe_text(body) if is_json and body is not None else None
    if unsafe is not None:
        errors.append(
            {
                "type": "string_unsafe_character",
                "loc": ("body", *unsafe[0]),
                "msg": _refusal(unsafe[1]),
                "input": None,
            }
        )
    elif annotation is not None and is_json and body is not None and body.strip():
        try:
            _adapter(annotation).validate_json(body, strict=True)
        except ValidationError as exc:
            errors += [
                {**e, "loc": ("body", *e["loc"])}
                for e in exc.errors(include_url=False, include_context=False)
            ]
    if errors:
        raise RequestValidationError(errors)


def _refusal(character: str) -> str:
    if character == "U+0000":
        return "a NUL character (\\u0000) is not accepted in any text"
    return f"a control character ({character}) is not accepted in any text"


def _unsafe_text(body: bytes) -> tuple[tuple[str | int, ...], str] | None:
    """Where a string of the JSON ``body`` (a key or a value) holds a character no bolo text
    may hold (``unencodable_character``: PostgreSQL refuses NUL, CAP's XML every C0 control
    but tab, LF and CR, and U+FFFE/U+FFFF), and which: (path, "U+XXXX"). None when every text
    is fine or the body is not JSON (left to validation)."""
    if b"\\u" not in body and b"\xef\xbf\xbe" not in body and b"\xef\xbf\xbf" not in body:
        return None  # JSON can carry those characters only escaped, and U+FFFE/F as such
    try:
        stack: list[tuple[tuple[str | int, ...], Any]] = [((), load_json(body))]
    except ValueError:
        return None
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            character = unencodable_character(item)
            if character is not None:
                return path, character
        elif isinstance(item, dict):
            for key, value in item.items():
                stack += [((*path, key), key), ((*path, key), value)]
        elif isinstance(item, list):
            stack += [((*path, index), value) for index, value in enumerate(item)]
    return None
