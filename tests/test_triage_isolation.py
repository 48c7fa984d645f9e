"""A case the classifier cannot take never holds up the others (issue 14): a failed batch is
redone one by one, the bad case waits alone with its own backoff, and texts are cut to what the
classifier takes while the whole text stays stored. Runs the real triage pass on a real SQLite
database with the real model; the one stand-in is a classifier that refuses one text, as the
real one refuses texts over its length limit."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from api.db import make_engine, migrate, session_factory
from api.intake import accept
from api.models import Case
from api.rules import load_rules
from api.settings import Settings
from api.triage import triage_pending
from classifiers.model import MAX_TEXT_CHARS, TriageModel

BAD = "【分类器拒收的内容】"


def _setup(tmp_path, model_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'triage.db'}")
    migrate(engine)
    model = TriageModel.load(model_path)
    seen: list[list[str]] = []

    def classify(texts: Sequence[str]):
        seen.append(list(texts))
        if any(BAD in t for t in texts):
            raise ValueError("classifier refused a text")
        return model.predict(texts)

    return session_factory(engine), classify, seen


def _file(factory, text: str) -> int:
    return accept(factory, text=text, channel="web")[0].id


def test_a_failing_case_waits_alone_and_the_others_are_classified(tmp_path, model_path, taxonomy):
    factory, classify, seen = _setup(tmp_path, model_path)
    rules = load_rules(Settings().rules_path)
    good = [_file(factory, f"村里低保名额被村书记给了亲戚，第{k}户") for k in range(6)]
    bad = _file(factory, BAD + "村里修路的钱不知去向")

    assert triage_pending(factory, classify, taxonomy, rules) == 6
    with factory() as session:
        rows = {c.id: c for c in session.scalars(select(Case))}
    assert all(rows[i].triage_status == "done" for i in good)
    failed = rows[bad]
    assert failed.triage_status == "pending" and failed.triage_attempts == 1
    assert failed.triage_next_at is not None and "refused" in failed.triage_error
    assert len(seen) == 1 + 7  # the batch, then each case alone

    # Its retry comes: it is tried alone, not in a batch with newer cases.
    newer = _file(factory, "村集体的鱼塘被私下包给了村主任的小舅子")
    with factory() as session, session.begin():
        session.execute(update(Case).where(Case.id == bad).values(triage_next_at=None))
    seen.clear()
    assert triage_pending(factory, classify, taxonomy, rules) == 1
    assert sorted(map(len, seen)) == [1, 1]  # the newer case's batch of one, the bad one alone
    with factory() as session:
        assert session.get(Case, newer).triage_status == "done"
        assert session.get(Case, bad).triage_attempts == 2


def test_a_text_longer_than_the_classifier_takes_is_cut_for_it_and_kept_whole(
    tmp_path, model_path, taxonomy
):
    factory, classify, seen = _setup(tmp_path, model_path)
    rules = load_rules(Settings().rules_path)
    long_text = "村里低保名额被村书记给了亲戚。" + "群众意见很大，" * 3000
    case_id = _file(factory, long_text)
    assert triage_pending(factory, classify, taxonomy, rules) == 1
    assert max(len(t) for batch in seen for t in batch) == MAX_TEXT_CHARS
    with factory() as session:
        case = session.get(Case, case_id)
        assert case.triage_status == "done" and case.text == long_text


def test_words_added_while_the_case_is_classified_are_classified_again(
    tmp_path, model_path, taxonomy
):
    """A request for a person says nothing of the matter; the story told right after it is
    added (``amend``) while the classifier may be busy with the request's words. Whichever
    commits first, the case ends classified on the whole text, never on the old words."""
    from api.amend import Amendment, amend

    factory, classify, _seen = _setup(tmp_path, model_path)
    rules = load_rules(Settings().rules_path)
    story = "俺们柳树村的低保，村长把他小舅子弄上了，俺家老头子瘫在床上反倒没评上"

    def handoff(key: str) -> int:
        return accept(
            factory,
            text="【请求人工服务】别问了，直接让人打我电话",
            channel="web",
            idempotency_key=key,
        )[0].id

    def number_of(case_id: int) -> str:
        with factory() as session:
            return session.get(Case, case_id).number

    # The story is added while the request's words are being classified.
    during = handoff("handoff-during-classify")

    def classify_while_amended(texts: Sequence[str]):
        if not getattr(classify_while_amended, "done", False):
            classify_while_amended.done = True
            amend(
                factory,
                number_of(during),
                "handoff-during-classify",
                Amendment(addendum=story),
                taxonomy,
            )
        return classify(texts)

    assert triage_pending(factory, classify_while_amended, taxonomy, rules) == 0
    with factory() as session:
        assert session.get(Case, during).triage_status == "pending"  # the old words' result dropped
    assert triage_pending(factory, classify, taxonomy, rules) == 1

    # The story is added after the request's words were classified.
    after = handoff("handoff-after-classify")
    assert triage_pending(factory, classify, taxonomy, rules) == 1
    with factory() as session:
        first = session.get(Case, after).category
    amend(factory, number_of(after), "handoff-after-classify", Amendment(addendum=story), taxonomy)
    assert triage_pending(factory, classify, taxonomy, rules) == 1
    with factory() as session:
        for case_id in (during, after):
            case = session.get(Case, case_id)
            assert case.triage_status == "done" and case.category == "S01", case.text
    assert first != "S01"
