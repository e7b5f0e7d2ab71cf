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
from sqlalchemy import CTE, ColumnElement, Select, Subquery, TypeDecorator, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR = 512
Value = str | int | float | datetime
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


def encode_cursor(values: Sequence[Value]) -> str:
    """The opaque cursor carrying a row's ordering ``values`` (``Keyset.decode`` reads it)."""
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


Column = InstrumentedAttribute[Any] | ColumnElement[Any]


@dataclass(frozen=True)
class Keyset:
    """The ordering of a list: ``columns`` (the last one unique, e.g. the id), all descending,
    all ascending, or each its own way (``descending`` a tuple, one flag per column)."""

    columns: tuple[Column, ...]
    descending: bool | tuple[bool, ...] = True

    def _descending(self) -> tuple[bool, ...]:
        if isinstance(self.descending, bool):
            return (self.descending,) * len(self.columns)
        return self.descending

    def on(self, selectable: Subquery | CTE) -> Keyset:
        """The same ordering over the like-named columns of ``selectable`` (a subquery or a
        common table expression)."""
        return Keyset(tuple(selectable.c[str(c.key)] for c in self.columns), self.descending)

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
        pairs = zip(self.columns, self._descending(), strict=True)
        stmt = stmt.order_by(*[c.desc() if down else c.asc() for c, down in pairs])
        if page is None:
            return stmt
        if page.cursor is not None:
            stmt = stmt.where(self.after(self.decode(page.cursor)))
        return stmt.limit(page.limit + 1)

    def after(self, values: Sequence[Value]) -> Any:
        """The condition on a row to come strictly after the row with ordering ``values``."""
        # (a, b, c) after (x, y, z): a beyond x, or a = x and (b, c) after (y, z).
        condition: Any = None
        rows = zip(self.columns, self._descending(), values, strict=True)
        for column, down, value in reversed(list(rows)):
            beyond = column < value if down else column > value
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
        values = key(last) if key else [getattr(last, str(c.key)) for c in self.columns]
        link_next(request, response, page.limit, encode_cursor(values))
        return shown


def link_next(
    request: Request, response: Response, limit: int, cursor: str, drop: Sequence[str] = ()
) -> None:
    """Name the next page on ``response``: ``Link: <...>; rel="next"``, the request's path and
    parameters (but those named in ``drop``) with ``limit`` and ``cursor``."""
    params = [
        (k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "limit", *drop)
    ]
    params += [("limit", str(limit)), ("cursor", cursor)]
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params)
    response.headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
