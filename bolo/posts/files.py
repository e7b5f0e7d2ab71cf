"""The organisation's posts list as a file: CSV or JSON lines read with every bad row named and
each post snapped to the network, and written back in the same form.

CSV columns: ``id, kind, lat, lon`` and optionally ``name, mode, region, supervisor, language,
webhook_url, webhook_secret, apprise_url, mqtt_url`` (the channels in that order of preference).
JSON lines: one ``bolo post add`` object a line. Nothing here touches the database; the service
(``bolo.posts.service.import_posts``) stores the rows once every one of them is good.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bolo.errors import InvalidInput
from bolo.network.graph import Network
from bolo.posts.model import Post
from bolo.posts.schemas import PostIn, PostOut
from bolo.security.jsonparse import load_json

REQUIRED_COLUMNS = ("id", "kind", "lat", "lon")
CHANNEL_COLUMNS = (
    ("webhook", "webhook_url", "webhook_secret"),
    ("apprise", "apprise_url", None),
    ("mqtt", "mqtt_url", None),
)
CSV_COLUMNS = (
    *REQUIRED_COLUMNS,
    "name",
    "mode",
    "region",
    "supervisor",
    "language",
    "webhook_url",
    "webhook_secret",
    "apprise_url",
    "mqtt_url",
)
# CSV column -> PostIn field, where they differ.
_FIELD_OF = {"supervisor": "supervisor_id"}
_COLUMN_OF = {v: k for k, v in _FIELD_OF.items()}
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
MAX_PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class Problem:
    """What is wrong with one cell (or a whole row, column ``""``) of the file."""

    line: int
    column: str
    why: str
    word: str = "column"  # "field" for JSON lines

    def __str__(self) -> str:
        where = f", {self.word} {self.column}" if self.column else ""
        return f"line {self.line}{where}: {self.why}"

    def as_dict(self) -> dict[str, Any]:
        """The problem as JSON: line, column, why."""
        return {"line": self.line, "column": self.column, "why": self.why}


class PostImportError(InvalidInput):
    """The file has problems; nothing was imported. ``problems`` names every one."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        problems = sorted(problems, key=lambda p: p.line)
        shown = "; ".join(str(p) for p in problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        super().__init__(
            f"{source}: {len(problems)} problem(s), nothing imported: {shown}"
            + (f"; and {more} more" if more > 0 else "")
        )
        self.problems = problems


@dataclass(frozen=True)
class Row:
    """One good row: the post (network and node set) and the fields the row gave; fields it
    did not give keep their stored values when the post exists already."""

    line: int
    post: PostIn
    given: frozenset[str]
    # The file's column (or field) of each channel's URL, to name it in a problem.
    channel_columns: tuple[str, ...] = ()


def detect_format(name: str, text: str) -> str:
    """``"jsonl"`` for .jsonl/.ndjson/.json names or text starting with ``{``, else ``"csv"``."""
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith(JSONL_SUFFIXES):
        return "jsonl"
    return "jsonl" if text.lstrip("\ufeff \t\r\n").startswith("{") else "csv"


def read_posts(
    text: str, network: Network, *, source: str, fmt: str | None = None
) -> tuple[list[Row], list[Problem]]:
    """The rows of ``text`` (CSV or JSON lines; ``fmt`` None: detected from ``source``'s name
    and the text), each snapped to the nearest node of its mode on ``network`` within 2 km:
    the good ones, and every problem (line, column, why) of the others. Any problem means
    nothing may be stored (``bolo.posts.service.import_posts`` refuses)."""
    fmt = fmt or detect_format(source, text)
    problems: list[Problem] = []
    rows = (_csv_rows if fmt == "csv" else _jsonl_rows)(text.lstrip("\ufeff"), problems)
    good: list[Row] = []
    seen: dict[str, int] = {}
    word = "column" if fmt == "csv" else "field"
    for line, data, column_of in rows:
        row = _validated(line, data, column_of, network, problems, word)
        if row is None:
            continue
        if row.post.id in seen:
            problems.append(
                Problem(
                    line,
                    "id",
                    f"duplicate id {row.post.id!r} (also on line {seen[row.post.id]})",
                    word,
                )
            )
            continue
        seen[row.post.id] = line
        good.append(row)
    if not good and not problems:
        problems.append(Problem(1, "", "no posts in the file"))
    return good, problems


# PostIn field (or error location such as "channels.0.secret") -> the file's column or field.
ColumnOf = Callable[[str], str]


def _csv_rows(text: str, problems: list[Problem]) -> list[tuple[int, dict[str, Any], ColumnOf]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [c.strip().lower() for c in next(reader, [])]
    except csv.Error as exc:
        problems.append(Problem(1, "", f"not CSV: {exc}"))
        return []
    if not _header_ok(header, problems):
        return []
    channels = [(kind, url, secret) for kind, url, secret in CHANNEL_COLUMNS if url in header]
    out = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                problems.append(
                    Problem(
                        line,
                        "",
                        f"{len(cells)} cells for {len(header)} "
                        "columns (a comma inside a value needs quotes)",
                    )
                )
                continue
            out.append(
                _csv_row(line, dict(zip(header, cells, strict=True)), channels, header, problems)
            )
    except csv.Error as exc:
        problems.append(Problem(reader.line_num, "", f"not CSV: {exc}"))
    return out


def _header_ok(header: list[str], problems: list[Problem]) -> bool:
    known = ", ".join(CSV_COLUMNS)
    for column in REQUIRED_COLUMNS:
        if column not in header:
            problems.append(
                Problem(1, column, f"missing column; required: {', '.join(REQUIRED_COLUMNS)}")
            )
    for i, column in enumerate(header):
        if column not in CSV_COLUMNS:
            problems.append(
                Problem(
                    1,
                    column or f"#{i + 1}",
                    f"unknown column (rename or remove it); known: {known}",
                )
            )
        elif header.index(column) != i:
            problems.append(Problem(1, column, "column given twice"))
    if "webhook_secret" in header and "webhook_url" not in header:
        problems.append(Problem(1, "webhook_secret", "needs a webhook_url column"))
    return not problems


def _csv_row(
    line: int,
    cells: dict[str, str],
    channels: list[tuple[str, str, str | None]],
    header: list[str],
    problems: list[Problem],
) -> tuple[int, dict[str, Any], ColumnOf]:
    values = {k: v.strip() for k, v in cells.items()}
    data: dict[str, Any] = {
        _FIELD_OF.get(c, c): values[c] or None
        for c in header
        if c in ("id", "kind", "lat", "lon", "name", "mode", "region", "supervisor", "language")
    }
    data["name"] = data.get("name") or values["id"]
    if data.get("mode") is None:
        data.pop("mode", None)
    chosen: list[tuple[str, str | None]] = []
    if channels:
        data["channels"] = []
        for kind, url_column, secret_column in channels:
            secret = values.get(secret_column) if secret_column else None
            if values[url_column]:
                data["channels"].append(
                    {"kind": kind, "url": values[url_column], "secret": secret or None}
                )
                chosen.append((url_column, secret_column))
    if values.get("webhook_secret") and not values.get("webhook_url"):
        problems.append(Problem(line, "webhook_secret", "a secret needs a webhook_url"))

    def column_of(field: str) -> str:
        parts = field.split(".")
        if parts[0] == "channels" and len(parts) > 1 and parts[1].isdigit():
            url_column, secret_column = chosen[int(parts[1])]
            if secret_column and (parts[-1] == "secret" or "secret" in field):
                return secret_column
            return url_column
        return _COLUMN_OF.get(parts[0], parts[0])

    return line, data, column_of


def _jsonl_rows(text: str, problems: list[Problem]) -> list[tuple[int, dict[str, Any], ColumnOf]]:
    out: list[tuple[int, dict[str, Any], ColumnOf]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = load_json(raw)
        except ValueError as exc:
            why = (
                f"{exc.msg} at character {exc.colno}"
                if isinstance(exc, json.JSONDecodeError)
                else str(exc)
            )
            problems.append(Problem(line, "", f"not JSON: {why}", "field"))
            continue
        if not isinstance(data, dict):
            problems.append(
                Problem(line, "", "not a JSON object (one post object a line)", "field")
            )
            continue
        out.append((line, data, str))
    return out


def _validated(
    line: int,
    data: dict[str, Any],
    column_of: ColumnOf,
    network: Network,
    problems: list[Problem],
    word: str,
) -> Row | None:
    """The row as a PostIn placed on ``network``, or None after adding its problems."""
    before = len(problems)
    if data.get("network") not in (None, network.name):
        problems.append(
            Problem(
                line,
                "network",
                f"{data['network']!r} differs from the network imported into ({network.name!r})",
                word,
            )
        )
    given = frozenset(k for k in data if k in PostIn.model_fields)
    try:
        post = PostIn.model_validate({**data, "network": network.name, "node": None})
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(x) for x in error.get("loc", ())) or "id"
            if error.get("type") == "webhook_secret":
                field += ".secret"  # the channel's check of its secret
            problems.append(Problem(line, column_of(field), error.get("msg", "invalid"), word))
        return None
    if len(problems) > before:
        return None
    mode = post.mode if "mode" in given else None
    if mode is not None and not network.node_has_mode(mode).any():
        problems.append(
            Problem(
                line, column_of("mode"), f"network {network.name!r} has no {mode.value} arcs", word
            )
        )
        return None
    from bolo.network.posts import place_post  # loads the travel kernels: only when importing

    try:
        placed = place_post(
            network,
            post_id=post.id,
            kind=post.kind,
            lat=post.lat,
            lon=post.lon,
            mode=mode,
            name=post.name,
        )
    except ValueError as exc:
        problems.append(Problem(line, f"{column_of('lat')}/{column_of('lon')}", str(exc), word))
        return None
    post = post.model_copy(update={"mode": placed.mode, "node": placed.node})
    columns = tuple(column_of(f"channels.{i}.url") for i in range(len(post.channels)))
    return Row(line, post, given | {"mode", "network", "node"}, columns)


def _csv_channels(post: Post) -> tuple[dict[str, str], bool]:
    """The channel cells of ``post`` and whether they hold every channel as stored (CSV keeps
    one channel of each kind, in the order webhook, apprise, mqtt, and only a webhook's secret)."""
    cells = {url: "" for _, url, _ in CHANNEL_COLUMNS} | {"webhook_secret": ""}
    order = [kind for kind, _, _ in CHANNEL_COLUMNS]
    kinds = [str(c.get("kind")) for c in post.channels]
    fits = (
        len(set(kinds)) == len(kinds)
        and all(k in order for k in kinds)
        and kinds == sorted(kinds, key=order.index)
    )
    for channel in post.channels:
        kind = str(channel.get("kind"))
        if kind not in order or cells[f"{kind}_url"]:
            continue
        cells[f"{kind}_url"] = str(channel.get("url", ""))
        if kind == "webhook":
            cells["webhook_secret"] = str(channel.get("secret") or "")
        elif channel.get("secret"):
            fits = False
    return cells, fits


def write_csv(posts: Sequence[Post]) -> tuple[str, list[str]]:
    """``posts`` as CSV with every column ``read_posts`` reads (webhook secrets included, so
    that importing the file gives the same posts), and the ids of the posts whose channels the
    CSV cannot hold whole (export them as JSON lines instead)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    lossy = []
    for post in posts:
        cells, fits = _csv_channels(post)
        if not fits:
            lossy.append(post.id)
        writer.writerow(
            {
                "id": post.id,
                "kind": post.kind,
                "lat": repr(post.lat),
                "lon": repr(post.lon),
                "name": post.name,
                "mode": post.mode,
                "region": post.region or "",
                "supervisor": post.supervisor_id or "",
                "language": post.language or "",
                **cells,
            }
        )
    return out.getvalue(), lossy


def write_jsonl(posts: Sequence[Post]) -> str:
    """``posts`` as JSON lines, one ``bolo post add`` object each (channels whole, secrets
    included); ``read_posts`` reads it back."""
    lines = []
    for post in posts:
        data = PostOut.model_validate(post).model_dump(
            include={
                "id",
                "kind",
                "name",
                "lat",
                "lon",
                "mode",
                "network",
                "region",
                "supervisor_id",
                "language",
            },
            exclude_none=True,
        )
        data["channels"] = list(post.channels)
        lines.append(json.dumps(data, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)
