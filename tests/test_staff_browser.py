"""Issue 17's pages in a real browser (Debian's headless Chromium driven by Playwright) against a
real `hotline serve` on SQLite: a supervisor closes a case and sees the public answer before it
is sent (and only the templates that fit the move); analysts label from the labelling queue
and see their agreement. Screenshots go to test-artifacts/screenshots/staff-*.png.
"""

from __future__ import annotations

import shutil
import socket

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests import browser_support as bs

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")

PORTS = range(8400, 8500)  # this suite's share of the machine's ports
PHONE = "13600000444"


def _port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8400-8499")


@pytest.fixture(scope="module")
def service(model_path, tmp_path_factory):
    from api.auth import hash_password
    from hotline.processes import Service, service_env

    home = tmp_path_factory.mktemp("staff-browser")
    url = f"sqlite:///{home / 'hotline.db'}"
    bs.demo_accounts(url)
    engine = create_engine(url)
    with engine.begin() as conn:  # a second analyst, for the double-labelled share
        conn.execute(
            text(
                "INSERT INTO users (username, display_name, password_hash, role, active) "
                "VALUES ('ana2', 'ana2', :h, 'analyst', 1)"
            ),
            {"h": hash_password("ana2-pass-1")},
        )
    engine.dispose()
    svc = Service(home, service_env(home, model_path, None), port=_port()).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = bs.launch(playwright)
    yield chromium
    chromium.close()
    playwright.stop()


