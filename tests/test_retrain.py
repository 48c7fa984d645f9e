"""Issue 8 end to end, against a real `hotline serve` on SQLite that follows the model registry:
a supervisor corrects 100 cases through the API, an analyst retrains (`hotline train --from-db`),
the new model knows those programmes (and paraphrases it never saw) while the frozen test split
does not get worse; promotion switches the running service without a restart or a failed
request, the gate refuses a worse model unless forced with a reason, rollback goes back, the
labels export, and the workbench's 模型 page and drift watch show it all."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import threading
import time

import httpx
import pytest

from api.retrain import promote
from classifiers.model import TrainParams, train_model
from classifiers.registry import Registry, RegistryError
from hotline.processes import HOTLINE, Service, service_env
from tests import browser_support as bs
from tests.retrain_support import corrections, paraphrases


@pytest.fixture(scope="module")
def svc(model, tmp_path_factory):
    """The service with no HOTLINE_MODEL: it serves the registry's active model, v1."""
    home = tmp_path_factory.mktemp("retrain")
    env = service_env(home, home / "unused.joblib", None)
    env.pop("HOTLINE_MODEL")
    registry = Registry(home / "models")
    registry.activate_if_none(registry.register(model, {"from_db": False}))
    bs.demo_accounts(f"sqlite:///{home / 'hotline.db'}")
    service = Service(home, env).start()
    service.registry = registry
    yield service
    service.stop()


def _cli(svc, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HOTLINE, *args], env=svc.env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def corrected(svc) -> list[dict]:
    """100 complaints filed and classified by v1, then each set to the county's item by a
    supervisor through the API (a training label with who and when)."""
    sup = svc.client(svc.login("sup", bs.PASSWORDS["sup"]))
    out = []
    for i, (text, code) in enumerate(corrections()):
        case = bs.file_case(svc.url, text, f"139{i:08d}")
        r = sup.post(f"/api/v1/cases/{case['number']}/category", json={"category": code})
        assert r.status_code == 200, r.text
        out.append({"number": case["number"], "text": text, "code": code, "v1": case["category"]})
    return out


@pytest.fixture(scope="module")
def candidate(svc, corrected) -> str:
    result = _cli(svc, "train", "--from-db")
    assert result.returncode == 0, result.stderr
    assert "已登记为 v2" in result.stdout and "升级检查：通过" in result.stdout
    return "v2"


