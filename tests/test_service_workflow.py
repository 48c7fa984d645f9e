"""Staff work and the office's rules, over real HTTP, on SQLite and PostgreSQL."""

import httpx
import pytest
from sqlalchemy import create_engine, text


@pytest.fixture(scope="module")
def tokens(service):
    return {
        name: service.login(name, f"{name}-pass-1")
        for name in ("sup", "civil", "farm", "ana", "grid")
    }


def _file(service, text_, phone, **extra):
    r = httpx.post(
        service.url + "/api/v1/complaints",
        json={"text": text_, "phone": phone, **extra},
        params={"classify": "now"},  # the item and any joined case are needed at once
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return r.json()


def _unit_id(service, token, name):
    units = service.client(token).get("/api/v1/units").json()
    return next(u["id"] for u in units if u["name"] == name)


def test_full_lifecycle_with_history_and_rating(service, tokens):
    sup, civil = service.client(tokens["sup"]), service.client(tokens["civil"])
    case = _file(
        service,
        "我们村低保评定不公平，村主任把名额给了他侄子",
        "13900000001",
        village="河湾村",
        township="城关镇",
    )
    number = case["number"]
    unit = _unit_id(service, tokens["sup"], "城关镇民政办")
    assert civil.get(f"/api/v1/cases/{number}").status_code == 404  # not yet theirs
    r = sup.post(f"/api/v1/cases/{number}/assign", json={"unit_id": unit})
    assert r.status_code == 200 and r.json()["state"] == "已转办"
    assert civil.get(f"/api/v1/cases/{number}").status_code == 200
    assert (
        civil.post(f"/api/v1/cases/{number}/transition", json={"to": "办理中"}).json()["state"]
        == "办理中"
    )
    no_reply = civil.post(f"/api/v1/cases/{number}/transition", json={"to": "已办结"})
    assert no_reply.status_code == 422 and "答复" in no_reply.json()["detail"]
    done = civil.post(
        f"/api/v1/cases/{number}/transition",
        json={"to": "已办结", "reply": "经核查，已取消其侄子低保资格并重新评议。"},
    )
    assert done.status_code == 200 and done.json()["state"] == "已办结"
    illegal = civil.post(f"/api/v1/cases/{number}/transition", json={"to": "办理中"})
    assert illegal.status_code == 409 and "不能变更" in illegal.json()["detail"]
    status = httpx.post(
        service.url + "/api/v1/status", json={"number": number, "phone": "13900000001"}
    ).json()
    assert any("重新评议" in s["what"] for s in status["steps"])
    rated = httpx.post(
        service.url + "/api/v1/rating",
        json={"number": number, "phone": "13900000001", "rating": "不满意", "comment": "还是没变"},
    )
    assert rated.status_code == 200 and rated.json()["state"] == "重新办理"
    history = sup.get(f"/api/v1/cases/{number}").json()["history"]
    moves = [(h["from_state"], h["to_state"]) for h in history if h["action"] == "state"]
    assert moves == [
        ("已受理", "已转办"),
        ("已转办", "办理中"),
        ("办理中", "已办结"),
        ("已办结", "重新办理"),
    ]
    assert all(h["actor"] for h in history)
    bad_rating = httpx.post(
        service.url + "/api/v1/rating",
        json={"number": number, "phone": "13900000001", "rating": "还行"},
    )
    assert bad_rating.status_code == 409


def test_handler_never_sees_identity_and_contact_reads_are_audited(service, tokens):
    sup, civil, ana = (service.client(tokens[n]) for n in ("sup", "civil", "ana"))
    case = _file(service, "特困供养金被村会计扣了两个月", "13900000002", name="李秀英")
    number = case["number"]
    sup.post(
        f"/api/v1/cases/{number}/assign",
        json={"unit_id": _unit_id(service, tokens["sup"], "城关镇民政办")},
    )
    seen = civil.get(f"/api/v1/cases/{number}").text
    assert "13900000002" not in seen and "李秀英" not in seen
    listing = civil.get("/api/v1/cases", params={"limit": 500}).text
    assert "13900000002" not in listing and "李秀英" not in listing
    assert civil.get(f"/api/v1/cases/{number}/contact").status_code == 403
    assert ana.get(f"/api/v1/cases/{number}/contact").status_code == 403
    assert "13900000002" not in ana.get(f"/api/v1/cases/{number}").text
    contact = sup.get(f"/api/v1/cases/{number}/contact")
    assert contact.json() == {
        "number": number,
        "anonymous": False,
        "name": "李秀英",
        "phone": "13900000002",
        "text_original": None,  # nothing in the text needed masking
    }
    url = service.env.get("DATABASE_URL") or f"sqlite:///{service.home / 'hotline.db'}"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.action FROM audit_log a JOIN cases c ON c.id = a.case_id "
                "WHERE c.number = :n"
            ),
            {"n": number},
        ).all()
    engine.dispose()
    assert [r[0] for r in rows] == ["view_contact"]


