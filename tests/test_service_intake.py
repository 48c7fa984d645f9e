"""Intake, idempotency, bad input and resident lookups over real HTTP, on SQLite and PostgreSQL."""

import json
import time
import uuid

import httpx
import pytest

from api.case_numbers import is_valid


def _file(svc, **body):
    """File and classify before the answer (``?classify=now``), as the bot does."""
    body.setdefault("text", "我们村的低保被村书记给了他的亲戚，真正困难的人家评不上")
    body.setdefault("channel", "web")
    return httpx.post(
        svc.url + "/api/v1/complaints", json=body, params={"classify": "now"}, timeout=30
    )


def test_complaint_is_stored_first_and_classified_in_the_background(service):
    r = httpx.post(
        service.url + "/api/v1/complaints",
        json={"text": "五保老人的供养金被组长扣了三个月", "phone": "13800000009"},
    )
    assert r.status_code == 201
    number = r.json()["number"]
    assert r.json()["state"] == "已受理" and is_valid(number)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = httpx.post(
            service.url + "/api/v1/status", json={"number": number, "phone": "13800000009"}
        ).json()
        if "特困人员救助供养" in status["summary"]:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"not classified in time: {status}")
    assert status["due_date"]


def test_complaint_is_accepted_classified_and_dated(service):
    r = _file(service, phone="13800000001", village="河湾村", township="城关镇")
    assert r.status_code == 201, r.text
    body = r.json()
    assert is_valid(body["number"])
    assert body["state"] == "已受理"
    assert body["triage_status"] == "已分类" and body["category"] == "S01"
    assert body["category_name"] == "最低生活保障"
    assert body["due_date"] > body["received_at"][:10]
    assert body["received_at"].endswith("+08:00")
    assert body["number"] in body["message"]


def test_resent_request_with_same_key_yields_one_case(service):
    key = str(uuid.uuid4())
    first = _file(service, phone="13800000002", idempotency_key=key)
    again = _file(service, phone="13800000002", idempotency_key=key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json()["number"] == again.json()["number"]
    header_key = str(uuid.uuid4())
    a = httpx.post(
        service.url + "/api/v1/complaints",
        json={"text": "五保老人的供养金三个月没发"},
        headers={"Idempotency-Key": header_key},
    )
    b = httpx.post(
        service.url + "/api/v1/complaints",
        json={"text": "五保老人的供养金三个月没发"},
        headers={"Idempotency-Key": header_key},
    )
    assert a.json()["number"] == b.json()["number"]
    clash = _file(service, text="完全不同的一件事：村里的路灯坏了", idempotency_key=key)
    assert clash.status_code == 409
    assert "幂等键" in clash.json()["detail"]


def test_concurrent_resends_create_one_case(service):
    import concurrent.futures

    key = str(uuid.uuid4())
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _file(service, idempotency_key=key), range(8)))
    assert {r.status_code for r in results} <= {200, 201}
    assert len({r.json()["number"] for r in results}) == 1


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"text": ""}, 422, "text"),
        ({"text": "   "}, 422, "text"),
        ({"text": "低" * 4001}, 422, "text"),
        ({"text": 12345}, 422, "text"),
        ({"text": "低保不公", "channel": "carrier-pigeon"}, 422, "channel"),
        ({"text": "低保不公", "phone": "call me"}, 422, "phone"),
        ({"text": "低保不公", "role": "supervisor"}, 422, "role"),
        ({"text": "低保不公", "state": "已办结"}, 422, "state"),
        ({"text": "低保不公", "anonymous": "maybe"}, 422, "anonymous"),
        ({"text": "低保不公", "channel": "grid_worker"}, 403, "网格员"),
        ({"text": "低保不公", "channel": "staff"}, 403, "工作人员"),
    ],
)
def test_bad_input_gets_a_clear_4xx(service, body, status, needle):
    r = httpx.post(service.url + "/api/v1/complaints", json=body, timeout=30)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert needle in json.dumps(problem, ensure_ascii=False)


def test_malformed_bodies_are_refused_not_crashed(service):
    url = service.url + "/api/v1/complaints"
    headers = {"content-type": "application/json"}
    bad_utf8 = httpx.post(url, content=b'{"text": "\xff\xfe"}', headers=headers)
    assert bad_utf8.status_code == 400 and "UTF-8" in bad_utf8.json()["detail"]
    assert httpx.post(url, content=b"not json at all", headers=headers).status_code == 422
    assert httpx.post(url, content=b"[1,2,3]", headers=headers).status_code == 422
    huge = httpx.post(url, content=b'{"text": "' + b"a" * 200_000 + b'"}', headers=headers)
    assert huge.status_code == 413 and huge.json()["title"] == "内容过大"

    def chunks():
        yield b'{"text": "'
        for _ in range(100):
            yield b"b" * 4096
        yield b'"}'

    streamed = httpx.post(url, content=chunks(), headers=headers)  # no Content-Length
    assert streamed.status_code == 413
    forged = httpx.post(
        url, json={"text": "低保不公"}, headers={"Authorization": "Bearer forged.token.here"}
    )
    assert forged.status_code == 401


