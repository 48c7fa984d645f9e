"""The staff workbench in a real browser (Debian's headless Chromium driven by Playwright) against
a real `hotline serve` on SQLite: each role logs in, works its queue, corrects an item, merges an
event, closes a case, and sees only what it may. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
import shutil

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests import browser_support as bs

pytestmark = [
    pytest.mark.parametrize("service", ["sqlite"], indirect=True),
    pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def seeded(service) -> bs.Seeded:
    return bs.seed(service)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = bs.launch(playwright)
    yield chromium
    chromium.close()
    playwright.stop()


class Session:
    """One role's browser tab, with what happened in it (dialogs, script errors)."""

    def __init__(self, browser, base: str, username: str, width: int = 1280) -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.base = base
        self.alerts: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if msg.type == "error" else None,
        )
        bs.login(self.page, base, username)

    def _dialog(self, dialog) -> None:
        if dialog.type == "confirm":  # the workbench's own "are you sure?" on bulk actions
            dialog.accept()
            return
        self.alerts.append(dialog.message)  # an alert would be injected script running
        dialog.dismiss()

    def go(self, path: str):
        return self.page.goto(self.base + path)

    def flash(self) -> str:
        return self.page.locator(".flash").inner_text()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_as(browser, service, seeded):
    sessions: list[Session] = []

    def make(username: str, width: int = 1280) -> Session:
        session = Session(browser, service.url, username, width)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        assert not session.alerts, f"script from user text ran: {session.alerts}"
        session.close()


def _db(service):
    return create_engine(f"sqlite:///{service.home / 'hotline.db'}")


def _case(service, number: str) -> dict:
    token = service.login("sup", bs.PASSWORDS["sup"])
    return service.client(token).get(f"/api/v1/cases/{number}").json()


def _tab_count(page, tab: str) -> int:
    return int(page.locator(f'a.tab[data-tab="{tab}"] .count').inner_text())


