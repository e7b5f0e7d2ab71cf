"""``bolo dispatcher``, ``bolo relay`` and ``bolo post-receiver``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from bolo.dispatch.config import DispatchSettings, dispatch_settings
from bolo.dispatch.receiver.server import ReceiverApp, derived_secret, run_forever
from bolo.dispatch.receiver.verify import Deduper
from bolo.dispatch.runner.liveness import Runner
from bolo.dispatch.signing import Key, key_from_string
from bolo.ops.logs import setup_logging
from bolo.ops.metrics import register_database_collector, serve_metrics
from bolo.settings import get_settings

SWITCH_INTERVAL_S = 0.0005
METRICS_PORT = Annotated[
    int,
    typer.Option(
        min=0,
        max=65535,
        envvar="BOLO_METRICS_PORT",
        help="Serve Prometheus /metrics of this process on this port (0: none).",
    ),
]
METRICS_HOST = Annotated[str, typer.Option(help="Address the metrics port listens on.")]

app = typer.Typer(
    help="Dissemination: dispatcher workers, the NATS relay, the post's receiver.",
    no_args_is_help=True,
)


class Backend(StrEnum):
    """Where dispatcher workers get their work."""

    INPROCESS = "inprocess"
    NATS = "nats"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _run(main: Runner) -> None:
    """Run until SIGINT/SIGTERM; an unreachable database or broker ends with a message."""
    import nats.errors
    from sqlalchemy.exc import SQLAlchemyError

    try:
        _run_loop(_until_signal(main))
    except (OSError, nats.errors.Error, SQLAlchemyError) as exc:
        _fail(f"{type(exc).__name__}: {exc}")


def _run_loop(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` on uvloop when it is installed (much less CPU per socket event), else on
    the default asyncio loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)


async def _until_signal(main: Runner) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def first_signal() -> None:
        # Stop gracefully on the first signal; a second one gets the default (terminate).
        stop.set()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, first_signal)
    await main.run(stop)


def _require_migrated(engine: Engine) -> None:
    """Exit with what to do when the database is unreachable or not at this code's
    migrations (workers never migrate: `bolo serve` or `bolo db upgrade` does)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bolo.store.db import current_revisions, head_revisions

    try:
        current = current_revisions(engine)
    except SQLAlchemyError as exc:
        _fail(f"cannot reach the database: {type(exc).__name__}: {exc}")
        return
    if current != head_revisions():
        _fail(
            f"the database is at migrations {sorted(current) or 'none'}, not this code's: "
            "run `bolo db upgrade` (or start `bolo serve`) first"
        )


def _settings(concurrency: int | None) -> DispatchSettings:
    base = dispatch_settings()
    return base.model_copy(update={"concurrency": concurrency}) if concurrency else base


@app.command("dispatcher")
def dispatcher(
    backend: Annotated[
        Backend | None,
        typer.Option(help="Default: nats when BOLO_BROKER_URL is set, else inprocess."),
    ] = None,
    database_url: Annotated[str, typer.Option(help="Default: BOLO_DATABASE_URL.")] = "",
    broker_url: Annotated[str, typer.Option(help="Default: BOLO_BROKER_URL.")] = "",
    concurrency: Annotated[int | None, typer.Option(min=1, help="Sends in flight.")] = None,
    name: Annotated[str, typer.Option(help="Worker name recorded on attempts.")] = "",
    stream_suffix: Annotated[
        str,
        typer.Option(help="NATS: use a separate stream (default: BOLO_DISPATCH_STREAM_SUFFIX)."),
    ] = "",
    metrics_port: METRICS_PORT = 0,
    metrics_host: METRICS_HOST = "127.0.0.1",
) -> None:
    """Run one dispatcher worker process (run as many as needed, on as many machines)."""
    from bolo.dispatch.runner import processes
    from bolo.store.db import engine_for

    setup_logging()
    # The event loop waits on sockets while the database thread computes; with the default
    # 5 ms GIL switch interval every socket wake-up can wait that long for the GIL.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    broker = broker_url or get_settings().broker_url
    chosen = backend or (Backend.NATS if broker else Backend.INPROCESS)
    if chosen is Backend.NATS and not broker:
        _fail("the nats backend needs --broker-url or BOLO_BROKER_URL")
    settings = _settings(concurrency)
    engine = engine_for(database_url or None)
    _require_migrated(engine)
    label = name or processes.process_name()
    try:
        suffix = stream_suffix or settings.stream_suffix
        worker = (
            processes.nats_worker(engine, settings, label, broker, suffix)
            if chosen is Backend.NATS
            else processes.dispatcher(engine, settings, label)
        )
    except ValueError as exc:
        _fail(str(exc))
    serve_metrics(metrics_port, metrics_host)
    _run(worker)


