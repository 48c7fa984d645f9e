"""The model registry, the training data rules, the promotion gate and the model swap in the
service's ModelHolder, in process and fast (small models trained on four items)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from api.model_report import report_env
from api.triage import ModelHolder
from classifiers.compare import (
    MAX_ITEM_DROP,
    Changed,
    CheckSet,
    ItemDelta,
    SetScore,
    compare,
    gate,
)
from classifiers.model import TrainParams, train_model
from classifiers.registry import Registry, RegistryError
from classifiers.training_set import Labelled, assemble, data_hash, text_key

CODES = ("S01", "S09", "S17", "OUT")


@pytest.fixture(scope="module")
def small_models(train_examples, taxonomy):
    """Two quick models on four items: a good one, and one that never saw S17."""
    chosen = [e for e in train_examples if e.label in CODES]
    fewer = [e for e in chosen if e.label != "S17"]
    return tuple(
        train_model(
            [e.text for e in data],
            [e.label for e in data],
            taxonomy,
            TrainParams(tuning_folds=3),
            metadata={"data_hash": data_hash((e.label, e.text) for e in data)},
        )
        for data in (chosen, fewer)
    )


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_VAR", str(tmp_path))
    monkeypatch.delenv("HOTLINE_MODEL", raising=False)
    return Registry(tmp_path / "models")


def test_versions_are_kept_with_their_metadata_and_rollback_walks_back(registry, small_models):
    good, bad = small_models
    v1 = registry.register(good, {"from_db": False})
    assert registry.activate_if_none(v1)
    v2 = registry.register(bad)
    assert not registry.activate_if_none(v2)  # a second model is only a candidate
    v3 = registry.register(good)
    assert [v1, v2, v3] == ["v1", "v2", "v3"] and registry.active() == "v1"
    meta = registry.meta(v2)
    assert meta["parent"] == "v1" and meta["data_hash"] and meta["params"]["C"] == 0.5
    assert meta["label_counts"]["S01"] > 0 and "S17" not in meta["label_counts"]
    assert (registry.root / "registry" / "v2" / "model.joblib").exists()

    registry.activate(v2, action="promote", reason="试用", by="sup")
    registry.activate(v3, action="promote", reason="更好", by="sup")
    assert (registry.root / "active").read_text().strip() == "v3"
    assert registry.meta(v3)["promotion_reason"] == "更好"
    assert registry.rollback_target() == "v2"
    registry.activate("v2", action="rollback", reason="退回")
    assert registry.rollback_target() == "v1"  # back again goes further back, never forth
    registry.activate("v1", action="rollback")
    assert registry.rollback_target() is None
    actions = [(e["action"], e["version"], e["previous"]) for e in registry.history()]
    assert actions == [
        ("initial", "v1", None),
        ("promote", "v2", "v1"),
        ("promote", "v3", "v2"),
        ("rollback", "v2", "v3"),
        ("rollback", "v1", "v2"),
    ]
    with pytest.raises(RegistryError):
        registry.meta("../../etc")
    with pytest.raises(RegistryError):
        registry.meta("v99")


def test_the_service_follows_the_active_pointer_and_swaps_without_failing_a_request(
    registry, small_models
):
    good, bad = small_models
    v1 = registry.register(good)
    registry.activate_if_none(v1)
    v2 = registry.register(bad)
    holder = ModelHolder(None, check_seconds=0.2)
    text = "公益林补偿款被村里扣了一半"
    assert holder.classify([text])[0].category == "S17" and holder.version == "v1"

    answers: list[list[str]] = [[] for _ in range(4)]  # each thread's answers, in order
    failures: list[BaseException] = []
    stop = threading.Event()

    def ask(mine: list[str]) -> None:
        while not stop.is_set():
            try:
                mine.append(holder.classify([text])[0].category)
            except BaseException as exc:  # any failure fails the test
                failures.append(exc)

    threads = [threading.Thread(target=ask, args=(mine,)) for mine in answers]
    for t in threads:
        t.start()
    time.sleep(0.3)
    registry.activate(v2, action="promote", reason="测试")
    deadline = time.monotonic() + 20
    while holder.version != "v2" and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    assert not failures
    assert holder.version == "v2"
    # Each request is answered by one model; a thread switches once and never goes back
    # (a request that was already running when the swap came may finish on the old model,
    # however late its answer lands among the other threads').
    for mine in answers:
        assert mine and mine[0] == "S17"
        first_new = next(k for k, answer in enumerate(mine) if answer != "S17")
        assert all(answer != "S17" for answer in mine[first_new:])
    assert sum(len(mine) for mine in answers) > 50


def test_staff_labels_join_the_corpus_conflicts_are_reported_and_test_texts_stay_out():
    corpus = [
        Labelled("村里低保名额给了干部亲戚", "S01", "corpus:S01.jsonl:1"),
        Labelled("五保户供养金被扣", "S02", "corpus:S02.jsonl:1"),
    ]
    staff = [
        Labelled("防贫保的理赔款被村会计压着不给", "S11", "case:1", "correct"),
        # The same words filed twice and labelled differently: a conflict, not a guess.
        Labelled("村里修路的钱去哪了", "S24", "case:2", "correct"),
        Labelled("村里修路的钱，去哪了？", "S19", "case:3", "correct"),
        # Staff disagree with the corpus about a text: reported too.
        Labelled("五保户供养金被扣", "S03", "case:4", "correct"),
        # A text of the frozen test split is never trained on.
        Labelled("测试集里的一句话", "S05", "case:5", "confirm"),
    ]
    staff += [
        Labelled(f"第{i}件积分超市的投诉", "S22", f"case:{10 + i}", "correct") for i in range(40)
    ]
    out = assemble(corpus, staff, ["测试集里的一句话"], holdout_share=0.2, seed=13)
    assert {c.text for c in out.conflicts} == {"村里修路的钱去哪了", "五保户供养金被扣"}
    conflict = next(c for c in out.conflicts if c.text == "村里修路的钱去哪了")
    assert conflict.labels == {"S19": ["case:3"], "S24": ["case:2"]}
    trained = {e.text for e in out.train}
    assert "村里修路的钱去哪了" not in trained and "五保户供养金被扣" not in trained
    assert "测试集里的一句话" not in trained and len(out.frozen_overlap) == 1
    assert "村里低保名额给了干部亲戚" in trained
    assert 3 <= len(out.holdout) <= 16  # about a fifth of 41
    assert not {e.text for e in out.holdout} & trained
    again = assemble(corpus, staff, [], holdout_share=0.2, seed=13)
    assert [e.source for e in again.holdout] == [e.source for e in out.holdout]  # stable
    assert text_key("村里 修路的钱，去哪了？") == text_key("村裡修路的錢去哪了")


def _score(macro: float) -> dict:
    return {"accuracy": macro, "macro_f1": macro}


def test_the_gate_refuses_a_lower_macro_f1_or_an_item_much_worse():
    fine = [ItemDelta("S01", "最低生活保障", 16, 0.90, 0.88, False)]
    frozen = SetScore("frozen", "冻结测试集", 640, "", _score(0.912), _score(0.915))
    assert gate(fine, frozen) == []  # down 0.003: within 0.005
    lower = SetScore("frozen", "冻结测试集", 640, "", _score(0.905), _score(0.915))
    assert "macro-F1" in gate(fine, lower)[0]
    worse = [ItemDelta("S05", "高龄津贴", 16, 0.95, 0.95 - MAX_ITEM_DROP - 0.01, True)]
    assert "S05 高龄津贴" in gate(worse, frozen)[0]
    first = SetScore("frozen", "冻结测试集", 640, "", _score(0.5), None)
    assert gate(worse, first) == []  # nothing to compare with


def test_compare_scores_both_models_and_the_report_escapes_text(small_models, taxonomy):
    good, bad = small_models
    texts = ["公益林补偿款被村里扣了一半", "退耕还林的补助被村干部截留", "村里低保给了村长亲戚"]
    checks = [CheckSet("frozen", "冻结测试集", texts, ["S17", "S17", "S01"], ["a", "b", "c"])]
    names = {i.code: i.name for i in taxonomy.items}
    result = compare(
        bad,
        good,
        checks,
        list(CODES),
        names,
        candidate_version="v2",
        active_version="v1",
        created_at="now",
    )
    assert not result.gate_ok and "macro-F1" in result.gate_reasons[0]
    s17 = next(i for i in result.items if i.code == "S17")
    assert s17.f1_active == 1.0 and s17.f1_candidate == 0.0
    assert not s17.much_worse  # two test texts are too few to judge one item
    assert result.n_worsened == 2 and {w.label for w in result.worsened} == {"S17"}
    result.worsened.append(
        Changed("recent", "case:1", '<script>alert("x")</script>', "S01", "S01", "OUT")
    )
    html = (
        report_env()
        .get_template("_model_report.html")
        .render(cmp=result, names=names, confusion_src="confusion.png")
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'data-gate="refused"' in html
    assert json.loads(json.dumps(result.as_dict()))["candidate"] == "v2"