def _tab(browser, service, username: str, password: str | None = None, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    bs.login(page, service.url, username, password)
    return context, page, errors


def _db(service):
    return create_engine(f"sqlite:///{service.home / 'hotline.db'}")


def test_supervisor_closes_with_a_fitting_answer_previewed_before_it_is_sent(browser, service):
    sup_token = service.login("sup", bs.PASSWORDS["sup"])
    sup = service.client(sup_token)
    number = bs.file_case(
        service.url,
        "我们柳树村低保评定不公平，村主任把名额给了他侄子",
        PHONE,
        township="城关镇",
        village="柳树村",
    )["number"]
    units = bs.unit_ids(service, sup_token)
    assert sup.post(
        f"/api/v1/cases/{number}/assign", json={"unit_id": units["城关镇民政办"]}
    ).is_success
    context, page, errors = _tab(browser, service, "sup")
    page.goto(f"{service.url}/workbench/cases/{number}")
    form = page.locator("form[data-action=transition]")
    templates = form.locator("select[name=template]")

    def offered() -> list[str]:
        return templates.locator(
            "option[data-state]:not([hidden]):not([disabled])"
        ).all_inner_texts()

    # 已转办 → 办理中: only 办理中's templates are offered, and it needs no preview.
    assert offered() == ["已受理，正在核实"]
    templates.select_option(label="已受理，正在核实")
    in_progress = form.locator("textarea[name=reply]").input_value()
    assert number in in_progress and "城关镇民政办" in in_progress
    form.locator("button[type=submit]").click()
    assert "办理中" in page.locator(".flash").inner_text()
    history = page.locator("#history").inner_text()
    assert "经网页受理" in history and "渠道" not in history and "web" not in history

    # 办理中 → 已办结: the 办理中 template is not offered, and typed in it is refused.
    form = page.locator("form[data-action=transition]")
    templates = form.locator("select[name=template]")
    form.locator("select[name=to]").select_option("已办结")
    closing = offered()
    assert "已受理，正在核实" not in closing and "低保已重新评定" in closing
    bs.shot(page, "staff-supervisor-closing-templates")
    form.locator("textarea[name=reply]").fill(in_progress)
    form.locator("button[type=submit]").click()
    assert "不适合“已办结”" in page.locator(".flash.error").inner_text()
    bs.shot(page, "staff-supervisor-wrong-template-refused")
    assert sup.get(f"/api/v1/cases/{number}").json()["state"] == "办理中"

    # The right answer and an internal note: previewed apart, then sent.
    form = page.locator("form[data-action=transition]")
    form.locator("select[name=to]").select_option("已办结")
    form.locator("select[name=template]").select_option(label="低保已重新评定")
    answer = form.locator("textarea[name=reply]").input_value()
    form.locator("input[name=note]").fill("内部：已约谈村主任，处分决定另行下发")
    form.locator("button[type=submit]").click()
    assert page.locator("[data-testid=answer-text]").inner_text() == answer
    assert number in page.locator("[data-testid=sms-text]").inner_text()
    public = page.locator("[data-testid=public-answer]").inner_text()
    assert "约谈" not in public
    assert "约谈" in page.locator("[data-testid=internal-note]").inner_text()
    bs.shot(page, "staff-supervisor-closing-preview")
    assert sup.get(f"/api/v1/cases/{number}").json()["state"] == "办理中"  # nothing sent yet
    page.locator("form[data-action=confirm-reply] button[type=submit]").click()
    assert "已办结" in page.locator(".flash").inner_text()
    bs.shot(page, "staff-supervisor-case-closed")
    status = httpx.post(
        service.url + "/api/v1/status", json={"number": number, "phone": PHONE}, timeout=30
    ).json()
    told = status["summary"] + "".join(s["what"] for s in status["steps"])
    assert status["state"] == "已办结" and answer in told and "约谈" not in told
    texts = [m for m in sup.get("/api/v1/outbox").json()["items"] if m["case_number"] == number]
    assert any(m["kind"] == "done" for m in texts)
    assert not any("约谈" in m["body"] for m in texts)
    assert not errors, errors
    context.close()


def test_analysts_label_from_the_queue_and_see_their_agreement(browser, service):
    for i, story in enumerate(
        [
            "我的电话13912345678，村里那个事你们管管吧，钱的事情说不清楚",
            "区块链积分兑换的数字藏品收益被会计私吞了",
            "村里修路的钱被村长拿走一半，路到现在没修好",
            "特困供养金被村会计扣了两个月",
            "隔壁邻居家的狗天天晚上叫，吵得睡不着",
            "集体的鱼塘承包给了书记小舅子，也没开会",
        ]
    ):
        bs.file_case(service.url, story, f"1360000050{i}")
    sup_ctx, sup_page, _ = _tab(browser, service, "sup")
    assert sup_page.locator("nav a[data-nav=labels]").count() == 0
    assert sup_page.goto(service.url + "/workbench/labels").status == 403
    sup_ctx.close()

    context, page, errors = _tab(browser, service, "ana")
    page.click("nav a[data-nav=labels]")
    assert page.url.endswith("/workbench/labels")
    engine = _db(service)
    with engine.begin() as conn:  # every queued case labelled twice, to see the agreement
        queued = conn.execute(text("UPDATE label_queue SET double = 1")).rowcount
    assert queued >= 2
    page.reload()
    html = page.content()
    assert "13912345678" not in html  # masked texts only
    task = page.locator("#label-task")
    assert "模型判断" not in task.inner_text()  # the model's guess is not shown
    bs.shot(page, "staff-analyst-label-queue")
    first_two = []
    for code in ("S01", "S24"):
        first_two.append(task.get_attribute("data-task"))
        form = page.locator("form[data-action=label]")
        form.locator("select[name=category]").select_option(code)
        form.locator("input[name=reason]").fill(f"依据：{code}")
        form.locator("button[type=submit]").click()
        assert "已保存标注" in page.locator(".flash").inner_text()
    context.close()

    context2, page2, errors2 = _tab(browser, service, "ana2", "ana2-pass-1", width=390)
    page2.goto(service.url + "/workbench/labels")
    for code in ("S01", "S01"):  # agrees on the first, not on the second
        assert page2.locator("#label-task").get_attribute("data-task") in first_two
        form = page2.locator("form[data-action=label]")
        form.locator("select[name=category]").select_option(code)
        form.locator("button[type=submit]").click()
    kappa = page2.locator("[data-testid=kappa]").inner_text()
    assert "2 件由两人标注" in kappa and "50.0%" in kappa
    bs.shot(page2, "staff-analyst2-agreement-phone")
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT u.username, l.category, l.reason, l.origin, l.at FROM labels l "
                "JOIN users u ON u.id = l.user_id ORDER BY l.id"
            )
        ).all()
    engine.dispose()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("ana", "S01", "依据：S01", "queue"),
        ("ana", "S24", "依据：S24", "queue"),
        ("ana2", "S01", None, "queue"),
        ("ana2", "S01", None, "queue"),
    ]
    assert all(r[4] for r in rows)
    assert not errors and not errors2, errors + errors2
    context2.close()