@app.command("relay")
def relay(
    database_url: Annotated[str, typer.Option(help="Default: BOLO_DATABASE_URL.")] = "",
    broker_url: Annotated[str, typer.Option(help="Default: BOLO_BROKER_URL.")] = "",
    stream_suffix: Annotated[
        str, typer.Option(help="Use a separate stream (default: BOLO_DISPATCH_STREAM_SUFFIX).")
    ] = "",
    metrics_port: METRICS_PORT = 0,
    metrics_host: METRICS_HOST = "127.0.0.1",
) -> None:
    """Publish due outbox rows to NATS JetStream and run due escalations."""
    from bolo.dispatch.runner import processes
    from bolo.store.db import engine_for

    setup_logging()
    broker = broker_url or get_settings().broker_url
    if not broker:
        _fail("the relay needs --broker-url or BOLO_BROKER_URL (nats://...)")
    engine = engine_for(database_url or None)
    _require_migrated(engine)
    # The relay exports the deployment-wide figures (outbox, deliveries, delays, escalations).
    register_database_collector(engine)
    serve_metrics(metrics_port, metrics_host)
    settings = dispatch_settings()
    _run(
        processes.relay(
            engine,
            settings,
            processes.process_name("relay"),
            broker,
            stream_suffix or settings.stream_suffix,
        )
    )


def _print_message(msg_id: str, body: bytes) -> None:
    sys.stdout.write(json.dumps({"webhook_id": msg_id, **json.loads(body)}) + "\n")
    sys.stdout.flush()


SECRET_ENV = "BOLO_RECEIVER_SECRET"


def receiver_secrets(given: list[str], secret_file: Path | None) -> list[str]:
    """The post-receiver's keys: ``--secret`` values, the lines of ``secret_file`` and the
    whitespace-separated keys in $BOLO_RECEIVER_SECRET, in that order (exit 2 when the file
    cannot be read)."""
    keys = list(given)
    if secret_file is not None:
        try:
            text = secret_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"cannot read --secret-file {secret_file}: {exc}")
        keys += [
            line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
        ]
    return keys + os.environ.get(SECRET_ENV, "").split()


def _keys_for_posts(given: list[str], derive_from: str) -> Callable[[str], list[Key]]:
    """The verification keys of each post id: the `given` keys for every post, or (benchmarks)
    each post's own key derived from the master `derive_from`, computed once per post. Exits 2
    with one line on stderr when no key is given or a key is unreadable."""
    if not given and not derive_from:
        _fail(f"give the post's key: --secret-file, {SECRET_ENV} or --secret (or --derive-from)")
    try:
        keys: list[Key] = [key_from_string(s) for s in given]
    except ValueError as exc:
        _fail(f"unreadable key: {exc}")
    cache: dict[str, list[Key]] = {}

    def keys_for(post_id: str) -> list[Key]:
        if not derive_from:
            return keys
        found = cache.get(post_id)
        if found is None:
            found = cache[post_id] = [key_from_string(derived_secret(derive_from, post_id))]
        return found

    return keys_for


@app.command("post-receiver")
def post_receiver(
    secret: Annotated[
        list[str] | None,
        typer.Option(
            help="The post's key: whsec_... (HMAC) or whpk_... (ed25519); twice while rotating."
            " Visible to other users of the machine (ps): prefer --secret-file or"
            f" {SECRET_ENV}."
        ),
    ] = None,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            help="A file holding the post's key, one per line (two while rotating; blank lines"
            " and # comments ignored)."
        ),
    ] = None,
    derive_from: Annotated[
        str,
        typer.Option(
            help="Benchmarks: derive each post's secret from this master and the last path part."
        ),
    ] = "",
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8900,
    record_arrivals: Annotated[bool, typer.Option(help="Keep arrival times (/_arrivals).")] = False,
    quiet: Annotated[bool, typer.Option(help="Do not print accepted alerts.")] = False,
) -> None:
    """Receive bolo webhooks: verify signatures, refuse timestamps outside +-5 minutes,
    de-duplicate by webhook-id, print each new alert as one JSON line."""
    receiver = ReceiverApp(
        keys_for=_keys_for_posts(receiver_secrets(secret or [], secret_file), derive_from),
        deduper=Deduper(),
        record_arrivals=record_arrivals,
        on_message=None if quiet else _print_message,
    )

    def ready(bound: int) -> None:
        typer.echo(f"listening on http://{host}:{bound}/", err=True)

    run_forever(receiver, host, port, ready)


def main() -> None:
    """Run this sub-app alone (benchmarks start workers this way)."""
    app()


if __name__ == "__main__":
    main()