def test_corrections_teach_the_new_model_without_hurting_the_frozen_split(
    svc, corrected, candidate
):
    wrong_before = sum(c["v1"] != c["code"] for c in corrected)
    assert wrong_before >= 80  # the programmes are new to v1
    meta = svc.registry.meta(candidate)
    assert meta["from_db"] and meta["parent"] == "v1"
    assert meta["data"]["db_labels"] == 100 and meta["data"]["conflicts"] == 0
    assert meta["data"]["db_trained"] + meta["data"]["db_held_out"] == 100
    assert 8 <= meta["data"]["db_held_out"] <= 35

    model = svc.registry.load(candidate)
    held_out = set(
        json.loads((svc.home / "models/registry/v2/db_cases.json").read_text())["held_out"]
    )
    trained = [c for c in corrected if f"case:{c['number']}" not in held_out]
    unseen = [c for c in corrected if f"case:{c['number']}" in held_out]

    def right(items: list[tuple[str, str]]) -> float:
        predictions = model.predict([text for text, _ in items])
        return sum(
            p.category == code for p, (_, code) in zip(predictions, items, strict=True)
        ) / len(items)

    assert right([(c["text"], c["code"]) for c in trained]) == 1.0
    assert right([(c["text"], c["code"]) for c in unseen]) >= 0.9
    assert right(paraphrases()) >= 0.9

    evaluation = meta["evaluation"]
    frozen = evaluation["frozen"]
    assert frozen["n"] == 640
    assert frozen["candidate"]["macro_f1"] >= frozen["active"]["macro_f1"] - 0.005
    assert evaluation["gate"]["ok"] and evaluation["compared_with"] == "v1"
    assert evaluation["holdout"]["candidate"]["accuracy"] >= 0.9
    assert evaluation["holdout"]["active"]["accuracy"] <= 0.3
    assert "参与了候选模型的训练" in evaluation["recent"]["note"]
    folder = svc.home / "models" / "registry" / candidate
    assert (folder / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "各事项 F1 变化" in (folder / "report.html").read_text(encoding="utf-8")


def _hammer(svc, text: str, stop: threading.Event, results: list) -> None:
    with httpx.Client(base_url=svc.url, timeout=30) as client:
        while not stop.is_set():
            r = client.post("/api/v1/classify", json={"text": text})
            results.append((r.status_code, r.json().get("category")))


def _switch_under_load(svc, text: str, command: tuple[str, ...], expect: str) -> list:
    """Run a registry command while four clients classify ``text``; returns the answers."""
    stop, results = threading.Event(), []
    threads = [threading.Thread(target=_hammer, args=(svc, text, stop, results)) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    done = _cli(svc, *command)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (results and results[-1][1] == expect):
        time.sleep(0.1)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    return results


def test_promotion_and_rollback_switch_the_running_service_without_failing_requests(
    svc, corrected, candidate
):
    pid = svc.proc.pid
    case = next(c for c in corrected if c["v1"] != c["code"])
    reason = "加入100件人工更正：防贫保、孝善基金等本县项目"
    results = _switch_under_load(
        svc, case["text"], ("models", "promote", candidate, "--reason", reason), case["code"]
    )
    assert all(status == 200 for status, _ in results), results[:5]
    answers = [category for _, category in results]
    assert answers[0] == case["v1"] and answers[-1] == case["code"]
    first_new = answers.index(case["code"])
    assert all(a == case["code"] for a in answers[first_new + 4 :])  # no flapping back
    assert len(results) >= 20
    assert svc.registry.active() == candidate
    meta = svc.registry.meta(candidate)
    assert meta["promotion_reason"] == reason and meta["promoted_at"] and not meta["forced"]

    results = _switch_under_load(svc, case["text"], ("models", "rollback"), case["v1"])
    assert all(status == 200 for status, _ in results)
    assert results[-1][1] == case["v1"] and svc.registry.active() == "v1"
    assert svc.proc.pid == pid and svc.proc.poll() is None  # never restarted


def test_the_gate_refuses_a_worse_model_unless_forced_with_a_reason(svc, train_examples, taxonomy):
    few = train_examples[::12]  # a twelfth of the corpus: clearly worse
    worse = train_model([e.text for e in few], [e.label for e in few], taxonomy, TrainParams())
    version = svc.registry.register(worse, {"from_db": False})

    refused = _cli(svc, "models", "promote", version)
    assert refused.returncode == 1
    assert "未通过升级检查" in refused.stderr and "macro-F1" in refused.stderr
    assert svc.registry.active() == "v1"
    with pytest.raises(RegistryError, match="必须写明原因"):
        promote(svc.registry, version, taxonomy, force=True, reason="  ")
    forced = _cli(svc, "models", "promote", version, "--force", "--reason", "演示：明知更差")
    assert forced.returncode == 0, forced.stderr
    meta = svc.registry.meta(version)
    assert meta["forced"] and meta["promotion_reason"] == "演示：明知更差"
    assert not meta["evaluation"]["gate"]["ok"]
    listing = _cli(svc, "models", "list").stdout
    assert f"* {version}" in listing and "强制" in listing
    back = _cli(svc, "models", "rollback", "--reason", "恢复")
    assert back.returncode == 0 and svc.registry.active() == "v1"


def test_labels_export_for_analysts_without_contact_details(svc, corrected):
    ana = svc.client(svc.login("ana", bs.PASSWORDS["ana"]))
    r = ana.get("/api/v1/labels/export", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 100
    assert set(rows[0]) == {
        *("case_number", "text", "label", "previous", "kind", "who", "when"),
        *("origin", "reason"),  # an analyst's label from the queue (issue 17)
    }
    assert {row["origin"] for row in rows} == {""}  # all supervisors' decisions here
    by_number = {row["case_number"]: row for row in rows}
    for c in corrected[:10]:
        row = by_number[c["number"]]
        assert row["text"] == c["text"] and row["label"] == c["code"] and row["who"] == "sup"
        assert row["kind"] == ("confirm" if c["v1"] == c["code"] else "correct")
        assert row["previous"] == c["v1"]
    assert "1390000" not in r.text  # no phone numbers

    lines = ana.get("/api/v1/labels/export", params={"format": "jsonl"}).text.splitlines()
    cli = _cli(svc, "export-labels", "--format", "jsonl")
    assert cli.returncode == 0 and cli.stdout.splitlines() == lines
    assert json.loads(lines[0])["when"]
    handler = svc.client(svc.login("civil", bs.PASSWORDS["civil"]))
    assert handler.get("/api/v1/labels/export").status_code == 403
    assert httpx.get(svc.url + "/api/v1/labels/export").status_code == 401
    assert ana.get("/api/v1/labels/export", params={"format": "xlsx"}).status_code == 422


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_models_page_compares_promotes_and_rolls_back(svc, candidate):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = bs.launch(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        bs.login(page, svc.url, "sup")
        page.click("a[data-nav=models]")
        assert page.locator("tr[data-version=v1] [data-active]").count() == 1
        assert page.locator("tr[data-version]").count() == 3
        page.click(f"tr[data-version={candidate}] a")
        assert page.locator("[data-gate=ok]").count() == 1
        assert page.locator("table.item-deltas tbody tr").count() == 36
        assert page.locator("tr[data-set=holdout] td.cand-acc").inner_text().startswith("1.0")
        assert page.evaluate("document.querySelector('img.confusion').naturalWidth") > 100
        bs.shot(page, "models-report")
        form = page.locator("form[data-action=promote]")
        form.locator("textarea[name=reason]").fill("工作台启用")
        form.locator("button[type=submit]").click()
        assert "已启用模型 v2" in page.locator(".flash").inner_text()
        page.goto(svc.url + "/workbench/models")
        assert page.locator(f"tr[data-version={candidate}] [data-active]").count() == 1
        page.locator("form[data-action=rollback] button").click()
        assert "回退到 v1" in page.locator(".flash").inner_text()
        assert svc.registry.active() == "v1"
        assert svc.registry.meta(candidate)["promoted_by"] == "sup"

        # The dashboard's drift watch: 100 cases this week, all about five items.
        page.goto(svc.url + "/workbench/dashboard")
        drift = page.locator("#drift")
        assert "JS散度" in " ".join(drift.locator("[data-drift-alert]").all_inner_texts())
        assert drift.locator("tbody tr[data-week]").count() == 8
        bs.shot(page, "dashboard-drift")
        context.close()

        analyst = browser.new_context()
        page = analyst.new_page()
        bs.login(page, svc.url, "ana")
        page.goto(f"{svc.url}/workbench/models/{candidate}")
        assert page.locator("table.item-deltas").count() == 1
        assert page.locator("form[data-action]").count() == 0  # analysts read, never switch
        analyst.close()
        handler = browser.new_context()
        page = handler.new_page()
        bs.login(page, svc.url, "civil")
        assert page.goto(svc.url + "/workbench/models").status == 403
        handler.close()
        browser.close()
    assert not dialogs