def test_resident_status_needs_number_and_the_filing_phone(service):
    filed = _file(service, text="俺村五保户的供养金被组长扣了一半", phone="13800000003").json()
    number = filed["number"]
    ok = httpx.post(service.url + "/api/v1/status", json={"number": number, "phone": "13800000003"})
    assert ok.status_code == 200
    status = ok.json()
    assert status["number"] == number and status["state"] == "已受理"
    # The number is written digit by digit, so a voice reads it one digit at a time.
    assert "特困人员救助供养" in status["summary"] and " ".join(number) in status["summary"]
    assert status["steps"][0]["what"] == "收到您的反映，已登记"
    spoken = " ".join(number[:4]) + "  " + number[4:]
    chinese = "".join("零一二三四五六七八九"[int(d)] for d in number).replace("一", "幺", 1)
    for variant in (
        spoken,
        chinese,
        number.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ):
        r = httpx.post(
            service.url + "/api/v1/status", json={"number": variant, "phone": "138 0000 0003"}
        )
        assert r.status_code == 200, variant
    wrong_phone = httpx.post(
        service.url + "/api/v1/status", json={"number": number, "phone": "13899999999"}
    )
    wrong_number = httpx.post(
        service.url + "/api/v1/status", json={"number": "12345678", "phone": "13800000003"}
    )
    assert wrong_phone.status_code == wrong_number.status_code == 404
    assert wrong_phone.json()["detail"] == wrong_number.json()["detail"]  # nothing to probe with


def test_anonymous_complaint_keeps_no_name(service):
    sup = service.login("sup", "sup-pass-1")
    r = _file(
        service,
        text="村会计用白条报账，招待费一年十几万",
        name="王大山",
        anonymous=True,
        phone="13800000004",
    )
    number = r.json()["number"]
    contact = service.client(sup).get(f"/api/v1/cases/{number}/contact").json()
    assert contact["anonymous"] is True and contact["name"] is None


def test_a_person_asked_for_without_a_phone_is_kept_in_the_case_history(service):
    """An anonymous resident who wanted a person but left no phone: the matter is filed, and
    staff see the request for a person (no callback is possible); a plain filing has none."""
    sup = service.client(service.login("sup", "sup-pass-1"))
    text = "东门社区的路灯坏了大半年，维护费年年拨"
    wanted = _file(service, text=text, anonymous=True, asked_for_person=True)
    plain = _file(service, text="东门社区的垃圾箱坏了没人修，清运费年年拨", anonymous=True)
    assert wanted.status_code == plain.status_code == 201
    history = sup.get(f"/api/v1/cases/{wanted.json()['number']}").json()["history"]
    notes = [h["note"] for h in history if h["action"] == "handoff"]
    assert notes == ["居民请求人工服务，但没留电话，无法回电"]
    history = sup.get(f"/api/v1/cases/{plain.json()['number']}").json()["history"]
    assert not [h for h in history if h["action"] == "handoff"]


def test_a_name_left_on_an_earlier_case_never_reaches_an_anonymous_one(service):
    """The reporter is found by phone: the same resident files once named, then anonymously."""
    sup = service.client(service.login("sup", "sup-pass-1"))
    phone = "13800000014"
    named = _file(service, text="低保名额给了村主任的亲戚", name="赵桂芝", phone=phone)
    hidden = _file(service, text="村里修路的钱被挪用了", anonymous=True, phone=phone)
    first = sup.get(f"/api/v1/cases/{named.json()['number']}/contact").json()
    second = sup.get(f"/api/v1/cases/{hidden.json()['number']}/contact").json()
    assert first["name"] == "赵桂芝"
    assert second["anonymous"] is True and second["name"] is None
    assert second["phone"] == phone  # the callback number is still there for supervisors
    # Another person on the same phone (a family's one phone) gives another name: their own.
    other = _file(service, text="高龄补贴一年没发了", name="赵德福", phone=phone)
    third = sup.get(f"/api/v1/cases/{other.json()['number']}/contact").json()
    assert third["name"] == "赵德福"
    assert sup.get(f"/api/v1/cases/{named.json()['number']}/contact").json()["name"] == "赵桂芝"


def test_open311_view_shows_items_and_states_but_never_texts_or_phones(service):
    filed = _file(
        service,
        text="集体鱼塘私下包给了村长小舅子，租金多少没人知道",
        phone="13800000005",
        village="河湾村",
    ).json()
    services = httpx.get(service.url + "/open311/v2/services.json").json()
    assert len(services) == 36 and {"service_code", "service_name", "description"} <= set(
        services[0]
    )
    listing = httpx.get(service.url + "/open311/v2/requests.json", params={"status": "open"}).text
    assert "13800000005" not in listing and "小舅子" not in listing
    # The feed names cases by their own random ids, never by the case number (which, with a
    # phone, opens the resident's status page).
    assert filed["number"] not in listing
    public_id = json.loads(listing)[0]["service_request_id"]  # newest first: the case above
    assert public_id != filed["number"] and len(public_id) == 16
    one = httpx.get(service.url + f"/open311/v2/requests/{public_id}.json").json()
    assert one[0]["service_request_id"] == public_id and one[0]["address"] == "河湾村"
    assert one[0]["status"] == "open" and one[0]["service_code"] == filed["category"]
    by_number = httpx.get(service.url + f"/open311/v2/requests/{filed['number']}.json")
    assert by_number.status_code == 404
    assert httpx.get(service.url + "/open311/v2/requests/99999999.json").status_code == 404
