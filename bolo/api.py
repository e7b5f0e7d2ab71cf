"""FastAPI app assembly: every domain's routers, error handling, the expiry timer."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bolo import __version__
from bolo.errors import BoloError
from bolo.problems import problem_response, validation_response
from bolo.settings import get_settings
from bolo.store.db import session_scope
from bolo.web.errors import error_page, wants_page

if TYPE_CHECKING:
    from bolo.dispatch.runner.processes import Embedded

log = structlog.get_logger(__name__)
EXPIRY_PERIOD_S = 30.0
PURGE_PERIOD_S = 3600.0


def _expire_once() -> None:
    """Expire alerts past their time."""
    from bolo.alerts.takedown import expire_due

    with session_scope() as session:
        expired = expire_due(session)
    if expired:
        log.info("alerts.expired", count=len(expired))


def _purge_once() -> None:
    """Purge cases past their retention period (and dead sessions, old login attempts)."""
    from bolo.ops.retention import purge_due

    purge_due()


async def _expiry_loop() -> None:
    # Expiry must be prompt; retention is counted in days, so the purge runs hourly.
    ticks_per_purge = int(PURGE_PERIOD_S // EXPIRY_PERIOD_S)
    tick = 0
    while True:
        await asyncio.to_thread(_expire_once)
        if tick % ticks_per_purge == 0:
            await asyncio.to_thread(_purge_once)
        tick += 1
        await asyncio.sleep(EXPIRY_PERIOD_S)


def _freeze_startup_heap() -> None:
    """Once per process: move what exists at the first startup (modules, routes, schemas, some
    200k objects living as long as the process) out of the cyclic garbage collector's reach.
    A full collection then scans only what was made since; before, each paused the event loop
    for 0.1-0.3 s under a tip surge, which was the intake's p99 latency."""
    if not _heap_frozen:
        gc.collect()
        gc.freeze()
        _heap_frozen.append(True)


_heap_frozen: list[bool] = []


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from bolo.reports.worker import WorkerProcess

    _freeze_startup_heap()
    task = asyncio.create_task(_expiry_loop()) if app.state.timers else None
    sending = _embedded_dispatch() if app.state.dispatcher else None
    if sending is not None:
        sending.start()
    # Near-duplicate clustering of new reports, in a process of its own: never on the loop, and
    # never competing with the requests for this process's interpreter.
    triage = WorkerProcess() if app.state.timers else None
    app.state.triage = triage  # readiness reports it when it is dead
    if triage is not None:
        triage.start()
    try:
        yield
    finally:
        if triage is not None:
            await asyncio.to_thread(triage.stop)
        if sending is not None:
            await sending.stop()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _embedded_dispatch() -> Embedded:
    """The dispatcher this process runs: in-process, or the NATS relay and a worker."""
    from bolo.dispatch.runner.processes import Embedded
    from bolo.store.db import default_engine

    return Embedded(engine=default_engine(), broker_url=get_settings().broker_url)


# A browser asking for a page gets an HTML page saying what is wrong; the API gets an RFC 9457
# problem (bolo/problems.py).
async def _bolo_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BoloError)
    # A refusal that says when to come back (the sign-in throttle) says it in Retry-After too.
    wait = getattr(exc, "retry_after_s", None)
    headers = {"Retry-After": str(wait)} if isinstance(wait, int) else None
    if wants_page(request):
        return error_page(request, status=exc.status, message=exc.message, headers=headers)
    return problem_response(exc.status, exc.message, headers=headers)


async def _integrity_error(request: Request, exc: Exception) -> Response:
    message = "conflicts with existing data (duplicate or dangling id)"
    if wants_page(request):
        return error_page(request, status=409, message=message)
    return problem_response(409, message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code >= 400 and wants_page(request):
        return error_page(
            request, status=exc.status_code, message=str(exc.detail), headers=exc.headers
        )
    if exc.status_code >= 400:
        return problem_response(exc.status_code, str(exc.detail), headers=exc.headers)
    return await http_exception_handler(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if wants_page(request):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'][1:]) or 'form'}: {error['msg']}"
            for error in exc.errors()
        )
        return error_page(request, status=422, message=problems)
    return validation_response(exc.errors())


async def _model_error(request: Request, exc: Exception) -> Response:
    # A route or service validating input with a model it did not catch (a console form's
    # field longer than its model allows) is still the client's mistake: 422, never a 500.
    assert isinstance(exc, ValidationError)
    errors = exc.errors(include_url=False, include_context=False)
    return await _validation_error(
        request, RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])
    )


def create_app(*, timers: bool = True, dispatcher: bool = False) -> FastAPI:
    """The bolo web application. ``timers`` runs the expiry and purge loop and the triage
    worker (off in most tests); ``dispatcher`` sends the outbox from this process (``bolo
    serve``'s default: the in-process dispatcher, or with BOLO_BROKER_URL the NATS relay and one
    worker)."""
    from bolo.alerts.public_routes import router as public_alerts
    from bolo.alerts.routes import router as alerts
    from bolo.audit.routes import router as audit
    from bolo.auth.routes import router as users
    from bolo.cases.routes import media_router as case_media
    from bolo.cases.routes import router as cases
    from bolo.dispatch.routes import router as dispatch
    from bolo.ops.metrics import register_database_collector
    from bolo.ops.requests import RequestMiddleware
    from bolo.ops.routes import router as ops
    from bolo.posts.routes import router as posts
    from bolo.reports.public import public_router as public_tips
    from bolo.reports.routes import router as reports
    from bolo.web.routes import router as web

    app = FastAPI(
        title="bolo",
        version=__version__,
        lifespan=_lifespan,
        description="Be on the lookout: child-abduction emergency alerting.",
    )
    app.state.timers = timers
    app.state.dispatcher = dispatcher
    from bolo.auth.deps import strict_json_body
    from bolo.security.middleware import install as install_security

    install_security(app, hsts=get_settings().public_base_url.startswith("https://"))
    # Before any router is included: FastAPI copies the app's dependencies into each route.
    app.router.dependencies.append(Depends(strict_json_body))
    # Outermost: the request id and the timing cover the security middleware's answers too.
    app.add_middleware(RequestMiddleware)
    register_database_collector()
    app.add_exception_handler(BoloError, _bolo_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ValidationError, _model_error)
    # web last: its HTML page /alerts/{id} must not shadow /alerts/{id}.cap. Public tips first:
    # FastAPI matches included routers in order (a third of a tip's CPU when last under a
    # surge), and no other router has a path under /tips or /api/v1/public.
    routers = (
        public_tips,
        users,
        cases,
        alerts,
        posts,
        reports,
        dispatch,
        audit,
        public_alerts,
        case_media,
        ops,
        web,
    )
    for router in routers:
        app.include_router(router)

    @app.get("/healthz", tags=["public"])
    def healthz() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    return app
