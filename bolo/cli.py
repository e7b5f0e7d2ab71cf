"""The `bolo` command: assembles every domain's sub-commands."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from bolo import __version__
from bolo.alerts.cli import app as alert_app
from bolo.audit.cli import app as audit_app
from bolo.auth.cli import app as user_app
from bolo.cases.cli import app as case_app
from bolo.cli_support import JSON_OUT, console, emit, handle_errors
from bolo.posts.cli import app as post_app
from bolo.settings import get_settings

app = typer.Typer(
    help="bolo: be on the lookout. Child-abduction emergency alerting.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database.", no_args_is_help=True)
replay_app = typer.Typer(help="Replay a reference incident.", no_args_is_help=True)

app.add_typer(db_app, name="db")
app.add_typer(case_app, name="case")
app.add_typer(alert_app, name="alert")
app.add_typer(post_app, name="post")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(replay_app, name="replay")

OUT = Annotated[Path, typer.Option(help="Where to write every CAP message.")]


def _print_version(value: bool) -> None:
    if value:
        console.print(f"bolo {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print bolo's version and exit.",
        ),
    ] = False,
) -> None:
    """bolo: be on the lookout. Child-abduction emergency alerting."""


@db_app.command("upgrade")
@handle_errors
def db_upgrade(as_json: JSON_OUT = False) -> None:
    """Apply every migration to the configured database."""
    from bolo.store.db import current_revisions, upgrade_database

    before = sorted(current_revisions())
    upgrade_database()
    after = sorted(current_revisions())
    at = ", ".join(after)
    message = f"already at {at}" if after == before else f"migrated to {at}"
    emit(as_json, {"revisions": after, "migrated": after != before}, message)


@db_app.command("backup")
@handle_errors
def db_backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup.")],
    as_json: JSON_OUT = False,
) -> None:
    """Back the database up to FILE while bolo runs (SQLite: online backup; PostgreSQL:
    pg_dump of the current schema)."""
    from dataclasses import asdict

    from bolo.ops.backup import backup
    from bolo.store.db import default_engine

    done = backup(default_engine(), file)
    emit(
        as_json,
        asdict(done),
        f"backed up {sum(done.rows.values())} rows of {len(done.rows)} tables to {file}",
    )


@db_app.command("restore")
@handle_errors
def db_restore(
    file: Annotated[Path, typer.Argument(help="A file made by `bolo db backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: every row of the database is replaced.")
    ] = False,
    as_json: JSON_OUT = False,
) -> None:
    """Replace the database with a backup, then migrate it. Stop `bolo serve` and the
    dispatchers first; check the result with `bolo audit verify`."""
    from dataclasses import asdict

    from bolo.errors import InvalidInput
    from bolo.ops.backup import restore
    from bolo.store.db import default_engine

    if not yes:
        raise InvalidInput(
            "restoring replaces every row of the configured database: add --yes to confirm"
        )
    done = restore(default_engine(), file)
    emit(
        as_json,
        asdict(done),
        f"restored {sum(done.rows.values())} rows of {len(done.rows)} tables from {file}",
    )


@app.command()
@handle_errors
def serve(
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8000,
    host: Annotated[
        str,
        typer.Option(
            help="The address to listen on: 127.0.0.1 is this machine only; 0.0.0.0 every "
            "interface (behind a TLS proxy; set BOLO_PUBLIC_BASE_URL to the address posts use)."
        ),
    ] = "127.0.0.1",
    dispatcher: Annotated[
        bool,
        typer.Option(
            "--dispatcher/--no-dispatcher",
            help="Send alerts from this process (default): the in-process dispatcher, or with "
            "BOLO_BROKER_URL the NATS relay and one worker. --no-dispatcher when `bolo "
            "dispatcher` workers (and `bolo relay`) run as processes of their own.",
        ),
    ] = True,
) -> None:
    """Migrate the database and serve the API and pages; send alerts unless --no-dispatcher."""
    import uvicorn

    from bolo.api import create_app
    from bolo.ops.logs import setup_logging
    from bolo.store.db import upgrade_database

    setup_logging()
    upgrade_database()
    _log_how_alerts_are_sent(dispatcher)
    # Compile the search picture's kernels and load the network while the operator opens the
    # console, not on the first case's map.
    from bolo.web.pictures import warm_up_in_background

    warm_up_in_background()
    # bolo's own access log (bolo.ops.requests) replaces uvicorn's, which printed query
    # strings (ack tokens); log_config=None keeps the logging set up above.
    uvicorn.run(
        create_app(dispatcher=dispatcher), host=host, port=port, log_config=None, access_log=False
    )


def _log_how_alerts_are_sent(dispatcher: bool) -> None:
    """Log whether this server sends alerts, and with what (in-process dispatcher, or the NATS
    relay and a worker when a broker is configured), so the operator sees it at start-up."""
    import structlog

    log = structlog.get_logger("bolo.serve")
    if dispatcher:
        how = (
            "the NATS relay and a worker"
            if get_settings().broker_url
            else "the in-process dispatcher"
        )
        log.info(f"sending alerts with {how}")
    else:
        log.info(
            "not sending alerts: run `bolo dispatcher` (and with a broker `bolo relay`) "
            "beside this server"
        )


@replay_app.command("seed-incident")
@handle_errors
def replay_seed(out: OUT = Path("demo-out")) -> None:
    """Replay the Songch'on -> Kilju incident through the service layer."""
    from bolo.scenarios.seed_run import run_replay

    run_replay(out=out)


