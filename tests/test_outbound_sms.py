"""Text messages to residents (issue 6, case-service side), against real `hotline serve`
processes: what each status change and each phone/SMS/grid-worker filing queues, who may see the
outbox, the grid worker's filing form in Debian's Chromium, and the sender posting through
twilio's own client to a local stand-in for Twilio's REST API that fails, then answers."""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import create_engine, text

from hotline.processes import Service, create_pg_database, drop_pg_database, service_env
from tests import browser_support as bs

GRID_PHONE = "13700000999"
TWILIO_ENV = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")


def _start(home, model_path, database_url: str | None, **extra_env: str) -> Service:
    """A service with the demo accounts; the grid worker has a phone of their own."""
    env = service_env(home, model_path, database_url)
    for name in (*TWILIO_ENV, "HOTLINE_TWILIO_API_URL"):
        env.pop(name, None)
    url = database_url or f"sqlite:///{home / 'hotline.db'}"
    bs.demo_accounts(url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET phone = :p WHERE username = 'grid'"), {"p": GRID_PHONE})
    engine.dispose()
    svc = Service(home, env)
    svc.database_url = url
    return svc.start(**extra_env)


def _messages(svc: Service, number: str) -> list[tuple]:
    """(kind, to, body, status) of the texts about one case, oldest first."""
    engine = create_engine(svc.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT o.kind, o.to_phone, o.body, o.status FROM sms_outbox o "
                "JOIN cases c ON c.id = o.case_id WHERE c.number = :n ORDER BY o.id"
            ),
            {"n": number},
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


@pytest.fixture(scope="module")
def svc(model_path, tmp_path_factory):
    """No Twilio credentials: every text is only recorded."""
    home = tmp_path_factory.mktemp("sms-recorded")
    running = _start(home, model_path, None)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def tokens(svc):
    return {name: svc.login(name, bs.PASSWORDS[name]) for name in ("sup", "civil", "ana", "grid")}


def _file(svc: Service, text_: str, token: str | None = None, **extra) -> dict:
    r = httpx.post(
        svc.url + "/api/v1/complaints",
        json={"text": text_, **extra},
        params={"classify": "now"},
        headers={"Authorization": f"Bearer {token}"} if token else {},
        timeout=30,
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def _unit(svc: Service, token: str, name: str) -> int:
    return next(u["id"] for u in svc.client(token).get("/api/v1/units").json() if u["name"] == name)


# -- what is queued ------------------------------------------------------------------------------
def test_each_status_change_queues_one_text_in_plain_words(svc, tokens):
    sup, civil = svc.client(tokens["sup"]), svc.client(tokens["civil"])
    phone = "13900000101"
    n = _file(svc, "我们村低保评定不公平，村主任把名额给了他侄子", phone=phone, name="李秀英")[
        "number"
    ]
    assert _messages(svc, n) == []  # filed on the web: the resident saw the number
    unit = _unit(svc, tokens["sup"], "城关镇民政办")
    assert sup.post(f"/api/v1/cases/{n}/assign", json={"unit_id": unit}).status_code == 200
    assigned = (
        "assigned",
        f"+86{phone}",
        f"【监督一点通】您反映的问题（案件号{n}）已转交城关镇民政办办理。回复“查询 {n}”可查进度。",
        "recorded",
    )
    assert _messages(svc, n) == [assigned]
    civil.post(f"/api/v1/cases/{n}/transition", json={"to": "办理中"})
    assert len(_messages(svc, n)) == 1  # 办理中 is not texted
    done = civil.post(
        f"/api/v1/cases/{n}/transition",
        json={"to": "已办结", "reply": "经核查，已取消李秀英反映的其侄子低保资格。"},
    )
    assert done.status_code == 200
    assert _messages(svc, n)[1] == (
        "done",
        f"+86{phone}",
        f"【监督一点通】您的案件{n}已办结，回复“查询 {n}”看答复。"
        "请回复满意、基本满意或不满意，也可来电评价。",
        "recorded",
    )
    rated = httpx.post(
        svc.url + "/api/v1/rating", json={"number": n, "phone": phone, "rating": "不满意"}
    )
    assert rated.json()["state"] == "重新办理"
    texts = _messages(svc, n)
    assert len(texts) == 3 and texts[2][0] == "reopened"
    assert texts[2][2] == (
        f"【监督一点通】您反映的问题（案件号{n}）因群众对办理结果不满意，已重新办理。"
        f"回复“查询 {n}”可查进度。"
    )
    assert all("李秀英" not in body for _, _, body, _ in texts)


def test_referral_reason_anonymous_phones_and_joined_cases(svc, tokens):
    sup = svc.client(tokens["sup"])
    no_phone = _file(svc, "隔壁邻居家的狗天天晚上叫，吵得睡不着")["number"]
    r = sup.post(f"/api/v1/cases/{no_phone}/refer", json={"reason": "请拨打12345市民热线反映"})
    assert r.json()["state"] == "清单外转办"
    assert _messages(svc, no_phone) == []  # no phone, no text
    # A name in staff-written words never reaches the text; anonymous residents with a phone
    # are told too (the phone is theirs).
    named = _file(svc, "村口的垃圾堆了半个月没人清理", phone="13900000102", name="王建国")
    anonymous = _file(svc, "楼上装修太吵了", phone="13900000103", anonymous=True)
    sup.post(
        f"/api/v1/cases/{named['number']}/refer",
        json={"reason": "王建国反映的环境卫生问题请找乡镇环卫所"},
    )
    sup.post(f"/api/v1/cases/{anonymous['number']}/refer", json={"reason": "请拨打12345市民热线"})
    assert [m[2] for m in _messages(svc, named["number"])] == [
        f"【监督一点通】您反映的问题（案件号{named['number']}）不属于村级小微权力监督事项，"
        "已转给对口部门：您反映的环境卫生问题请找乡镇环卫所。"
    ]
    assert [(m[0], m[1]) for m in _messages(svc, anonymous["number"])] == [
        ("referred", "+8613900000103")
    ]
    # Two residents' cases merged: a change of the lead is texted to both, each with their number.
    lead = _file(svc, "柳树村修路的钱被村长拿走一半，路到现在没修好", phone="13900000104")
    other = _file(svc, "柳树村那条路偷工减料，修路款不知去向", phone="13900000105")
    merged = sup.post(f"/api/v1/cases/{other['number']}/merge", json={"into": lead["number"]})
    assert merged.status_code == 200
    unit = _unit(svc, tokens["sup"], "城关镇农经站")
    sup.post(f"/api/v1/cases/{lead['number']}/category", json={"category": "S24"})
    assert (
        sup.post(f"/api/v1/cases/{lead['number']}/assign", json={"unit_id": unit}).status_code
        == 200
    )
    assert [(m[0], m[1]) for m in _messages(svc, lead["number"])] == [
        ("assigned", "+8613900000104")
    ]
    (member,) = _messages(svc, other["number"])
    assert member[:2] == ("assigned", "+8613900000105") and other["number"] in member[2]


def test_phone_and_sms_filings_get_a_receipt_once(svc):
    key = secrets.token_hex(8)
    first = _file(
        svc,
        "五保老人的供养金被组长扣了三个月",
        phone="13900000106",
        channel="voice",
        idempotency_key=key,
    )
    n = first["number"]
    receipt = (
        "receipt",
        "+8613900000106",
        f"【监督一点通】您反映的问题已受理，案件号{n}。回复“查询 {n}”可查进度。",
        "recorded",
    )
    assert _messages(svc, n) == [receipt]
    again = _file(
        svc,
        "五保老人的供养金被组长扣了三个月",
        phone="13900000106",
        channel="voice",
        idempotency_key=key,
    )
    assert again["number"] == n and _messages(svc, n) == [receipt]  # a resend: still one
    # By text, a repeat of the same resident's open case: the receipt names that case.
    repeat = _file(
        svc,
        "我又来反映，五保供养金还是被组长扣着，三个月没给了",
        phone="13900000106",
        channel="sms",
    )
    assert repeat["joined_case"] == n
    ((kind, to, body, _),) = _messages(svc, repeat["number"])
    assert kind == "receipt" and to == "+8613900000106"
    assert body == (
        f"【监督一点通】您反映的问题已受理，案件号{repeat['number']}。"
        f"您此前反映的案件{n}还在办理中，这次的反映已并入该案一起办理。"
    )
    landline = _file(svc, "低保名额被村干部亲戚占了", phone="03712345678", channel="voice")
    assert _messages(svc, landline["number"]) == []  # a landline takes no texts


def test_only_supervisors_see_the_outbox(svc, tokens):
    for name in ("civil", "ana", "grid"):
        assert svc.client(tokens[name]).get("/api/v1/outbox").status_code == 403
    assert httpx.get(svc.url + "/api/v1/outbox").status_code == 401
    listing = svc.client(tokens["sup"]).get("/api/v1/outbox", params={"limit": 500}).json()
    assert listing["live"] is False and listing["total"] == listing["counts"]["recorded"] >= 5
    created = [item["created_at"] for item in listing["items"]]
    assert created == sorted(created, reverse=True)  # newest first
    first = listing["items"][0]
    assert first["status_name"] == "仅记录" and first["case_number"]
    assert all(item["to"].startswith("+86") and "****" in item["to"] for item in listing["items"])
    assert "13900000101" not in json.dumps(listing)  # numbers are masked
    sent = svc.client(tokens["sup"]).get("/api/v1/outbox", params={"status": "sent"}).json()
    assert sent["total"] == 0 and sent["items"] == []
    # The same on the workbench.
    civil = _http_login(svc, "civil")
    assert civil.get("/workbench/outbox").status_code == 403
    assert 'data-nav="outbox"' not in civil.get("/workbench/queues/mine").text
    sup = _http_login(svc, "sup")
    page = sup.get("/workbench/outbox", params={"status": "recorded"})
    assert page.status_code == 200 and 'data-mode="recorded"' in page.text
    assert page.text.count("<tr data-id=") == min(50, listing["counts"]["recorded"])


def _http_login(svc: Service, username: str) -> httpx.Client:
    import re

    client = httpx.Client(base_url=svc.url, timeout=30)
    form = client.get("/workbench/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    r = client.post(
        "/workbench/login",
        data={"csrf": csrf, "username": username, "password": bs.PASSWORDS[username]},
    )
    assert r.status_code == 303, r.text
    return client


# -- grid workers --------------------------------------------------------------------------------
def test_grid_worker_files_by_api_receipt_to_resident_or_worker(svc, tokens):
    resident = _file(
        svc,
        "村里的光伏收益说是给大家分红，几年了一分钱没见到",
        tokens["grid"],
        channel="grid_worker",
        phone="13900000107",
        name="张大爷",
        village="柳树村",
    )
    assert [(m[0], m[1]) for m in _messages(svc, resident["number"])] == [
        ("receipt", "+8613900000107")
    ]
    no_phone = _file(
        svc,
        "特困供养金被村会计扣了两个月",
        tokens["grid"],
        channel="grid_worker",
        name="赵奶奶",
        village="河湾村",
    )
    n = no_phone["number"]
    assert _messages(svc, n) == [
        (
            "receipt",
            f"+86{GRID_PHONE}",
            f"【监督一点通】您代群众提交的反映已受理，案件号{n}，请告知反映人。",
            "recorded",
        )
    ]
    # A supervisor filing on the channel has no phone of their own: no receipt at all.
    by_sup = _file(svc, "低保名额被村干部亲戚占了", tokens["sup"], channel="grid_worker")
    assert _messages(svc, by_sup["number"]) == []
    mine = svc.client(tokens["grid"]).get("/api/v1/cases", params={"limit": 500}).json()
    assert {resident["number"], n} <= {c["number"] for c in mine["items"]}


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_grid_worker_files_through_the_workbench_form(svc):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = bs.launch(playwright)
        context = browser.new_context(viewport={"width": 390, "height": 900}, locale="zh-CN")
        context.set_default_timeout(10_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        bs.login(page, svc.url, "grid")
        page.click("a[data-nav=file]")
        form = page.locator("form[data-action=file]")
        form.locator("input[name=name]").fill("刘奶奶")
        form.locator("input[name=phone]").fill("123")  # wrong: refused, nothing lost
        form.locator("input[name=village]").fill("河湾村")
        complaint = "俺村的低保名额给了村主任家亲戚，俺家老头瘫在床上却评不上"
        form.locator("textarea[name=text]").fill(complaint)
        form.locator("button[type=submit]").click()
        assert "手机号" in page.locator(".flash.error").inner_text()
        assert page.locator("textarea[name=text]").input_value() == complaint
        page.locator("input[name=phone]").fill("")
        page.locator("form[data-action=file] button[type=submit]").click()
        number = page.locator("[data-testid=filed-number]").inner_text()
        assert "发往您的手机" in page.locator("[data-testid=receipt]").inner_text()
        bs.shot(page, "grid-worker-filed")
        page.goto(svc.url + "/workbench/queues/filed")
        assert page.locator(f'tr[data-number="{number}"]').count() == 1
        assert errors == []
        context.close()
        # The supervisor finds the receipt in 短信外发, linked to the case.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        bs.login(page, svc.url, "sup")
        page.click("a[data-nav=outbox]")
        row = page.locator("table.outbox tbody tr").first
        assert row.locator("a.case-link").inner_text() == number
        assert "受理回执" in row.inner_text() and "仅记录" in row.inner_text()
        assert page.locator('a.tab[data-status="recorded"] .count').inner_text() == str(
            page.locator("table.outbox tbody tr").count()
        )
        bs.shot(page, "supervisor-outbox")
        context.close()
        browser.close()
    ((kind, to, body, _),) = _messages(svc, number)
    assert (kind, to) == ("receipt", f"+86{GRID_PHONE}") and number in body
    assert "刘奶奶" not in body


# -- sending through Twilio ----------------------------------------------------------------------
class FakeTwilio(ThreadingHTTPServer):
    """Twilio's Messages endpoint: answers 500 while ``failing``, refuses ``bad_numbers`` with
    Twilio's 400 (code 21211), else 201 with a message sid; keeps every request."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _TwilioHandler)
        self.requests: list[dict] = []
        self.failing = True
        self.bad_numbers: set[str] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _TwilioHandler(BaseHTTPRequestHandler):
    server: FakeTwilio

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.server.requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "form": form}
        )
        if self.server.failing:
            status, body = 500, {"code": 20500, "message": "Internal Server Error", "status": 500}
        elif form.get("To") in self.server.bad_numbers:
            status, body = (
                400,
                {
                    "code": 21211,
                    "message": f"The 'To' number {form['To']} is not a valid phone number.",
                    "status": 400,
                },
            )
        else:
            sid = "SM" + secrets.token_hex(16)
            status, body = 201, {"sid": sid, "status": "queued", "to": form.get("To")}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def _outbox_row(svc: Service, number: str, kind: str) -> dict | None:
    engine = create_engine(svc.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT o.status, o.attempts, o.provider_sid, o.error, o.body, o.to_phone "
                "FROM sms_outbox o JOIN cases c ON c.id = o.case_id "
                "WHERE c.number = :n AND o.kind = :k"
            ),
            {"n": number, "k": kind},
        ).first()
    engine.dispose()
    return dict(row._mapping) if row else None


def _wait_for(svc: Service, number: str, kind: str, done, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    row = None
    while time.monotonic() < deadline:
        row = _outbox_row(svc, number, kind)
        if row is not None and done(row):
            return row
        time.sleep(0.1)
    raise AssertionError(f"outbox row not as expected: {row}")


def test_sender_posts_through_twilio_and_retries_after_a_500(model_path, tmp_path_factory):
    """On PostgreSQL (the claim is a conditional update there as on SQLite)."""
    fake = FakeTwilio()
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    home = tmp_path_factory.mktemp("sms-live")
    db_name, url = create_pg_database()
    svc = None
    try:
        svc = _start(
            home,
            model_path,
            url,
            TWILIO_ACCOUNT_SID=sid,
            TWILIO_AUTH_TOKEN=token,
            TWILIO_FROM_NUMBER="+8610690000",
            HOTLINE_TWILIO_API_URL=fake.url,
            HOTLINE_SMS_POLL="0.2",
            HOTLINE_SMS_STATUS_URL=STATUS_URL,
        )
        n = _file(svc, "低保名额被村干部亲戚占了", phone="13900000201", channel="sms")["number"]
        failed_once = _wait_for(svc, n, "receipt", lambda r: r["attempts"] >= 1 and r["error"])
        assert failed_once["status"] == "pending" and "500" in failed_once["error"]
        assert failed_once["provider_sid"] is None
        fake.failing = False
        sent = _wait_for(svc, n, "receipt", lambda r: r["status"] == "sent")
        assert sent["attempts"] >= 2 and sent["error"] is None
        posted = [r for r in fake.requests if r["form"].get("To") == "+8613900000201"]
        assert len(posted) == sent["attempts"]
        last = posted[-1]
        assert last["path"] == f"/2010-04-01/Accounts/{sid}/Messages.json"
        assert last["form"] == {
            "To": "+8613900000201",
            "From": "+8610690000",
            "Body": sent["body"],
            "StatusCallback": STATUS_URL,
        }
        assert sent["body"].startswith(f"【监督一点通】您反映的问题已受理，案件号{n}")
        expected_auth = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()
        assert last["auth"] == expected_auth
        assert sent["provider_sid"].startswith("SM") and len(sent["provider_sid"]) == 34
        # A number Twilio refuses fails at once, without retries; the case is unaffected.
        fake.bad_numbers.add("+8613900000202")
        bad = _file(svc, "修路款不知去向", phone="13900000202", channel="voice")["number"]
        refused = _wait_for(svc, bad, "receipt", lambda r: r["status"] == "failed")
        assert refused["attempts"] == 1 and "21211" in refused["error"]
        sup = svc.client(svc.login("sup", bs.PASSWORDS["sup"]))
        assert sup.get(f"/api/v1/cases/{bad}").json()["state"] == "已受理"
        counts = sup.get("/api/v1/outbox").json()["counts"]
        assert counts == {
            "pending": 0,
            "sent": 1,
            "delivered": 0,
            "failed": 1,
            "resent": 0,
            "recorded": 0,
        }
        _delivery_reports_and_resend(svc, token, sup, fake, n, sent["provider_sid"])
    finally:
        if svc is not None:
            svc.stop()
        drop_pg_database(db_name)
        fake.shutdown()


# -- delivery status and resends -----------------------------------------------------------------
STATUS_URL = "https://hotline.example.cn/webhooks/twilio/sms-status"


def _status_callback(svc: Service, token: str, form: dict, signature: str | None = None):
    """Posted as Twilio posts it: to the service, signed for the StatusCallback URL it was
    given (the public address in front of the service)."""
    from twilio.request_validator import RequestValidator

    if signature is None:
        signature = RequestValidator(token).compute_signature(STATUS_URL, form)
    return httpx.post(
        svc.url + "/webhooks/twilio/sms-status",
        data=form,
        headers={"X-Twilio-Signature": signature} if signature else {},
        timeout=30,
    )


def _delivery_reports_and_resend(svc, token, sup, fake, number: str, sid: str) -> None:
    report = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    # Forged, unsigned, or signed with another token: refused, nothing changes.
    assert _status_callback(svc, token, report, signature="").status_code == 403
    assert _status_callback(svc, token, report, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert _status_callback(svc, "0" * 32, report).status_code == 403
    assert _outbox_row(svc, number, "receipt")["status"] == "sent"
    # Twilio's report: undelivered, error 30003 (the phone is off): 发送失败, resendable.
    r = _status_callback(svc, token, {**report, "AccountSid": "AC1", "SmsStatus": "undelivered"})
    assert r.status_code == 200, r.text
    failed = _outbox_row(svc, number, "receipt")
    assert failed["status"] == "failed" and "30003" in failed["error"]
    # A late "sent" callback does not undo the final word.
    assert _status_callback(svc, token, {**report, "MessageStatus": "sent"}).status_code == 200
    listing = sup.get("/api/v1/outbox", params={"status": "failed"}).json()
    item = next(i for i in listing["items"] if i["provider_sid"] == sid)
    assert item["delivery_status"] == "undelivered" and item["error_code"] == "30003"
    # Only supervisors resend; a resend is a new row, sent by the sender; twice is once.
    grid = svc.client(svc.login("grid", bs.PASSWORDS["grid"]))
    assert grid.post(f"/api/v1/outbox/{item['id']}/resend").status_code == 403
    again = sup.post(f"/api/v1/outbox/{item['id']}/resend")
    assert again.status_code == 200, again.text
    copy = again.json()
    assert copy["resend_of_id"] == item["id"] and copy["body"] == item["body"]
    assert sup.post(f"/api/v1/outbox/{item['id']}/resend").json()["id"] == copy["id"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        rows = sup.get("/api/v1/outbox").json()["items"]
        resent = next(i for i in rows if i["id"] == copy["id"])
        if resent["status"] == "sent":
            break
        time.sleep(0.2)
    assert resent["status"] == "sent" and resent["provider_sid"] != sid
    original = next(i for i in rows if i["id"] == item["id"])
    assert original["status"] == "resent"
    # A text that did not fail cannot be resent.
    assert sup.post(f"/api/v1/outbox/{copy['id']}/resend").status_code == 409
    delivered = {"MessageSid": resent["provider_sid"], "MessageStatus": "delivered"}
    assert _status_callback(svc, token, delivered).json()["status"] == "delivered"
    counts = sup.get("/api/v1/outbox").json()["counts"]
    assert counts["delivered"] == 1 and counts["resent"] == 1


def test_workbench_resend_button(svc, tokens):
    """A failed text shows 重发 on the outbox page; the button queues it again."""
    n = _file(svc, "村务公开栏好几个月没更新了", phone="13900000311", channel="voice")["number"]
    engine = create_engine(svc.database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE sms_outbox SET status = 'failed', error = 'x' WHERE case_id = "
                "(SELECT id FROM cases WHERE number = :n)"
            ),
            {"n": n},
        )
    engine.dispose()
    client = _http_login(svc, "sup")
    page = client.get("/workbench/outbox", params={"status": "failed"})
    assert 'data-testid="resend"' in page.text
    import re

    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    row_id = re.search(r'<tr data-id="(\d+)" data-status="failed"', page.text).group(1)
    r = client.post(f"/workbench/outbox/{row_id}/resend", data={"csrf": csrf})
    assert r.status_code == 303
    kinds = [(kind, status) for kind, _to, _body, status in _messages(svc, n)]
    assert kinds == [("receipt", "resent"), ("receipt", "recorded")]
    assert client.post(f"/workbench/outbox/{row_id}/resend", data={}).status_code in (400, 403)


# -- voicemail -----------------------------------------------------------------------------------
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE0123456789abcdef"


def test_voicemail_waits_unclassified_until_someone_types_it(svc, tokens):
    internal = {"X-Hotline-Internal-Token": svc.env["HOTLINE_INTERNAL_TOKEN"]}
    body = {
        "phone": "13900000321",
        "audio_url": RECORDING,
        "duration_seconds": 75,
        "call_id": "CA1",
    }
    url = svc.url + "/api/v1/voicemails"
    assert httpx.post(url, json=body, timeout=30).status_code == 403  # only the voice channel
    elsewhere = {**body, "audio_url": "https://evil.example.com/a.mp3"}
    assert httpx.post(url, json=elsewhere, headers=internal, timeout=30).status_code == 422
    r = httpx.post(url, json=body, headers=internal, timeout=30)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    assert httpx.post(url, json=body, headers=internal, timeout=30).json()["number"] == number
    sup = svc.client(tokens["sup"])
    time.sleep(1.5)  # the triage worker polls every 0.3 s: it must leave the recording alone
    case = sup.get(f"/api/v1/cases/{number}").json()
    assert case["triage_status"] == "待听录音" and case["channel"] == "voice"
    assert case["category"] is None and case["due_date"] is None
    assert case["audio_url"] == RECORDING and case["audio_seconds"] == 75
    # The recording is the caller's own voice: only roles that may see contact details get it.
    analyst = svc.client(tokens["ana"]).get(f"/api/v1/cases/{number}").json()
    assert analyst["audio_url"] is None and analyst["audio_seconds"] == 75
    queued = sup.get("/api/v1/cases", params={"triage": "recording"}).json()["items"]
    assert number in [c["number"] for c in queued]
    client = _http_login(svc, "sup")
    tab = client.get("/workbench/queues/recordings")
    assert tab.status_code == 200 and number in tab.text and "待听录音" in tab.text
    assert number not in client.get("/workbench/queues/review").text
    page = client.get(f"/workbench/cases/{number}")
    assert "<audio" in page.text and "电话录音" in page.text and "电话录音转写" not in page.text
    assert "media-src 'self' https://api.twilio.com" in page.headers["content-security-policy"]
    # A handler cannot type it; a supervisor can, then it is classified like any complaint.
    said = {"text": "我是李庄村的，村里低保名额给了村主任的亲戚，我们家困难却评不上"}
    handler = svc.client(tokens["civil"])
    assert handler.post(f"/api/v1/cases/{number}/transcript", json=said).status_code in (403, 404)
    r = sup.post(f"/api/v1/cases/{number}/transcript", json=said)
    assert r.status_code == 200, r.text
    assert r.json()["triage_status"] in ("待分类", "已分类")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        case = sup.get(f"/api/v1/cases/{number}").json()
        if case["triage_status"] == "已分类":
            break
        time.sleep(0.2)
    assert case["category"] is not None and case["due_date"] is not None
    assert case["audio_url"] == RECORDING
    assert sup.post(f"/api/v1/cases/{number}/transcript", json=said).status_code == 409
