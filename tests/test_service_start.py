"""A fresh install: the service starts on the embedded default, creates one supervisor account,
and documents itself."""

import httpx

from hotline.processes import Service, service_env


def test_fresh_service_creates_a_first_supervisor_and_serves_docs(tmp_path, model_path):
    svc = Service(tmp_path, service_env(tmp_path, model_path, None)).start()
    try:
        note = (tmp_path / "initial-admin.txt").read_text(encoding="utf-8")
        password = note.split("password: ")[1].strip()
        token = svc.login("admin", password)
        units = svc.client(token).post(
            "/api/v1/units", json={"name": "城关镇民政办", "kind": "civil_affairs"}
        )
        assert units.status_code == 201
        assert (tmp_path / "hotline.db").exists()
        assert httpx.get(svc.url + "/docs").status_code == 200
        spec = httpx.get(svc.url + "/openapi.json").json()
        assert {"/api/v1/complaints", "/open311/v2/services.json"} <= set(spec["paths"])
        health = httpx.get(svc.url + "/healthz").json()
        assert health == {
            "status": "ok",
            "model": True,
            "model_version": None,  # the tests pin one model file (HOTLINE_MODEL)
            "database": "sqlite",
        }
    finally:
        svc.stop()
    # A restart keeps the accounts and does not create another admin.
    svc.start()
    try:
        assert svc.login("admin", password)
        assert (tmp_path / "initial-admin.txt").read_text(encoding="utf-8") == note
    finally:
        svc.stop()
