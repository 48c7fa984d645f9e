"""The analysts' labelling queue (issue 17): which cases it picks and why, the random sample,
the second analyst's share and Cohen's kappa, labels with who/when/why, and how they reach
``hotline train --from-db`` (``api.labels.current_labels`` → the training set).

On real SQLite and PostgreSQL databases brought up by the project's migrations."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from api.clock import now
from api.db import make_engine, migrate, session_factory
from api.label_queue import QUEUE, add_label, fill, is_double, open_tasks
from api.labels import agreement, current_labels, kappa
from api.lifecycle import State
from api.models import Case, Label, LabelTask, User
from api.permissions import Action, may
from api.workflow import ActionRefused
from classifiers.training_set import assemble

PLAIN = "我们村低保评定不公平，村主任把名额给了他侄子{}"
NEW = "区块链积分兑换的数字藏品收益被会计私吞了{}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    from hotline.processes import create_pg_database, drop_pg_database

    database = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'labels.db'}"
    else:
        database, url = create_pg_database("lab_")
        url = url.replace("postgresql://", "postgresql+psycopg://")
    engine = make_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        for name, role in (("ana1", "analyst"), ("ana2", "analyst"), ("ana3", "analyst")):
            session.add(User(username=name, display_name=name, password_hash="x", role=role))
        session.add(User(username="sup", display_name="sup", password_hash="x", role="supervisor"))
    yield factory
    engine.dispose()
    if database:
        drop_pg_database(database)


def _case(session, n: int, text: str, confidence: float, predicted="S01", category="S01", **kw):
    case = Case(
        number=f"2{n:07d}",
        text=text,
        channel="web",
        received_at=now(),
        state=State.ACCEPTED,
        triage_status="done",
        category=category,
        predicted_category=predicted,
        confidence=confidence,
        **kw,
    )
    session.add(case)
    session.flush()
    return case


def _user(session, name: str) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


def _seed(session) -> dict[str, set[int]]:
    kinds: dict[str, set[int]] = {"low": set(), "disagree": set(), "new": set(), "plain": set()}
    for i in range(40):
        kinds["plain"].add(_case(session, i, PLAIN.format(i), 0.95).id)
    for i in range(40, 44):
        kinds["low"].add(_case(session, i, PLAIN.format(i), 0.2 + i / 1000).id)
    for i in range(44, 48):
        kinds["disagree"].add(_case(session, i, PLAIN.format(i), 0.9, category="S24").id)
    for i in range(48, 52):
        kinds["new"].add(_case(session, i, NEW.format(i), 0.95).id)
    return kinds


def test_the_queue_picks_informative_cases_and_a_random_sample(db):
    with db() as session, session.begin():
        kinds = _seed(session)
        assert fill(session, 0.5, batch=12, random_share=0.25, seed=3) == 12
    with db() as session:
        tasks = session.scalars(select(LabelTask)).all()
        why = Counter(t.why for t in tasks)
        assert why == {"disagreement": 3, "low_confidence": 3, "new_wording": 3, "random": 3}
        expected = {"disagreement": "disagree", "low_confidence": "low", "new_wording": "new"}
        for task in tasks:
            if task.why in expected:
                assert task.case_id in kinds[expected[task.why]]
        low = sorted((t.score, t.case_id) for t in tasks if t.why == "low_confidence")
        assert max(low)[0] == pytest.approx(1 - 0.20 - 40 / 1000)  # least sure first
        # A second fill never picks a case twice: the one informative case left of each kind,
        # then the random sample.
        assert fill(session, 0.5, batch=12, random_share=0.25, seed=4) == 3 + 3
        session.commit()
        ids = session.scalars(select(LabelTask.case_id)).all()
        assert len(ids) == len(set(ids)) == 18
        informative = kinds["low"] | kinds["disagree"] | kinds["new"]
        assert informative <= set(ids)


def test_about_a_fifth_is_labelled_twice_chosen_by_the_case_not_the_order():
    share = sum(is_double(i) for i in range(1, 4001)) / 4000
    assert 0.18 < share < 0.22
    assert [is_double(i) for i in range(50)] == [is_double(i) for i in range(50)]


def test_two_analysts_on_the_double_share_then_nobody(db, taxonomy):
    with db() as session, session.begin():
        _seed(session)
        fill(session, 0.5, batch=20, seed=1)
        tasks = session.scalars(select(LabelTask)).all()
        for t in tasks:  # make the first task double, the second single
            t.double = False
        tasks[0].double = True
    with db() as session:
        ana1, ana2, ana3 = (_user(session, n) for n in ("ana1", "ana2", "ana3"))
        double = session.scalars(select(LabelTask).where(LabelTask.double.is_(True))).one()
        label = add_label(session, double.id, "S01", "提到了低保评定", ana1, taxonomy)
        session.commit()
        assert (label.origin, label.reason, label.user_id) == (QUEUE, "提到了低保评定", ana1.id)
        assert label.at is not None
        with pytest.raises(ActionRefused, match="已经标注过"):
            add_label(session, double.id, "S02", None, ana1, taxonomy)
        session.rollback()
        assert open_tasks(session, ana2)[0][0].id == double.id  # the second label comes first
        assert double.id not in {t.id for t, _ in open_tasks(session, ana1, limit=100)}
        add_label(session, double.id, "S01", None, ana2, taxonomy)
        session.commit()
        assert double.id not in {t.id for t, _ in open_tasks(session, ana3, limit=100)}
        with pytest.raises(ActionRefused, match="足够"):
            add_label(session, double.id, "S01", None, ana3, taxonomy)
        session.rollback()
        with pytest.raises(ActionRefused, match="没有编号"):
            add_label(session, double.id, "X99", None, ana3, taxonomy)
        session.rollback()
        # The case itself is not changed by analysts.
        case = session.get(Case, double.case_id)
        assert not case.category_confirmed


def test_kappa_agreement_and_the_unbiased_estimate(db, taxonomy):
    # Hand-computed: agreement 3 of 4 (0.75); chance agreement 0.5*0.25 + 0.5*0.75 = 0.5;
    # kappa = (0.75 - 0.5) / (1 - 0.5) = 0.5.
    assert kappa(["S01", "S01", "S24", "S24"], ["S01", "S24", "S24", "S24"]) == pytest.approx(0.5)
    assert kappa(["S01"], ["S01"]) is None and kappa(["S01", "S01"], ["S01", "S01"]) is None
    with db() as session, session.begin():
        _seed(session)
        fill(session, 0.5, batch=12, random_share=0.25, seed=2)
        tasks = session.scalars(select(LabelTask).order_by(LabelTask.id)).all()
        for t in tasks:
            t.double = True
        ana1, ana2 = _user(session, "ana1"), _user(session, "ana2")
        pairs = [("S01", "S01"), ("S01", "S24"), ("S24", "S24"), ("S24", "S24")]
        for task, (a, b) in zip(tasks, pairs, strict=False):
            add_label(session, task.id, a, None, ana1, taxonomy)
            add_label(session, task.id, b, None, ana2, taxonomy)
        randoms = [t for t in tasks if t.why == "random"]
        for task, code in zip(randoms, ("S01", "S01", "S24"), strict=True):  # model said S01
            add_label(session, task.id, code, None, ana1, taxonomy)
    with db() as session:
        found = agreement(session)
    assert found.pairs == 4 and found.agreed == 3 and found.kappa == pytest.approx(0.5)
    assert found.sample == 3 and found.model_right == 2
    low, high = found.accuracy_interval
    assert low < 2 / 3 < high


def test_analysts_labels_train_like_supervisors_and_disagreements_are_left_out(db, taxonomy):
    with db() as session, session.begin():
        _seed(session)
        fill(session, 0.5, batch=12, seed=5)
        tasks = session.scalars(select(LabelTask).order_by(LabelTask.id)).all()
        for t in tasks:
            t.double = True
        ana1, ana2, sup = (_user(session, n) for n in ("ana1", "ana2", "sup"))
        agree, disagree, supervised = tasks[0], tasks[1], tasks[2]
        for who in (ana1, ana2):
            add_label(session, agree.id, "S02", "同意", who, taxonomy)
        add_label(session, disagree.id, "S01", None, ana1, taxonomy)
        add_label(session, disagree.id, "S24", None, ana2, taxonomy)
        add_label(session, supervised.id, "S03", None, ana1, taxonomy)
        session.add(
            Label(
                case_id=supervised.case_id, category="S05", kind="correct", user_id=sup.id, at=now()
            )
        )
    with db() as session:
        rows = current_labels(session)
        numbers = {t.id: session.get(Case, t.case_id).number for t in (agree, disagree, supervised)}
    by_case = Counter(r.case_number for r in rows)
    assert by_case[numbers[agree.id]] == 1  # two analysts agreeing: one example
    assert by_case[numbers[disagree.id]] == 2
    assert [r.label for r in rows if r.case_number == numbers[supervised.id]] == ["S05"]
    agreed = next(r for r in rows if r.case_number == numbers[agree.id])
    assert (agreed.label, agreed.origin, agreed.reason) == ("S02", QUEUE, "同意")
    training = assemble([], [r.labelled() for r in rows], [], holdout_share=0.0)
    trained = {(e.source, e.label) for e in training.train}
    assert (f"case:{numbers[agree.id]}", "S02") in trained
    assert (f"case:{numbers[supervised.id]}", "S05") in trained
    assert not any(s == f"case:{numbers[disagree.id]}" for s, _ in trained)
    assert training.conflicts  # 标注冲突, as printed by hotline train --from-db


def test_only_analysts_label():
    assert may("analyst", Action.LABEL_CASES)
    assert not any(may(r, Action.LABEL_CASES) for r in ("supervisor", "handler", "grid_worker"))
