"""Triage that knows when it is unsure (issue 16): an unsure text keeps its most likely item and
goes to staff review with its top 3; 清单外 (OUT) is only ever the model's own top prediction,
never the fallback for low confidence. Real model, real SQLite database, real queue template."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import select

from api.db import make_engine, migrate, session_factory
from api.intake import accept
from api.models import Case, User
from api.rules import load_rules
from api.settings import Settings
from api.triage import triage_pending
from api.workbench.queries import Filters, Window, list_tab
from api.workbench.render import env
from classifiers.model import MIN_AUTO_HAN_CHARS, Prediction, choose_thresholds
from classifiers.normalize import normalize_text
from classifiers.taxonomy import OUT_CODE


def _proba(model, weights: dict[str, float]) -> np.ndarray:
    classes = model.classes
    proba = np.full(len(classes), 0.0)
    rest = (1 - sum(weights.values())) / (len(classes) - len(weights))
    proba[:] = rest
    for code, p in weights.items():
        proba[classes.index(code)] = p
    return proba


def _decide(model, weights: dict[str, float], text: str) -> Prediction:
    normalized = normalize_text(text)
    row = model.transform([normalized])
    return model._decide(_proba(model, weights), (row.data, row.indices), normalized)


def test_an_unsure_in_list_text_keeps_its_item_and_goes_to_review(model):
    text = "上面给困难户每月发的那份钱，今年俺家没了，也没人说为啥"
    pred = _decide(model, {"S01": 0.30, OUT_CODE: 0.25, "S03": 0.20}, text)
    assert pred.category == "S01"  # not 清单外, though no item is confident
    assert pred.needs_review
    assert [code for code, _ in pred.top] == ["S01", OUT_CODE, "S03"]


def test_out_of_list_is_a_prediction_of_its_own(model):
    text = "隔壁家的狗天天半夜叫，吵得一家老小睡不着觉"
    threshold = model.out_review_threshold
    assert 0.2 <= threshold < 1.0  # tuned on the training split's 清单外 examples
    sure = _decide(model, {OUT_CODE: threshold}, text)
    assert sure.category == OUT_CODE and not sure.needs_review  # staff refer it from 待分派
    unsure = _decide(model, {OUT_CODE: threshold - 0.02, "S33": 0.30}, text)
    assert unsure.category == OUT_CODE and unsure.needs_review


def test_a_model_tuned_before_out_thresholds_sends_every_out_to_review(tmp_path, model):
    import joblib

    path = tmp_path / "old.joblib"
    model.save(path)
    state = joblib.load(path)
    del state["out_review_threshold"]
    joblib.dump(state, path)
    old = type(model).load(path)
    text = "隔壁家的狗天天半夜叫，吵得一家老小睡不着觉"
    assert _decide(old, {OUT_CODE: 0.999}, text).needs_review
    assert not _decide(old, {"S24": 0.999}, "村里新修的水泥路半年就开裂了").needs_review


def test_confident_predictions_are_accepted_and_short_texts_never(model):
    assert not _decide(model, {"S24": 0.97}, "村里新修的水泥路半年就开裂了").needs_review
    short = "村里的事"
    assert len(short) < MIN_AUTO_HAN_CHARS
    assert _decide(model, {"S24": 0.99}, short).needs_review


def test_no_prediction_is_ever_out_of_list_unless_out_is_its_top(model, test_examples):
    predictions = model.predict([e.text for e in test_examples])
    assert model.out_threshold == 0.0
    for pred in predictions:
        assert pred.category == pred.top[0][0]
        assert pred.confidence == pred.top[0][1]
        if pred.confidence < model.review_threshold:
            assert pred.needs_review
    in_list_unsure = [p for p in predictions if p.needs_review and p.category != OUT_CODE]
    assert in_list_unsure, "the test split has unsure in-list texts; they keep their item"


def test_review_thresholds_meet_the_precision_asked_for():
    rng = np.random.default_rng(3)
    n, k = 2000, 5
    labels = rng.integers(0, k, n)
    confidence = rng.uniform(0.2, 1.0, n)
    # The more confident, the more often right: a calibrated-looking model.
    right = rng.uniform(0, 1, n) < confidence
    predicted = np.where(right, labels, (labels + 1) % k)
    proba = np.full((n, k), 0.0)
    proba[np.arange(n), predicted] = confidence
    proba[np.arange(n), (predicted + 2) % k] = 1 - confidence
    classes = ["A", "B", "C", "D", OUT_CODE]  # index 4: 清单外, with a threshold of its own
    floor, threshold, out_threshold, report = choose_thresholds(labels, proba, classes, 0.95)
    assert floor == 0.0
    is_out = predicted == 4
    accepted = np.where(is_out, confidence >= out_threshold, confidence >= threshold)
    assert (predicted[accepted & ~is_out] == labels[accepted & ~is_out]).mean() >= 0.95
    assert (predicted[accepted & is_out] == labels[accepted & is_out]).mean() >= 0.95
    assert (accepted & is_out).any()  # confident 清单外 is accepted like an item
    assert report["cv_review_share"] == 1 - accepted.mean()
    assert 0 < report["cv_review_share"] < 1
    _, lower, out_lower, _ = choose_thresholds(labels, proba, classes, 0.80)
    assert lower < threshold and out_lower < out_threshold  # less precision, less review
    # 清单外 predictions that are never precise enough are never accepted.
    wrong_out = np.where(is_out, 0, labels)
    _, _, never, _ = choose_thresholds(wrong_out, proba, classes, 0.95)
    assert never > 1.0


def test_an_unsure_case_lands_in_the_review_queue_with_its_top_three(tmp_path, model, taxonomy):
    engine = make_engine(f"sqlite:///{tmp_path / 'review.db'}")
    migrate(engine)
    factory = session_factory(engine)
    unsure_text = "俺爹那份钱的事，村里讲等等，等了大半年了"
    sure_text = "村里修的水泥路才半年就开裂了，肯定偷工减料，包工头是村长亲戚"

    def classify(texts: Sequence[str]) -> list[Prediction]:
        return model.predict(texts)

    unsure_id = accept(factory, text=unsure_text, channel="web")[0].id
    sure_id = accept(factory, text=sure_text, channel="web")[0].id
    rules = load_rules(Settings().rules_path)
    assert triage_pending(factory, classify, taxonomy, rules) == 2
    expected = model.predict_one(unsure_text)
    assert expected.needs_review, expected  # the premise: the model is unsure of this text
    with factory() as session, session.begin():
        cases = {c.id: c for c in session.scalars(select(Case))}
        unsure, sure = cases[unsure_id], cases[sure_id]
        assert unsure.needs_review and unsure.category == expected.category
        assert [code for code, _ in unsure.top] == [code for code, _ in expected.top]
        assert not sure.needs_review and sure.category == "S24"
        user = User(username="sup", display_name="督查", password_hash="x", role="supervisor")
        session.add(user)
        session.flush()
        rows = list_tab(session, user, "review", Filters(), Window.for_rules(rules), 1)
        assert [r.number for r in rows] == [unsure.number]
        names = {item.code: item.name for item in taxonomy.items}
        html = env.get_template("_macros.html").module.case_table(rows, names, {})
    listed = html.split('class="top3-inline"')[1].split("</ol>")[0]
    for code, p in expected.top:
        assert f'<span class="code">{code}</span> {names[code]}' in listed
        assert f"{p * 100:.0f}%" in listed
