"""`bolo post ...`: add, list, import and export the organisation's posts, load a network's."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bolo.cli_support import (
    JSON_OUT,
    emit,
    emit_rows,
    err_console,
    fail,
    handle_errors,
    print_json,
    read_model,
)
from bolo.posts import service
from bolo.posts.schemas import PostIn
from bolo.store.db import session_scope

app = typer.Typer(help="Posts: the units that receive alerts.", no_args_is_help=True)


@app.command("add")
@handle_errors
def add(
    file: Annotated[Path, typer.Argument(help="Post JSON ('-' for stdin).")],
    as_json: JSON_OUT = False,
) -> None:
    """Create or update a post from JSON."""
    data = read_model(file, PostIn)
    with session_scope() as db:
        post = service.upsert_post(db, data=data, actor=None)
        emit(
            as_json,
            {"id": post.id, "kind": post.kind, "name": post.name, "channels": len(post.channels)},
            f"post {data.id} saved",
        )


@app.command("load-network")
@handle_errors
def load_network(
    name: Annotated[str, typer.Argument(help="Network name, e.g. dprk.")], as_json: JSON_OUT = False
) -> None:
    """Store every post of an imported network (keeping channels already set)."""
    from bolo.network import load

    network = load(name)
    with session_scope() as db:
        count = service.import_network_posts(db, network=network, actor_id=None)
    emit(as_json, {"network": name, "posts": count}, f"{count} posts of network {name} stored")


class FileFormat(StrEnum):
    """How a posts file is written."""

    CSV = "csv"
    JSONL = "jsonl"


FORMAT = Annotated[
    FileFormat | None,
    typer.Option("--format", help="csv or jsonl (default: from the file name, else the content)."),
]


def _read_text(file: Path) -> str:
    try:
        raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"{file} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None


@app.command("import")
@handle_errors
def import_file(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (id, kind, lat, lon[, name, mode, region, "
            "supervisor, language, webhook_url, webhook_secret, "
            "apprise_url, mqtt_url]) or JSON lines; '-' for "
            "stdin."
        ),
    ],
    network: Annotated[str, typer.Option(help="Network to snap the posts to.")],
    file_format: FORMAT = None,
    as_json: JSON_OUT = False,
) -> None:
    """Import the organisation's posts, each snapped to the nearest node of its mode within
    2 km; all or nothing: every bad row is named (line, column, why) and nothing is stored."""
    from bolo.network import load
    from bolo.posts.files import PostImportError, detect_format, read_posts

    text = _read_text(file)
    fmt = (file_format or FileFormat(detect_format(str(file), text))).value
    net = load(network)
    try:
        rows, problems = read_posts(text, net, source=str(file), fmt=fmt)
        with session_scope() as db:
            counts = service.import_posts(
                db,
                rows=rows,
                network=network,
                source=str(file),
                problems=problems,
                actor=None,
                word="column" if fmt == "csv" else "field",
            )
    except PostImportError as exc:
        if as_json:
            print_json({"error": exc.message, "problems": [p.as_dict() for p in exc.problems]})
        sys.stderr.write("".join(f"{problem}\n" for problem in exc.problems))
        raise fail(f"{file}: {len(exc.problems)} problem(s); nothing imported") from None
    emit(
        as_json,
        {"file": str(file), "network": network, "format": fmt, **counts},
        f"{counts['posts']} posts imported into network {network} from {file} "
        f"({counts['created']} new, {counts['updated']} updated)",
    )


@app.command("export")
@handle_errors
def export_file(
    file: Annotated[
        Path | None, typer.Argument(help="File to write (default: standard output).")
    ] = None,
    network: Annotated[str | None, typer.Option(help="Only the posts of this network.")] = None,
    file_format: FORMAT = None,
    as_json: JSON_OUT = False,
) -> None:
    """Write the active posts as the CSV (or JSON lines) `bolo post import` reads: importing
    it gives the same posts. It holds the webhook secrets: the file is made readable by its
    owner only."""
    from bolo.posts.files import write_csv, write_jsonl

    suffix = file.suffix.lower() if file is not None else ""
    fmt = file_format or (
        FileFormat.JSONL if suffix in (".jsonl", ".ndjson", ".json") else FileFormat.CSV
    )
    with session_scope() as db:
        posts = service.list_posts(db, network=network)
        if fmt == FileFormat.CSV:
            text, lossy = write_csv(posts)
        else:
            text, lossy = write_jsonl(posts), []
    if lossy:
        err_console.print(
            f"warning: the CSV cannot hold every channel of {len(lossy)} post(s) "
            f"({', '.join(lossy[:10])}): export --format jsonl to keep them",
            highlight=False,
            markup=False,
        )
    if file is None:
        sys.stdout.write(text)
        return
    _write_private(file, text)
    emit(
        as_json,
        {"file": str(file), "format": fmt.value, "posts": len(posts), "incomplete": lossy},
        f"{len(posts)} posts written to {file}",
    )


def _write_private(file: Path, text: str) -> None:
    """Write ``text`` to ``file`` readable by its owner only, replacing it at once."""
    tmp = file.with_name(f".{file.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, file)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise fail(f"cannot write {file}: {exc.strerror}") from None


@app.command("list")
@handle_errors
def list_(as_json: JSON_OUT = False) -> None:
    """List posts."""
    with session_scope() as db:
        rows = [
            {
                "id": p.id,
                "kind": p.kind,
                "name": p.name,
                "lat": round(p.lat, 6),
                "lon": round(p.lon, 6),
                "region": p.region,
                "channels": len(p.channels),
            }
            for p in service.list_posts(db)
        ]
    emit_rows(as_json, rows, ("id", "kind", "name", "lat", "lon", "channels"))
