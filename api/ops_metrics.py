"""Prometheus ``/metrics`` for the operations team (issue 17).

Two kinds of numbers:

- **per process**, counted as requests pass (``HttpMetrics``): requests and their latency per
  route *template* (``/api/v1/cases/{number}``, never a case number: bounded labels). With
  several worker processes ``hotline serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
  folder, prometheus-client's multiprocess mode writes each process's counts there, and a
  scrape adds them up, whichever worker answers.
- **from the database at scrape time** (``DatabaseCollector``): cases received per channel, the
  triage and clustering backlogs and how old their oldest case is, texts per outbox status,
  each background job's last success, runs and failures (``api.job_health``), and the model
  version serving. The database is shared by every process and host, so any one answers alike.

Who may scrape: this machine (a loopback client with no proxy headers) or a caller with
``Authorization: Bearer $HOTLINE_METRICS_TOKEN``; anyone else gets 403 (see README).
"""

from __future__ import annotations

import hmac
import os
import shutil
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import job_health
from api.models import Case
from api.outbox import STATUSES
from api.problems import problem
from classifiers.paths import var_dir

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
PROXY_HEADERS = {b"x-forwarded-for", b"forwarded", b"x-real-ip"}

REQUEST_SECONDS = Histogram(
    "hotline_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return path
    if scope.get("path", "").startswith("/workbench/static/"):
        return "/workbench/static"
    return "unmatched"  # 404s: never the path itself (unbounded label values)


class HttpMetrics:
    """Pure ASGI middleware observing every HTTP request's duration (the histogram's _count is
    the request rate)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            REQUEST_SECONDS.labels(
                _route_template(scope), scope.get("method", ""), str(status["code"])
            ).observe(time.perf_counter() - started)


class DatabaseCollector:
    """Gauges read from the database when Prometheus scrapes."""

    def __init__(self, context) -> None:
        self.context = context

    def collect(self):
        ctx = self.context
        with ctx.read_sessions() as session:
            channels = session.execute(
                select(Case.channel, func.count()).group_by(Case.channel)
            ).all()
            waiting = job_health.backlogs(session)
            jobs = job_health.job_states(
                session,
                job_health.stale_limits(ctx.settings.job_stale_minutes),
                {"sms": ctx.settings.sms_live},
            )
        received = CounterMetricFamily(
            "hotline_cases_received", "Complaints received (intake), by channel", labels=["channel"]
        )
        for channel, n in channels:
            received.add_metric([channel], n)
        yield received
        for name, n, oldest, text in (
            ("triage", waiting.triage, waiting.triage_oldest, "waiting for the classifier"),
            (
                "clustering",
                waiting.clustering,
                waiting.clustering_oldest,
                "classified, waiting for event clustering",
            ),
        ):
            yield GaugeMetricFamily(f"hotline_{name}_backlog", f"Cases {text}", value=n)
            yield GaugeMetricFamily(
                f"hotline_{name}_lag_seconds",
                f"Age of the oldest case {text} (0: none)",
                value=waiting.lag_seconds(oldest),
            )
        yield GaugeMetricFamily(
            "hotline_voicemails_waiting",
            "Voicemails nobody has typed yet",
            value=waiting.voicemails,
        )
        sms = GaugeMetricFamily(
            "hotline_sms_messages", "Texts to residents in the outbox, by status", labels=["status"]
        )
        for status in STATUSES:
            sms.add_metric([status], waiting.sms.get(status, 0))
        yield sms
        last_ok = GaugeMetricFamily(
            "hotline_job_last_success_timestamp_seconds",
            "When each background job last succeeded (Unix time; absent: never)",
            labels=["job"],
        )
        runs = CounterMetricFamily("hotline_job_runs", "Passes of each job", labels=["job"])
        failures = CounterMetricFamily(
            "hotline_job_failures", "Failed passes of each job", labels=["job"]
        )
        healthy = GaugeMetricFamily(
            "hotline_job_healthy",
            "1 when the job succeeded recently and its last pass did not fail (or it is off)",
            labels=["job"],
        )
        for job in jobs:
            if job.last_ok is not None:
                last_ok.add_metric([job.name], job.last_ok.timestamp())
            runs.add_metric([job.name], job.runs)
            failures.add_metric([job.name], job.failures)
            healthy.add_metric([job.name], 1.0 if job.healthy else 0.0)
        yield from (last_ok, runs, failures, healthy)
        model = GaugeMetricFamily(
            "hotline_model_info", "The triage model version serving", labels=["version"]
        )
        model.add_metric([ctx.model.version or "fixed-file"], 1.0)
        yield model


def may_scrape(request: Request) -> bool:
    """This machine without a proxy in front, or the metrics token."""
    token = request.app.state.ctx.settings.metrics_token
    auth = request.headers.get("authorization", "")
    if token and auth.startswith("Bearer "):
        return hmac.compare_digest(auth[len("Bearer ") :].encode(), token.encode())
    client = request.client.host if request.client else ""
    proxied = any(name in PROXY_HEADERS for name, _ in request.scope.get("headers", []))
    return client in LOOPBACK and not proxied


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request):
    if not may_scrape(request):
        return problem(403, "指标接口只对本机或持有监控令牌的采集端开放")
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
    registry.register(DatabaseCollector(request.app.state.ctx))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def prepare_multiprocess_metrics() -> Path:
    """Before the workers start: a fresh folder for their counts (``PROMETHEUS_MULTIPROC_DIR``,
    default var/prometheus), emptied as prometheus-client asks, so a restart starts from 0."""
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or var_dir() / "prometheus")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


class _ProcessMetrics:
    """This process's own metrics (single-process mode: the default registry's)."""

    def collect(self):
        yield from REGISTRY.collect()
