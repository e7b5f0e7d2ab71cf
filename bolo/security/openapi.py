"""The OpenAPI schema tells the truth about refusals: every operation documents the error
answers bolo can give (401/403 from auth, 404/409/422 from services, 413/415 for bodies, 429
from rate limits), and token-protected operations declare the bearer security scheme."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bolo.problems import PROBLEM_JSON

# RFC 9457 problem details (bolo/problems.py); validation problems add ``errors``.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "pointer": {"type": "string"},
                },
                "required": ["location", "message", "type"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}
DESCRIPTIONS = {
    "400": "Malformed request (the body could not be parsed).",
    "401": "No valid credentials.",
    "403": "The caller may not do this.",
    "404": "No such object (or not visible to the caller).",
    "405": "Method not allowed.",
    "409": "Not allowed in the current state.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "422": "Invalid input.",
    "429": "Too many requests.",
}
ALWAYS = ("400", "404", "405", "422", "429")
WITH_BODY = ("409", "413", "415")
AUTH_HEADER = "authorization"
BEARER = "bearerAuth"


def _error(code: str) -> dict[str, Any]:
    return {"description": DESCRIPTIONS[code], "content": {PROBLEM_JSON: {"schema": ERROR_SCHEMA}}}


def _document(operation: dict[str, Any], method: str) -> None:
    responses = operation.setdefault("responses", {})
    params = operation.get("parameters", [])
    protected = any(
        p.get("in") == "header" and p.get("name", "").lower() == AUTH_HEADER for p in params
    )
    codes = list(ALWAYS)
    if method != "get":
        codes += WITH_BODY
    # Public operations can still refuse (e.g. a webhook reply with a bad signature).
    codes += ["401", "403"]
    for code in codes:
        responses.setdefault(code, _error(code))
    # FastAPI documents its own validation answer (HTTPValidationError); bolo answers every
    # 422, like every error, as a problem.
    responses["422"] = _error("422")
    if protected:
        operation["parameters"] = [
            p
            for p in params
            if not (p.get("in") == "header" and p.get("name", "").lower() == AUTH_HEADER)
        ]
        operation["security"] = [{BEARER: []}]


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers and the bearer scheme to an OpenAPI schema in place; return it."""
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch"}:
                _document(operation, method)
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token: `Authorization: Bearer bolo_...`",
    }
    return schema


def install_openapi(app: Any) -> None:
    """Make ``app.openapi()`` return the documented schema (computed once, then cached)."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return dict(app.openapi_schema)
        app.openapi_schema = document_errors(original())
        return dict(app.openapi_schema)

    app.openapi = openapi
