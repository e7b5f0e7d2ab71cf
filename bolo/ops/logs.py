"""One logging setup for every bolo process (serve, dispatcher workers, relay): structlog
renders bolo's own events and the standard library's records (uvicorn, SQLAlchemy, the
dispatcher) alike, as key=value lines or, with ``BOLO_LOG_FORMAT=json``, one JSON object a
line. The request id bound by the web middleware rides along on every line of a request.

Secrets never reach the output: values of keys named like a secret are replaced, and ack
tokens, webhook secrets and bearer tokens are cut out of any text (URLs included)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"
SECRET_KEYS = frozenset(
    {
        "password",
        "secret",
        "token",
        "authorization",
        "cookie",
        "t",
        "ack_token",
        "api_key",
        "webhook_secret",
    }
)
_SECRET_TEXT = (
    # ?t=... / &token=... in URLs and query strings (ack links carry their token as t).
    (
        re.compile(r"([?&](?:t|token|secret|key|access_token|api_key)=)[^&\s\"'#]+", re.IGNORECASE),
        r"\1" + REDACTED,
    ),
    (re.compile(r"\b(wh(?:sec|sk)_)[A-Za-z0-9+/=_-]+"), r"\1" + REDACTED),
    (re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1" + REDACTED),
)


def scrub(text: str) -> str:
    """``text`` with ack tokens, webhook secrets and bearer tokens replaced by [redacted]."""
    # Most values (a method, a route, a status) hold none of the markers: skip the regexes,
    # since every request's access line passes here.
    if "=" not in text and "wh" not in text and "earer" not in text.lower():
        return text
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: secret-named keys replaced, secrets in text values scrubbed."""
    for key, value in event.items():
        if key.lower() in SECRET_KEYS and value is not None:
            event[key] = REDACTED
        elif isinstance(value, str):
            event[key] = scrub(value)
    return event


def drop_copies(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: copies of the event text a standard-library record may carry
    (uvicorn's with terminal colours, the one another handler's formatting left behind)."""
    event.pop("color_message", None)
    event.pop("message", None)
    return event


class _QuietAlembic(logging.Filter):
    """Alembic announces its dialect each time it opens a migration context (every readiness
    check); only the migrations it runs are worth a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record unless it is the per-context chatter."""
        return not str(record.msg).startswith(("Context impl", "Will assume"))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted (not the stream of the
    moment it was made), so a replaced stderr never receives writes after it is closed."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _renderer(fmt: str) -> Any:
    if fmt == "json":
        return structlog.processors.JSONRenderer(ensure_ascii=False)
    return structlog.dev.ConsoleRenderer(colors=False)


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]


def setup_logging(fmt: str | None = None, level: int = logging.INFO) -> None:
    """Route structlog and the standard library through one formatter on stderr: ``fmt``
    "json" or "console" (default: the BOLO_LOG_FORMAT setting). Safe to call again."""
    from bolo.settings import get_settings

    chosen = fmt or get_settings().log_format
    shared = _shared_processors()
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            drop_copies,
            redact,
            _renderer(chosen),
        ],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    handler.addFilter(_QuietAlembic())
    root = logging.getLogger()
    # Replace an earlier setup's handler; leave others (a test's log capture) in place.
    root.handlers = [h for h in root.handlers if not isinstance(h, _StderrHandler)]
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's loggers propagate to the root handler instead of printing their own way.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
