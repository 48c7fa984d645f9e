"""Operations (issue 17): background job health (``api.job_health``) on SQLite and PostgreSQL,
``/metrics`` and its access rule, request ids in responses and in JSON log lines, and the
运行状态 panel and dashboard in Debian's Chromium as a supervisor, red when a job is stale.

Against a real ``hotline serve`` (ports 8530-8539) on SQLite; screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import json
import re
import secrets
import shutil
from datetime import timedelta

import httpx
import psycopg
import pytest
from sqlalchemy import update

from api import job_health
from api.clock import now
from api.db import make_engine, migrate, session_factory
from api.job_health import JobRun, job_states, record_run
from api.models import OutboundSms
from hotline.processes import PG_ADMIN_URL, Service, service_env
from tests import browser_support as bs

LIMITS = {"*": timedelta(minutes=10), "daily_review": timedelta(hours=26)}


# -- job_health on both databases ---------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    name = None
    if request.param == "postgresql":
        name = f"ops_jobs_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        url = f"{base}/{name}"
    else:
        url = f"sqlite:///{tmp_path / 'h.db'}"
    engine = make_engine(url)
    migrate(engine)
    job_health.forget_pending()
    yield session_factory(engine)
    job_health.forget_pending()
    engine.dispose()
    if name:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _state(sessions, name: str):
    with sessions() as session:
        return {j.name: j for j in job_states(session, LIMITS, {"sms": False})}[name]


def test_runs_and_failures_are_recorded(sessions):
    assert _state(sessions, "triage").stale  # never run: red
    record_run(sessions, "triage", True)
    triage = _state(sessions, "triage")
    assert (triage.runs, triage.failures, triage.healthy) == (1, 0, True)
    assert triage.host and triage.last_ok is not None
    # unchanged outcome within RECORD_EVERY: counted in memory, not written
    record_run(sessions, "triage", True)
    record_run(sessions, "triage", True)
    assert _state(sessions, "triage").runs == 1
    # a failure is written at once, with the runs counted meanwhile
    record_run(sessions, "triage", False, "OperationalError: database is locked")
    triage = _state(sessions, "triage")
    assert (triage.runs, triage.failures) == (4, 1)
    assert triage.failing and not triage.healthy
    assert triage.last_error == "OperationalError: database is locked"
    record_run(sessions, "triage", True)  # recovery is written at once too
    triage = _state(sessions, "triage")
    assert triage.healthy and triage.runs == 5
    assert not _state(sessions, "sms").stale  # not enabled: never red


def test_a_job_not_run_for_longer_than_its_limit_is_stale(sessions):
    record_run(sessions, "clustering", True, every=0)
    record_run(sessions, "daily_review", True, every=0)
    with sessions() as session, session.begin():
        session.execute(
            update(JobRun)
            .where(JobRun.name == "clustering")
            .values(last_ok=now() - timedelta(minutes=11))
        )
        session.execute(
            update(JobRun)
            .where(JobRun.name == "daily_review")
            .values(last_ok=now() - timedelta(hours=25))
        )
    assert _state(sessions, "clustering").stale
    assert not _state(sessions, "clustering").healthy
    assert not _state(sessions, "daily_review").stale  # a daily job has 26 hours


# -- the service over HTTP -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def service(model_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("ops-svc")
    env = service_env(home, model_path, None)
    env["HOTLINE_METRICS_TOKEN"] = "scrape-token-1"
    bs.demo_accounts(f"sqlite:///{home / 'hotline.db'}")
    svc = Service(home, env, port=8531).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def db(service):
    engine = make_engine(f"sqlite:///{service.home / 'hotline.db'}")
    yield session_factory(engine)
    engine.dispose()


def test_metrics_endpoint(service):
    bs.file_case(service.url, "村主任把低保名额给了自己的亲戚", "13600000201")
    service.client().get("/api/v1/cases/12345678")  # 401: a route with a path parameter
    r = httpx.get(service.url + "/metrics", timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    body = r.text
    assert re.search(r'hotline_cases_received_total\{channel="web"\} [1-9]', body)
    assert re.search(r"^hotline_triage_backlog \d", body, re.M)
    assert re.search(r"^hotline_clustering_lag_seconds \d", body, re.M)
    assert 'hotline_sms_messages{status="failed"}' in body
    assert re.search(r'^hotline_job_healthy\{job="daily_review"\} [01]\.0$', body, re.M)
    serving = httpx.get(service.url + "/healthz", timeout=30).json()["model_version"]
    assert f'hotline_model_info{{version="{serving or "fixed-file"}"}} 1.0' in body
    # per route template, never the number itself
    assert re.search(
        r'hotline_http_request_duration_seconds_count\{method="POST",route="/api/v1/complaints",'
        r'status="201"\} [1-9]',
        body,
    )
    assert 'route="/api/v1/cases/{number}"' in body
    assert "12345678" not in body


def test_metrics_only_for_this_machine_or_the_token(service):
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    r = httpx.get(service.url + "/metrics", headers=proxied, timeout=30)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "监控令牌" in r.json()["detail"]
    wrong = {**proxied, "Authorization": "Bearer nope"}
    assert httpx.get(service.url + "/metrics", headers=wrong, timeout=30).status_code == 403
    right = {**proxied, "Authorization": "Bearer scrape-token-1"}
    assert httpx.get(service.url + "/metrics", headers=right, timeout=30).status_code == 200


def test_request_id_echoed_and_in_every_log_line(service):
    r = httpx.get(service.url + "/healthz", timeout=30)
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    assert (
        httpx.get(service.url + "/healthz", timeout=30).headers["x-request-id"]
        != (r.headers["x-request-id"])
    )
    bad = httpx.get(service.url + "/healthz", headers={"X-Request-ID": "a\tb"}, timeout=30)
    assert re.fullmatch(r"[0-9a-f]{32}", bad.headers["x-request-id"])  # not taken as given
    # an unsigned delivery report is refused with a log line: it carries the request id
    r = httpx.post(
        service.url + "/webhooks/twilio/sms-status",
        data={"MessageSid": "SM1", "MessageStatus": "delivered"},
        headers={"X-Request-ID": "ops-test-7f3a"},
        timeout=30,
    )
    assert r.status_code == 403
    assert r.headers["x-request-id"] == "ops-test-7f3a"
    log = (service.home / f"serve-{service.port}.log").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines, "no JSON log lines"
    mine = [line for line in lines if line.get("request_id") == "ops-test-7f3a"]
    assert mine and "signature" in mine[0]["message"]
    assert {"time", "level", "logger", "message"} <= set(mine[0])


# -- the 运行状态 panel and the dashboard in the browser ----------------------------------------
pytestmark_browser = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="needs Debian's chromium"
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = bs.launch(playwright)
    yield chromium
    chromium.close()
    playwright.stop()


def _page(browser, service, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    bs.login(page, service.url, username)
    return context, page, errors


@pytestmark_browser
def test_ops_panel_turns_red_for_a_stale_job_and_green_after_it_runs(browser, service, db):
    job_health.forget_pending()
    for name in ("triage", "clustering"):
        record_run(db, name, True, every=0)
    record_run(db, "daily_review", True, every=0)
    with db() as session, session.begin():
        session.execute(
            update(JobRun)
            .where(JobRun.name == "daily_review")
            .values(last_ok=now() - timedelta(hours=30))
        )
        session.add(
            OutboundSms(
                kind="receipt",
                to_phone="+8613600000299",
                body="您反映的问题已受理",
                status="failed",
                attempts=1,
                error="Twilio 拒绝：号码无效",
                error_code="21211",
                created_at=now(),
            )
        )
    context, page, errors = _page(browser, service, "sup")
    try:
        page.click("nav.main a[data-nav=ops]")
        page.wait_for_url("**/workbench/ops")
        section = page.locator("section.ops")
        assert section.get_attribute("data-health") == "failing"
        banner = page.get_by_test_id("ops-banner").inner_text()
        assert "日盘点：已超过26小时没有成功运行" in banner
        row = page.locator("tr[data-job=daily_review]")
        assert row.get_attribute("data-healthy") == "no"
        assert "超时未运行" in row.inner_text()
        color = row.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
        assert color == "rgb(253, 236, 234)"  # red row
        assert page.locator("tr[data-job=triage]").get_attribute("data-healthy") == "yes"
        assert "未启用" in page.locator("tr[data-job=sms]").inner_text()  # no Twilio here
        failing = page.locator("table.ops-failing").inner_text()
        assert "21211" in failing and "8613600000299" not in failing  # number masked
        bs.shot(page, "ops-panel-red")

        result = service.cli("daily-review")
        assert result.returncode == 0, result.stderr
        for name in ("triage", "clustering"):  # fresh, whatever the workers wrote meanwhile
            record_run(db, name, True, every=0)
        page.reload()
        assert page.locator("tr[data-job=daily_review]").get_attribute("data-healthy") == "yes"
        assert page.locator("section.ops").get_attribute("data-health") == "ok"
        assert "运行正常" in page.get_by_test_id("ops-banner").inner_text()
        bs.shot(page, "ops-panel-ok")
        assert not errors
    finally:
        context.close()


@pytestmark_browser
def test_dashboard_as_supervisor_and_no_ops_for_others(browser, service):
    for phone, text, town in (
        ("13600000211", "村会计把集体土地偷偷租给自己亲戚了", "城关镇"),
        ("13600000212", "我们村低保名额都给了村干部家里人", "城关镇"),
        ("13600000213", "修路的钱被村长拿走一半，路没修好", "南港镇"),
    ):
        bs.file_case(service.url, text, phone, township=town)
    sup = service.client(service.login("sup", bs.PASSWORDS["sup"]))
    metrics = sup.get("/api/v1/metrics").json()
    context, page, errors = _page(browser, service, "sup")
    try:
        page.goto(service.url + "/workbench/dashboard")
        total = int(page.locator("[data-kpi=total]").inner_text())
        assert total == metrics["overall"]["total"] >= 3
        towns = {
            row.locator("td").nth(0).inner_text(): int(row.locator("td").nth(1).inner_text())
            for row in page.locator("table.rates").first.locator("tbody tr").all()
        }
        assert towns == {k: v["total"] for k, v in metrics["groups"].items()}
        assert towns["城关镇"] >= 2 and towns["南港镇"] >= 1
        charts = json.loads(page.locator("#chart-data").inner_text())
        weekly = sum(sum(v) for v in charts["groups"]["series"].values())
        assert weekly == total  # nothing merged or referred here
        page.wait_for_function("document.querySelectorAll('canvas').length === 3")
        bs.shot(page, "dashboard-supervisor-sql")
        page.goto(service.url + "/workbench/reports/weekly")
        assert "周报" in page.title() or "周报" in page.locator("main").inner_text()
        bs.shot(page, "weekly-report-sql")
        assert not errors
    finally:
        context.close()
    context, page, _ = _page(browser, service, "ana")
    try:
        assert page.locator("nav.main a[data-nav=ops]").count() == 0
        response = page.goto(service.url + "/workbench/ops")
        assert response.status == 403
    finally:
        context.close()


def test_metrics_add_up_every_worker(model_path, tmp_path):
    """Two worker processes (prometheus-client's multiprocess mode): whichever answers the
    scrape, the requests both served are counted."""
    env = service_env(tmp_path, model_path, None)
    bs.demo_accounts(f"sqlite:///{tmp_path / 'hotline.db'}")
    svc = Service(tmp_path, env, port=8532, workers=2).start()
    try:
        with httpx.Client(base_url=svc.url, timeout=30) as client:
            for _ in range(40):
                client.get("/healthz").raise_for_status()
            pattern = re.compile(
                r'hotline_http_request_duration_seconds_count\{method="GET",route="/healthz",'
                r'status="200"\} (\d+)'
            )
            counts = {int(pattern.search(client.get("/metrics").text).group(1)) for _ in range(6)}
        assert counts and min(counts) >= 40, counts
        assert (tmp_path / "prometheus").is_dir() and any((tmp_path / "prometheus").iterdir())
    finally:
        svc.stop()
