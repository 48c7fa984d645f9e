"""Smoke test of the workbench's pages on PostgreSQL (the browser tests run on SQLite; the
queries differ in NULL ordering, booleans and date handling, so every page is opened here too).

The real service (`hotline serve`, one process per core plus one) on a scratch database, with
the demo accounts of tests/conftest.py written directly (``demo_accounts``), which saves the
half minute the shared fixture spends starting `hotline` eight times."""

from __future__ import annotations

import re

import httpx
import pytest

from tests import browser_support as bs


@pytest.fixture(scope="module")
def pg_service(model_path, tmp_path_factory):
    from hotline.processes import Service, create_pg_database, drop_pg_database, service_env

    home = tmp_path_factory.mktemp("workbench-pg")
    db_name, url = create_pg_database()
    try:
        bs.demo_accounts(url)
        svc = Service(home, service_env(home, model_path, url)).start()
        yield svc
        svc.stop()
    finally:
        drop_pg_database(db_name)


def _login(service, username: str) -> httpx.Client:
    client = httpx.Client(base_url=service.url, timeout=30)
    form = client.get("/workbench/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    r = client.post(
        "/workbench/login",
        data={"csrf": csrf, "username": username, "password": bs.PASSWORDS[username]},
    )
    assert r.status_code == 303, r.text
    return client


def _count(html: str, tab: str) -> int:
    return int(re.search(rf'data-tab="{tab}"[^>]*>[^<]*<span class="count">(\d+)', html).group(1))


def test_every_page_opens_on_postgresql(pg_service):
    service = pg_service
    seeded = bs.seed(service)
    sup = _login(service, "sup")
    review = sup.get("/workbench/queues/review").text
    assert _count(review, "review") >= 2 and _count(review, "joint") == 1
    numbers = re.findall(r'<tr data-number="(\d+)"', review)
    assert numbers[0] == seeded["out"]  # 清单外 first, NULLs and booleans as on SQLite
    for tab in ("assign", "joint", "due_soon", "overdue", "escalated"):
        assert sup.get(f"/workbench/queues/{tab}").status_code == 200
    filtered = sup.get(
        "/workbench/queues/review", params={"township": "城关镇", "from": "2020-01-01"}
    )
    assert seeded["out"] not in filtered.text  # filed without a township
    dated = sup.get("/workbench/queues/review", params={"from": "2020-01-01", "channel": "web"})
    assert seeded["out"] in dated.text
    case = sup.get(f"/workbench/cases/{seeded['xss']}")
    assert case.status_code == 200
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in case.text
    assert sup.get(f"/workbench/events/{seeded.event_id}").status_code == 200
    assert sup.get("/workbench/dashboard").status_code == 200
    csv = sup.get("/workbench/dashboard/export.csv", params={"table": "item"})
    assert csv.text.startswith("\ufeff事项编号,事项名称")
    assert sup.get("/workbench/reports/weekly").status_code == 200

    civil = _login(service, "civil")
    mine = civil.get("/workbench/queues/mine").text
    assert seeded["to_close"] in mine and seeded["farm"] not in mine
    assert "13600000004" not in civil.get(f"/workbench/cases/{seeded['to_close']}").text