@app.command()
@handle_errors
def demo(
    out: OUT = Path("demo-out"),
    serve_after: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve",
            help="Then serve the replayed incident (--no-serve: replay, write, check and stop).",
        ),
    ] = True,
    port: Annotated[int, typer.Option(help="The port to serve on.")] = 8000,
) -> None:
    """Replay the reference incident on a fresh embedded database, then serve it."""
    from bolo.scenarios.seed_run import demo_logins, run_replay

    run_replay(out=out, fresh=True)
    if serve_after:
        console.print(
            f"Console: http://127.0.0.1:{port}/console   Post page: /post   "
            f"Public: /alerts   API docs: /docs"
        )
        for username, password in demo_logins().items():
            console.print(f"  sign in as [bold]{username}[/bold] / {password}", highlight=False)
        serve(port=port)


Command = TyperCommand | TyperGroup | Any  # typer vendors click; its base class is private


def _import_store() -> object:
    """The database store `bolo cap import` writes to (migrated first)."""
    from bolo.alerts.external import DatabaseImportStore
    from bolo.store.db import upgrade_database

    upgrade_database()
    return DatabaseImportStore()


def one_line_helps(command: Command) -> Command:
    """``command`` and its sub-commands with their listed help on one line: the first paragraph
    with the docstring's line breaks joined (typer's listing kept them: "... within" / "2 km")."""
    if command.short_help is None and command.help:
        first = inspect.cleandoc(command.help).split("\n\n")[0]
        command.short_help = " ".join(first.split())
    for sub in getattr(command, "commands", {}).values():
        one_line_helps(sub)
    return command


def _sub_app(module: str) -> Command:
    """The command group of ``module.app`` (a domain's Typer sub-app)."""
    group = one_line_helps(typer.main.get_group(importlib.import_module(module).app))
    if module == "bolo.cap.cli":
        from bolo.cap.cli import register_import_store
        from bolo.security import fetchguard

        register_import_store(_import_store)  # type: ignore[arg-type]
        fetchguard.install()
    return group


def _command_of(module: str, name: str) -> Command:
    """The command ``name`` of ``module.app``, mounted at the top level."""
    return typer.main.get_group(importlib.import_module(module).app).commands[name]


# The heavy domains (numpy, numba, scipy, the HTTP clients) load only when their command runs,
# so `bolo --help` and the database commands start in a fraction of the time. The short helps
# are repeated here for the listing; a test checks that they match the real ones.
LAZY_COMMANDS: dict[str, tuple[str, Callable[[], Command]]] = {
    "cap": (
        "CAP 1.2: validate, convert, sign, verify, import.",
        functools.partial(_sub_app, "bolo.cap.cli"),
    ),
    "network": (
        "Transport networks: import, inspect, isochrones.",
        functools.partial(_sub_app, "bolo.network.cli"),
    ),
    "search": (
        "The search picture: where the suspects can be, which posts to alert.",
        functools.partial(_sub_app, "bolo.search.cli"),
    ),
    "report": (
        "Reports: public tips, post sightings and search reports; triage.",
        functools.partial(_sub_app, "bolo.reports.cli"),
    ),
    "security": (
        "Retention purge and outgoing-URL checks.",
        functools.partial(_sub_app, "bolo.security.cli"),
    ),
    "simulate": (
        "Simulate abductions and compare radius, reachability and particle at the same budget.",
        functools.partial(_command_of, "bolo.search.cli", "simulate"),
    ),
    "dispatcher": (
        "Run one dispatcher worker process (run as many as needed, on as many machines).",
        functools.partial(_command_of, "bolo.dispatch.cli", "dispatcher"),
    ),
    "relay": (
        "Publish due outbox rows to NATS JetStream and run due escalations.",
        functools.partial(_command_of, "bolo.dispatch.cli", "relay"),
    ),
    "post-receiver": (
        "Receive bolo webhooks: verify signatures, refuse timestamps outside +-5 minutes, ...",
        functools.partial(_command_of, "bolo.dispatch.cli", "post-receiver"),
    ),
}


class _LazyCommand(TyperCommand):
    """A listed command whose module is imported only when it is invoked."""

    def __init__(self, name: str, short_help: str, load: Callable[[], Command]) -> None:
        super().__init__(name=name, short_help=short_help, help=short_help)
        self._load = load

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        """Hand over to the real command (its context then names it, not this stand-in)."""
        return self._load().make_context(info_name, args, parent=parent, **extra)


class _BoloGroup(TyperGroup):
    """The top-level group: eager domain commands first, then the lazy ones."""

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command name, the lazy ones included."""
        return [*super().list_commands(ctx), *LAZY_COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The eager command, or a stand-in that loads the lazy one when invoked."""
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in LAZY_COMMANDS:
            short_help, load = LAZY_COMMANDS[cmd_name]
            return _LazyCommand(cmd_name, short_help, load)
        return None if found is None else one_line_helps(found)


app.info.cls = _BoloGroup


def main() -> None:
    """Entry point of the `bolo` script."""
    app()
