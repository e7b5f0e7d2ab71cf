"""Prometheus metrics. Each process counts what it does itself (requests and their latency
by route, tips accepted / refused / rate-limited, send attempts by channel and outcome);
``DatabaseCollector`` reads the deployment-wide figures from the database when scraped
(deliveries by status and channel, outbox depth, escalations, time to first delivery and to
acknowledgement, triage backlog, live dispatchers, a live triage worker), so they are the
same whichever process is asked. Durations in seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from prometheus_client import Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bolo import clock

HTTP_REQUESTS = Counter(
    "bolo_http_requests",
    "HTTP requests answered, by route and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "bolo_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TIPS = Counter(
    "bolo_tips", "Public tips: accepted, refused (bad input) or rate_limited (429).", ["result"]
)
SEND_ATTEMPTS = Counter(
    "bolo_delivery_attempts",
    "Send attempts made by this process, by channel and outcome.",
    ["channel", "outcome"],
)
SEND_LATENCY = Histogram(
    "bolo_delivery_send_seconds",
    "Time one send attempt took.",
    ["channel"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# Deliveries and acknowledgements of versions issued in this window feed the time histograms.
WINDOW = timedelta(hours=24)
DELAY_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
CACHE_S = 5.0  # scrapes closer together than this get the same figures


def tip_result(status: int) -> str:
    """How a tip request ended, from its HTTP status."""
    if status == 429:
        return "rate_limited"
    return "accepted" if status < 400 else "refused"


def histogram(
    name: str, doc: str, delays: Iterable[float], buckets: Sequence[float] = DELAY_BUCKETS
) -> HistogramMetricFamily:
    """A Prometheus histogram of ``delays`` (seconds) with cumulative ``buckets``."""
    values = sorted(delays)
    counts, at = [], 0
    for bound in buckets:
        while at < len(values) and values[at] <= bound:
            at += 1
        counts.append((str(bound), float(at)))
    counts.append(("+Inf", float(len(values))))
    family = HistogramMetricFamily(name, doc)
    family.add_metric([], counts, sum_value=sum(values))
    return family


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


class DatabaseCollector(Collector):
    """Deployment-wide figures read from the database at scrape time (cached CACHE_S)."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine  # None: the process's default engine at each scrape
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] = (-CACHE_S, [])

    def describe(self) -> Iterator[Metric]:
        """Nothing up front: registering must not read the database (or cache a stale read)."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        """The figures; none when the database cannot be read (readiness says why)."""
        with self._lock:
            at, metrics = self._cached
            if time.monotonic() - at >= CACHE_S:
                metrics = self._read()
                self._cached = (time.monotonic(), metrics)
        yield from metrics

    def _read(self) -> list[Metric]:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            from bolo.store.db import default_engine

            with Session(self.engine or default_engine()) as session:
                return [*self._deliveries(session), *self._delays(session), *self._others(session)]
        except SQLAlchemyError:
            return []

    def _deliveries(self, session: Session) -> list[Metric]:
        from bolo.dispatch.attempts import due_clause
        from bolo.dispatch.model import Delivery

        by_status = GaugeMetricFamily(
            "bolo_deliveries", "Deliveries by status and channel.", labels=["status", "channel"]
        )
        for status, channel, count in session.execute(
            select(Delivery.status, Delivery.channel_kind, func.count()).group_by(
                Delivery.status, Delivery.channel_kind
            )
        ):
            by_status.add_metric([status, channel], count)
        depth = session.execute(
            select(func.count()).select_from(Delivery).where(*due_clause(clock.now()))
        ).scalar_one()
        outbox = GaugeMetricFamily(
            "bolo_outbox_depth", "Deliveries due to be sent now.", value=depth
        )
        return [by_status, outbox]

    def _delays(self, session: Session) -> list[Metric]:
        from bolo.alerts.model import AlertVersion
        from bolo.dispatch.model import Acknowledgement, Delivery

        since = clock.now() - WINDOW
        first: dict[tuple[str, str], float] = {}
        for version, post, issued, done in session.execute(
            select(
                Delivery.version_id,
                Delivery.post_id,
                AlertVersion.issued_at,
                func.min(func.coalesce(Delivery.delivered_at, Delivery.sent_at)),
            )
            .join(AlertVersion, AlertVersion.id == Delivery.version_id)
            .where(AlertVersion.issued_at >= since)
            .group_by(Delivery.version_id, Delivery.post_id, AlertVersion.issued_at)
        ):
            delay = _seconds(_aware(done), issued)
            if delay is not None:
                first[(version, post)] = delay
        acks = [
            d
            for at, issued in session.execute(
                select(Acknowledgement.at, AlertVersion.issued_at)
                .join(AlertVersion, AlertVersion.id == Acknowledgement.version_id)
                .where(AlertVersion.issued_at >= since)
            )
            if (d := _seconds(at, issued)) is not None
        ]
        return [
            histogram(
                "bolo_time_to_first_delivery_seconds",
                "From a version's issue to its "
                "first delivery to each post (versions of the last 24 h).",
                first.values(),
            ),
            histogram(
                "bolo_time_to_ack_seconds",
                "From a version's issue to each post's "
                "acknowledgement (versions of the last 24 h).",
                acks,
            ),
        ]

    def _others(self, session: Session) -> list[Metric]:
        from bolo.dispatch.model import Escalation
        from bolo.dispatch.runner.liveness import alive_roles
        from bolo.reports.model import Report

        states = GaugeMetricFamily(
            "bolo_escalations", "Escalation clocks by state.", labels=["state"]
        )
        for state, count in session.execute(
            select(Escalation.state, func.count()).group_by(Escalation.state)
        ):
            states.add_metric([state], count)
        steps = session.execute(select(func.coalesce(func.sum(Escalation.step), 0))).scalar_one()
        fired = CounterMetricFamily(
            "bolo_escalation_steps",
            "Escalation steps taken (a standby channel or a supervisor alerted).",
            value=steps,
        )
        backlog = session.execute(
            select(func.count()).select_from(Report).where(Report.state == "new")
        ).scalar_one()
        alive = GaugeMetricFamily(
            "bolo_dispatchers_alive",
            "Sending processes with a fresh heartbeat, by role.",
            labels=["role"],
        )
        for role, count in alive_roles(session).items():
            alive.add_metric([role], count)
        return [
            states,
            fired,
            alive,
            GaugeMetricFamily("bolo_triage_backlog", "Reports not yet triaged.", value=backlog),
            _triage_alive(session),
        ]


def _triage_alive(session: Session) -> Metric:
    from bolo.ops.readiness import triage_lease

    lease = triage_lease(session)
    fresh = lease is not None and lease[1] >= clock.now()
    return GaugeMetricFamily(
        "bolo_triage_worker_alive",
        "1 while a triage worker holds the clustering lease (renewed in time), else 0.",
        value=1 if fresh else 0,
    )


def _aware(value: object) -> datetime | None:
    """A UTC datetime from an aggregate (SQLite gives text, PostgreSQL an aware datetime)."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_registered: list[DatabaseCollector] = []


def register_database_collector(engine: Engine | None = None) -> None:
    """Export the database-wide figures from this process (once; later calls do nothing)."""
    from prometheus_client import REGISTRY

    if not _registered:
        _registered.append(DatabaseCollector(engine))
        REGISTRY.register(_registered[0])


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Serve /metrics of this process on ``host:port`` from a background thread (0: none)."""
    from prometheus_client import start_http_server

    if port:
        start_http_server(port, addr=host)
