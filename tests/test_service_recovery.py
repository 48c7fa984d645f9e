"""No accepted complaint is lost: the service dies between accept and classify, comes back, and
the case gets classified."""

import time

import httpx

from hotline.processes import Service, create_pg_database, drop_pg_database, service_env


def _wait_classified(svc: Service, token: str, number: str, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        case = svc.client(token).get(f"/api/v1/cases/{number}").json()
        if case["triage_status"] == "已分类":
            return case
        time.sleep(0.3)
    raise AssertionError(f"case {number} still not classified")


def _run(tmp_path, model_path, database_url):
    home = tmp_path
    missing_model = tmp_path / "not-trained-yet.joblib"
    env = service_env(home, missing_model, database_url)
    svc = Service(home, env)
    assert (
        svc.cli("create-user", "sup", "--role", "supervisor", "--password", "sup-pass-1").returncode
        == 0
    )
    svc.start()
    numbers = []
    try:
        for text in ("村里低保名额都给了干部亲戚", "五保户的供养金被克扣", "修路的钱去哪了"):
            r = httpx.post(
                svc.url + "/api/v1/complaints", json={"text": text, "phone": "13700000001"}
            )
            assert r.status_code == 201
            assert r.json()["triage_status"] == "待分类"  # stored although the classifier is down
            numbers.append(r.json()["number"])
        token = svc.login("sup", "sup-pass-1")
        pending = svc.client(token).get("/api/v1/cases", params={"triage": "pending"}).json()
        assert set(numbers) <= {c["number"] for c in pending["items"]}
    finally:
        svc.kill()  # crash: no shutdown handlers
    svc.env["HOTLINE_MODEL"] = str(model_path)
    svc.start()
    try:
        token = svc.login("sup", "sup-pass-1")
        cases = [_wait_classified(svc, token, n) for n in numbers]
        assert [c["category"] for c in cases][:2] == ["S01", "S02"]
        assert all(c["due_date"] for c in cases)
        assert all(any(h["action"] == "triaged" for h in c["history"]) for c in cases)
    finally:
        svc.stop()


def test_crash_between_accept_and_classify_on_sqlite(tmp_path, model_path):
    _run(tmp_path, model_path, None)


def test_crash_between_accept_and_classify_on_postgresql(tmp_path, model_path):
    name, url = create_pg_database()
    try:
        _run(tmp_path, model_path, url)
    finally:
        drop_pg_database(name)