def test_handlers_see_only_their_units_cases(service, tokens):
    sup, farm = service.client(tokens["sup"]), service.client(tokens["farm"])
    case = _file(service, "村里集体厂房租给了书记的儿子，一年才收两千块", "13900000003")
    farm_unit = _unit_id(service, tokens["sup"], "城关镇农经站")
    sup.post(f"/api/v1/cases/{case['number']}/assign", json={"unit_id": farm_unit})
    mine = farm.get("/api/v1/cases", params={"limit": 500}).json()
    assert mine["total"] >= 1
    assert all(item["unit"]["name"] == "城关镇农经站" for item in mine["items"])
    assert (
        farm.post(f"/api/v1/cases/{case['number']}/assign", json={"unit_id": farm_unit}).status_code
        == 403
    )


def test_complaint_about_village_cadres_never_goes_to_that_village(service, tokens):
    sup = service.client(tokens["sup"])
    case = _file(service, "河湾村书记把集体鱼塘私下包给自己亲戚", "13900000004", village="河湾村")
    village_unit = _unit_id(service, tokens["sup"], "河湾村村委会")
    r = sup.post(f"/api/v1/cases/{case['number']}/assign", json={"unit_id": village_unit})
    assert r.status_code == 409 and "不能交由本村办理" in r.json()["detail"]
    ok = sup.post(
        f"/api/v1/cases/{case['number']}/assign",
        json={"unit_id": _unit_id(service, tokens["sup"], "城关镇农经站")},
    )
    assert ok.status_code == 200


def test_correction_is_kept_as_a_label_and_changes_the_item(service, tokens):
    sup = service.client(tokens["sup"])
    case = _file(service, "村里的光伏收益说是给大家分红，几年了一分钱没见到", "13900000005")
    r = sup.post(f"/api/v1/cases/{case['number']}/category", json={"category": "S21"})
    body = r.json()
    assert (
        body["category"] == "S21"
        and body["category_confirmed"]
        and body["predicted_category"] == case["category"]
    )
    assert any("事项更正" in (h["note"] or "") for h in body["history"])
    assert (
        sup.post(f"/api/v1/cases/{case['number']}/category", json={"category": "Z99"}).status_code
        == 409
    )
    ana = service.client(tokens["ana"])
    assert (
        ana.post(f"/api/v1/cases/{case['number']}/category", json={"category": "S22"}).status_code
        == 403
    )


def test_out_of_list_is_referred_with_a_reason_told_to_the_resident(service, tokens):
    sup = service.client(tokens["sup"])
    case = _file(service, "隔壁邻居家的狗天天晚上叫，吵得睡不着", "13900000006")
    assert case["category"] == "OUT"
    assert sup.post(f"/api/v1/cases/{case['number']}/refer", json={"reason": ""}).status_code == 422
    r = sup.post(
        f"/api/v1/cases/{case['number']}/refer", json={"reason": "请拨打12345市民热线反映噪音问题"}
    )
    assert r.json()["state"] == "清单外转办"
    status = httpx.post(
        service.url + "/api/v1/status", json={"number": case["number"], "phone": "13900000006"}
    ).json()
    assert any("12345" in s["what"] for s in status["steps"])


def test_repeat_from_same_reporter_joins_and_escalates(service, tokens):
    first = _file(
        service, "我家的高龄津贴从今年三月起就停了，村里说系统问题", "13900000007", village="柳树村"
    )
    again = _file(
        service,
        "我又来反映，高龄津贴到现在还没发，八十六岁的老人等不起",
        "13900000007",
        village="柳树村",
    )
    assert again["state"] == "已合并" and again["joined_case"] == first["number"]
    assert first["number"] in again["message"]
    lead = service.client(tokens["sup"]).get(f"/api/v1/cases/{first['number']}").json()
    assert lead["escalation_level"] == 1
    assert any(h["action"] == "escalated" for h in lead["history"])
    escalated = (
        service.client(tokens["sup"])
        .get("/api/v1/cases", params={"escalated": True, "limit": 500})
        .json()
    )
    assert first["number"] in [c["number"] for c in escalated["items"]]
    status = httpx.post(
        service.url + "/api/v1/status", json={"number": again["number"], "phone": "13900000007"}
    ).json()
    assert first["number"] in status["summary"]