def test_login_is_required_and_wrong_passwords_are_refused(browser, service, seeded):
    context = browser.new_context()
    page = context.new_page()
    page.goto(service.url + "/")
    assert page.url.startswith(service.url + "/workbench/login")
    page.fill("input[name=username]", "sup")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.locator(".flash.error").inner_text()
    bs.shot(page, "login-refused")
    page.fill("input[name=username]", "sup")
    page.fill("input[name=password]", bs.PASSWORDS["sup"])
    page.click("button[type=submit]")
    assert page.url.endswith("/workbench/queues/review")
    cookie = next(c for c in context.cookies() if c["name"] == "hotline_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/workbench"
    page.click("text=退出")
    assert "/workbench/login" in page.url
    page.goto(service.url + "/workbench/queues/review")
    assert "/workbench/login" in page.url  # the session is gone
    context.close()


def test_supervisor_works_the_review_queue_and_corrects_an_item(open_as, service, seeded):
    sup = open_as("sup")
    sup.go("/workbench/queues/review")
    rows = sup.page.locator("table.cases tbody tr[data-number]")
    numbers = rows.evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert _tab_count(sup.page, "review") == len(numbers) >= 2
    assert numbers[0] == seeded["out"]  # 清单外 first
    assert seeded["to_merge"] in numbers
    bs.shot(sup.page, "supervisor-review-queue")

    # The out-of-list case: referred elsewhere with a template reply the resident is told.
    rows.first.locator("a.case-link").click()
    assert sup.page.locator("#triage table.top3 tbody tr").count() == 3
    form = sup.page.locator("form[data-action=refer]")
    form.locator("select[name=template]").select_option(label="转12345热线")
    assert "12345" in form.locator("textarea").input_value()
    form.locator("button[type=submit]").click()
    sup.page.locator("form[data-action=confirm-reply] button[type=submit]").click()  # preview
    assert "清单外转办" in sup.flash()
    assert _case(service, seeded["out"])["state"] == "清单外转办"

    # A low-confidence case: the item corrected, kept as a training label with who and when.
    sup.go("/workbench/queues/review")
    before = _tab_count(sup.page, "review")
    previous = _case(service, seeded["to_merge"])["category"]
    target = "S25" if previous == "S24" else "S24"  # another item than the model's
    sup.page.locator(f'tr[data-number="{seeded["to_merge"]}"] a.case-link').click()
    form = sup.page.locator("form[data-action=category]")
    form.locator("select[name=category]").select_option(target)
    form.locator("button[type=submit]").click()
    assert f"事项已更正为{target}" in sup.flash()
    assert "已人工确认" in sup.page.locator("#triage").inner_text()
    bs.shot(sup.page, "supervisor-item-corrected")
    sup.go("/workbench/queues/review")
    assert _tab_count(sup.page, "review") == before - 1
    engine = _db(service)
    with engine.connect() as conn:
        label = conn.execute(
            text(
                "SELECT l.kind, l.category, l.previous, u.username, l.at FROM labels l "
                "JOIN cases c ON c.id = l.case_id JOIN users u ON u.id = l.user_id "
                "WHERE c.number = :n"
            ),
            {"n": seeded["to_merge"]},
        ).one()
    engine.dispose()
    assert label[:4] == ("correct", target, previous, "sup") and label[4]


def test_supervisor_merges_an_event_and_a_single_case(open_as, service, seeded):
    sup = open_as("sup")
    sup.go("/workbench/queues/joint")
    row = sup.page.locator(f'tr[data-event="{seeded.event_id}"]')
    assert row.locator("td").nth(1).inner_text() == "3"  # three reporters
    row.locator("a.event-link").click()
    lead = seeded.event[0]
    form = sup.page.locator("form[data-action=bulk-merge]")
    form.locator("select[name=lead]").select_option(lead)
    form.locator("button[type=submit]").click()
    assert "已对2件案件执行“合并到主案件”" in sup.flash()
    bs.shot(sup.page, "supervisor-event-merged")
    for number in seeded.event[1:]:
        merged = _case(service, number)
        assert merged["state"] == "已合并" and merged["lead_case"] == lead
    # 3 distinct reporters on one case: the office's rule escalates it.
    assert _case(service, lead)["escalation_level"] >= 1

    # One case into another from its page, then split back out.
    sup.go(f"/workbench/cases/{seeded['to_merge']}")
    form = sup.page.locator("form[data-action=merge]")
    form.locator("input[name=into]").fill(seeded["merge_lead"])
    form.locator("button[type=submit]").click()
    assert f"已合并到案件{seeded['merge_lead']}" in sup.flash()
    assert seeded["to_merge"] in sup.page.locator("#joined").inner_text()
    sup.go(f"/workbench/cases/{seeded['to_merge']}")
    sup.page.locator("form[data-action=split] button").click()
    assert "已从事件中拆分" in sup.flash()
    assert _case(service, seeded["to_merge"])["state"] == "已受理"


def test_handler_closes_a_case_with_a_reply_from_a_template(open_as, service, seeded):
    civil = open_as("civil")
    assert civil.page.url.endswith("/workbench/queues/mine")
    listed = civil.page.locator("table.cases").inner_text()
    assert seeded["to_close"] in listed and seeded["contact"] in listed
    assert seeded["farm"] not in listed  # another unit's case
    bs.shot(civil.page, "handler-my-cases")
    civil.page.locator(f'tr[data-number="{seeded["to_close"]}"] a.case-link').click()
    form = civil.page.locator("form[data-action=transition]")
    form.locator("select[name=to]").select_option("办理中")
    form.locator("button[type=submit]").click()
    assert "办理中" in civil.flash()
    form = civil.page.locator("form[data-action=transition]")
    form.locator("select[name=to]").select_option("已办结")
    form.locator("select[name=template]").select_option(label="低保已重新评定")
    reply = form.locator("textarea[name=reply]").input_value()
    assert seeded["to_close"] in reply and "城关镇民政办" in reply  # placeholders filled in
    form.locator("button[type=submit]").click()
    civil.page.locator("form[data-action=confirm-reply] button[type=submit]").click()  # preview
    assert "已办结" in civil.flash()
    bs.shot(civil.page, "handler-case-closed")
    status = httpx.post(
        service.url + "/api/v1/status",
        json={"number": seeded["to_close"], "phone": "13600000004"},
        timeout=30,
    ).json()
    assert status["state"] == "已办结"
    assert any("重新评定" in step["what"] for step in status["steps"])
    # A handler never sees who complained, and nothing of other units.
    html = civil.page.content()
    assert "赵大姐" not in html and "13600000004" not in html
    assert civil.page.locator("#contact").count() == 0
    assert civil.go(f"/workbench/cases/{seeded['farm']}").status == 404
    assert civil.go("/workbench/queues/review").status == 404
    assert civil.go("/workbench/reports/weekly").status == 403


def test_contact_is_shown_to_supervisors_only_and_every_view_is_audited(open_as, service, seeded):
    sup = open_as("sup")
    sup.go(f"/workbench/cases/{seeded['contact']}")
    assert "李秀英" not in sup.page.content()  # not until asked for
    sup.page.locator("form[data-action=contact] button").click()
    shown = sup.page.locator("[data-testid=contact]").inner_text()
    assert "李秀英" in shown and "13600000003" in shown
    bs.shot(sup.page, "supervisor-contact-audited")
    engine = _db(service)
    with engine.connect() as conn:
        audited = conn.execute(
            text(
                "SELECT a.action, u.username FROM audit_log a JOIN cases c ON c.id = a.case_id "
                "JOIN users u ON u.id = a.user_id WHERE c.number = :n"
            ),
            {"n": seeded["contact"]},
        ).all()
    engine.dispose()
    assert [tuple(r) for r in audited] == [("view_contact", "sup")]

    ana = open_as("ana")
    ana.go(f"/workbench/cases/{seeded['contact']}")
    assert ana.page.locator("#contact").count() == 0
    assert ana.page.locator("form[data-action]").count() == 0  # analysts read, never act
    assert "李秀英" not in ana.page.content()
    bs.shot(ana.page, "analyst-case-read-only")


def test_user_text_is_shown_as_text_and_never_runs(open_as, service, seeded):
    sup = open_as("sup")
    for path in ("/workbench/queues/assign", f"/workbench/cases/{seeded['xss']}"):
        sup.go(path)
        assert sup.page.locator("script").count() == 1  # only the workbench's own script
        assert sup.page.locator("img[src=x]").count() == 0
    complaint = sup.page.locator("[data-testid=complaint-text]").inner_text()
    assert complaint.startswith('<script>alert("xss")</script><img src=x')
    sup.page.locator("form[data-action=contact] button").click()
    assert (
        '<b onmouseover="alert(3)">王</b>' in sup.page.locator("[data-testid=contact]").inner_text()
    )
    sup.page.locator("form[data-action=note] textarea").fill("<script>alert('note')</script>备注")
    sup.page.locator("form[data-action=note] button").click()
    assert "<script>alert('note')</script>备注" in sup.page.locator("#history").inner_text()
    bs.shot(sup.page, "user-text-escaped")
    assert not sup.errors, sup.errors  # no CSP violations or script errors either


def test_each_role_sees_only_its_queues_and_pages(open_as, service, seeded):
    grid = open_as("grid")
    assert grid.page.url.endswith("/workbench/queues/filed")
    assert [" ".join(t.split()) for t in grid.page.locator("a.tab").all_inner_texts()] == [
        "我提交的 0"
    ]
    assert grid.go("/workbench/queues/review").status == 404
    assert grid.go("/workbench/dashboard").status == 403
    assert grid.go(f"/workbench/cases/{seeded['contact']}").status == 404
    bs.shot(grid.page, "grid-worker-refused")

    ana = open_as("ana")
    tabs = [t.split()[0] for t in ana.page.locator("a.tab").all_inner_texts()]
    assert tabs == ["待审核", "待转办", "联合研判", "即将到期", "已超期", "重复投诉/提级督办"]
    assert ana.go("/workbench/reports/weekly").status == 200

    farm = open_as("farm")
    assert [re.sub(r"\s+\d+$", "", t) for t in farm.page.locator("a.tab").all_inner_texts()] == [
        "我的案件",
        "即将到期",
        "已超期",
        "重复投诉/提级督办",
    ]
    assert seeded["farm"] in farm.page.locator("table.cases").inner_text()
    assert farm.go(f"/workbench/cases/{seeded['to_close']}").status == 404


def test_dashboard_draws_charts_and_exports_csv(open_as, service, seeded):
    sup = open_as("sup")
    sup.go("/workbench/dashboard")
    sup.page.wait_for_selector("body[data-charts=drawn]")
    assert sup.page.locator("canvas").count() == 3
    assert int(sup.page.locator("[data-kpi=total]").inner_text()) >= 5
    bs.shot(sup.page, "dashboard")
    with sup.page.expect_download() as download:
        sup.page.locator('a.csv[href*="table=township"]').click()
    content = download.value.path().read_text(encoding="utf-8")
    assert content.startswith("\ufeff乡镇,受理,办结,办结率")
    assert "城关镇" in content
    assert not sup.errors, sup.errors


def test_weekly_report_lists_what_was_closed_and_prints(open_as, service, seeded):
    sup = open_as("sup")
    sup.go("/workbench/reports/weekly")
    report = sup.page.locator("article.report").inner_text()
    assert int(sup.page.locator("[data-report=received]").inner_text()) >= 10
    assert seeded["to_close"] in report and "重新评定" in report  # closed above, with its reply
    assert "赵大姐" not in report and "13600000004" not in report
    sup.page.emulate_media(media="print")
    assert not sup.page.locator("header.top").is_visible()
    bs.shot(sup.page, "weekly-report-print")


def test_phone_layout_is_one_column_with_big_targets(open_as, service, seeded):
    phone = open_as("civil", width=390)
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    tab = phone.page.locator("a.tab").first.bounding_box()
    assert tab["height"] >= 44
    bs.shot(phone.page, "phone-my-cases")
    phone.page.locator("a.case-link").first.click()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    main, side = (phone.page.locator(s).bounding_box() for s in (".main-col", ".side-col"))
    assert side["y"] > main["y"] and abs(side["x"] - main["x"]) < 2  # stacked, one column
    bs.shot(phone.page, "phone-case")


# -- the same pages over plain HTTP: forms, cookies, headers -------------------------------------
def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _http_login(service, username: str) -> httpx.Client:
    client = httpx.Client(base_url=service.url, timeout=30)
    form = client.get("/workbench/login")
    r = client.post(
        "/workbench/login",
        data={"csrf": _csrf(form.text), "username": username, "password": bs.PASSWORDS[username]},
    )
    assert r.status_code == 303, r.text
    return client


def test_forms_need_their_csrf_token(service, seeded):
    sup = _http_login(service, "sup")
    number = seeded["contact"]
    page = sup.get(f"/workbench/cases/{number}")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    for data in ({}, {"csrf": "forged"}):
        r = sup.post(f"/workbench/cases/{number}/note", data={**data, "note": "forged"})
        assert r.status_code == 403 and "页面已过期" in r.text
    other = _http_login(service, "civil")
    stolen = _csrf(other.get("/workbench/queues/mine").text)  # another session's token
    r = sup.post(f"/workbench/cases/{number}/note", data={"csrf": stolen, "note": "x"})
    assert r.status_code == 403
    ok = sup.post(
        f"/workbench/cases/{number}/note", data={"csrf": _csrf(page.text), "note": "真的备注"}
    )
    assert ok.status_code == 303
    assert "真的备注" in sup.get(f"/workbench/cases/{number}").text
    # Login without the login page's cookie (a cross-site form) is refused too.
    bare = httpx.post(
        service.url + "/workbench/login",
        data={"csrf": "x", "username": "sup", "password": bs.PASSWORDS["sup"]},
    )
    assert bare.status_code == 403


def test_login_never_redirects_off_the_workbench(service, seeded):
    client = httpx.Client(base_url=service.url, timeout=30)
    form = client.get("/workbench/login", params={"next": "https://evil.example/x"})
    r = client.post(
        "/workbench/login",
        data={
            "csrf": _csrf(form.text),
            "username": "sup",
            "password": bs.PASSWORDS["sup"],
            "next": "//evil.example/x",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/workbench/"
    assert client.get("/workbench/queues/nope").status_code == 404
    assert client.get("/api/v1/cases").status_code == 401  # the cookie is no API credential
