"""Cursor (keyset) paging of the API's lists.

A list is read in the order of a few columns that identify a row (newest first: a time and the
id; or an id alone). A page is ``?limit=`` rows; when more follow, the answer's ``Link`` header
names the next page (``rel="next"``) with an opaque ``cursor``: the ordering values of the
page's last row. The next page starts strictly after those values, so rows stored between two
requests never shift a page: nothing is skipped or repeated (new rows land before the first
page of a newest-first list, or in their place further on). A cursor that is not one bolo made
for the list is refused with 422.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import quote

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Select, TypeDecorator, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR = 512
Value = str | int | datetime
Row = TypeVar("Row")
Statement = TypeVar("Statement", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class PageRequest:
    """What a caller asked for: at most ``limit`` rows after the (undecoded) ``cursor``."""

    limit: int
    cursor: str | None


def page_request(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Rows per page (at most 1000).")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="Where the page starts: the cursor of the previous answer's "
            '`Link: <...>; rel="next"`.',
        ),
    ] = None,
) -> PageRequest:
    """The ``limit`` and ``cursor`` query parameters of a paged list (a FastAPI dependency)."""
    return PageRequest(limit=limit, cursor=cursor)


Paging = Annotated[PageRequest, Depends(page_request)]


def _bad_cursor(cursor: str, why: str) -> RequestValidationError:
    return RequestValidationError(
        [
            {
                "type": "cursor",
                "loc": ("query", "cursor"),
                "input": cursor,
                "msg": f"not a cursor of this list ({why}): start again without one",
            }
        ]
    )


def _encode(values: Sequence[Value]) -> str:
    parts = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_part(part: Any, kind: type) -> Value:
    if kind is datetime:
        if not (isinstance(part, dict) and isinstance(part.get("t"), str)):
            raise ValueError("a time was expected")
        when = datetime.fromisoformat(part["t"])
        if when.tzinfo is None:
            raise ValueError("a time without zone")
        return when
    if type(part) is not kind:  # bool is not int here
        raise ValueError(f"a {kind.__name__} was expected")
    if isinstance(part, str) and len(part) > 200:
        raise ValueError("too long")
    return cast(Value, part)


@dataclass(frozen=True)
class Keyset:
    """The ordering of a list: ``columns`` (the last one unique, e.g. the id), all descending
    or all ascending."""

    columns: tuple[InstrumentedAttribute[Any], ...]
    descending: bool = True

    def _kinds(self) -> list[type]:
        # A TypeDecorator (UtcDateTime) names no Python type of its own; its impl does.
        types = [
            c.type.impl_instance if isinstance(c.type, TypeDecorator) else c.type
            for c in self.columns
        ]
        return [t.python_type for t in types]

    def decode(self, cursor: str) -> list[Value]:
        """The ordering values a cursor carries; RequestValidationError (422) when ``cursor``
        is not one of this list's."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            parts = json.loads(raw)
        except (binascii.Error, ValueError) as exc:
            raise _bad_cursor(cursor, "unreadable") from exc
        kinds = self._kinds()
        if not isinstance(parts, list) or len(parts) != len(kinds):
            raise _bad_cursor(cursor, "wrong shape")
        try:
            return [_decode_part(p, k) for p, k in zip(parts, kinds, strict=True)]
        except ValueError as exc:
            raise _bad_cursor(cursor, str(exc)) from exc

    def apply(self, stmt: Statement, page: PageRequest | None) -> Statement:
        """``stmt`` ordered by the keyset; with a ``page``, starting after its cursor and
        limited to one row more than the page (to know whether another page follows)."""
        order = [c.desc() if self.descending else c.asc() for c in self.columns]
        stmt = stmt.order_by(*order)
        if page is None:
            return stmt
        if page.cursor is not None:
            stmt = stmt.where(self._after(self.decode(page.cursor)))
        return stmt.limit(page.limit + 1)

    def _after(self, values: list[Value]) -> Any:
        # (a, b, c) after (x, y, z): a beyond x, or a = x and (b, c) after (y, z).
        condition: Any = None
        for column, value in reversed(list(zip(self.columns, values, strict=True))):
            beyond = column < value if self.descending else column > value
            condition = (
                beyond if condition is None else or_(beyond, and_(column == value, condition))
            )
        return condition

    def page(
        self,
        rows: Sequence[Row],
        page: PageRequest,
        request: Request,
        response: Response,
        key: Callable[[Row], Sequence[Value]] | None = None,
    ) -> list[Row]:
        """The first ``page.limit`` of ``rows`` (read through :meth:`apply`); when more follow,
        a ``Link: <...>; rel="next"`` header on ``response``. ``key`` gives a row's ordering
        values (default: the keyset's attributes of the row)."""
        if len(rows) <= page.limit:
            return list(rows)
        shown = list(rows[: page.limit])
        last = shown[-1]
        values = key(last) if key else [getattr(last, c.key) for c in self.columns]
        params = [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "limit")
        ]
        params += [("limit", str(page.limit)), ("cursor", _encode(values))]
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params)
        response.headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
        return shown