def test_many_reporters_merged_into_one_event_escalate(service, tokens):
    sup = service.client(tokens["sup"])
    lead = _file(service, "河湾村修路的钱被村长拿走一半，路到现在没修好", "13900000011")
    for n, phone in enumerate(["13900000012", "13900000013"]):
        other = _file(service, f"河湾村那条路偷工减料，钱不知去向（第{n + 2}人反映）", phone)
        r = sup.post(f"/api/v1/cases/{other['number']}/merge", json={"into": lead["number"]})
        assert r.status_code == 200 and r.json()["lead_case"] == lead["number"]
    body = sup.get(f"/api/v1/cases/{lead['number']}").json()
    assert body["escalation_level"] == 1
    assert any("3名群众" in (h["note"] or "") for h in body["history"])
    split = sup.post(f"/api/v1/cases/{other['number']}/split")
    assert split.json()["state"] == "已受理" and split.json()["lead_case"] is None


def test_grid_worker_files_for_a_resident_and_sees_only_their_filings(service, tokens):
    grid = service.client(tokens["grid"])
    r = grid.post(
        "/api/v1/complaints",
        json={
            "text": "替村里王奶奶反映，她的残疾人护理补贴半年没到账",
            "channel": "grid_worker",
            "phone": "13900000020",
            "name": "王桂兰",
        },
    )
    assert r.status_code == 201
    mine = grid.get("/api/v1/cases").json()
    assert [c["number"] for c in mine["items"]] == [r.json()["number"]]
    assert grid.get(f"/api/v1/cases/{r.json()['number']}/contact").status_code == 403


def test_tokens_expire_and_forged_roles_change_nothing(service, tokens):
    import jwt

    expired = jwt.encode({"sub": "1", "exp": 1}, service.env["HOTLINE_SECRET"], algorithm="HS256")
    assert service.client(expired).get("/api/v1/cases").status_code == 401
    forged = jwt.encode(
        {"sub": "1", "exp": 4102444800, "role": "supervisor"}, "wrong-secret", algorithm="HS256"
    )
    assert service.client(forged).get("/api/v1/cases").status_code == 401
    assert httpx.get(service.url + "/api/v1/cases").status_code == 401
    bad = httpx.post(
        service.url + "/api/v1/auth/token", json={"username": "sup", "password": "nope"}
    )
    assert bad.status_code == 401
    ana = service.client(tokens["ana"])
    assert ana.post("/api/v1/units", json={"name": "假单位", "kind": "x"}).status_code == 403


def test_metrics_count_completion_on_time_and_satisfaction(service, tokens):
    sup, civil = service.client(tokens["sup"]), service.client(tokens["civil"])
    unit = _unit_id(service, tokens["sup"], "城关镇民政办")
    case = _file(service, "临时救助申请交上去三个月没人管", "13900000030", township="南港镇")
    sup.post(f"/api/v1/cases/{case['number']}/assign", json={"unit_id": unit})
    civil.post(f"/api/v1/cases/{case['number']}/transition", json={"to": "办理中"})
    civil.post(
        f"/api/v1/cases/{case['number']}/transition", json={"to": "已办结", "reply": "已审批发放"}
    )
    httpx.post(
        service.url + "/api/v1/rating",
        json={"number": case["number"], "phone": "13900000030", "rating": "满意"},
    )
    _file(service, "临时救助被干部亲戚冒领", "13900000031", township="南港镇")
    m = sup.get("/api/v1/metrics", params={"by": "township"}).json()
    nangang = m["groups"]["南港镇"]
    assert nangang["total"] == 2 and nangang["closed"] == 1
    assert nangang["completion_rate"] == 0.5 and nangang["on_time_rate"] == 1.0
    assert nangang["satisfaction_rate"] == 1.0
    assert set(sup.get("/api/v1/metrics", params={"by": "month"}).json()["groups"])
    assert sup.get("/api/v1/metrics", params={"by": "weather"}).status_code == 422


def test_daily_review_lists_due_soon_and_escalates_overdue_once(service, tokens):
    sup = service.client(tokens["sup"])
    case = _file(service, "村里公益林补偿款被扣了一半", "13900000040")
    url = service.env.get("DATABASE_URL") or f"sqlite:///{service.home / 'hotline.db'}"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # make it overdue: the deadline passed last week
        conn.execute(
            text("UPDATE cases SET due_date = :d WHERE number = :n"),
            {"d": "2026-01-05", "n": case["number"]},
        )
    engine.dispose()
    review = sup.get("/api/v1/review/daily").json()
    assert case["number"] in [c["number"] for c in review["overdue"]]
    first = service.cli("daily-review")
    second = service.cli("daily-review")
    assert first.returncode == 0 and case["number"] in first.stdout
    import json

    assert case["number"] in json.loads(first.stdout)["escalated"]
    assert case["number"] not in json.loads(second.stdout)["escalated"]
    overdue = sup.get("/api/v1/cases", params={"overdue": True, "limit": 500}).json()
    assert case["number"] in [c["number"] for c in overdue["items"]]
