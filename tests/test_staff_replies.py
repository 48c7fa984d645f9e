"""Replies that fit the move (issue 17): only a state's own templates are accepted for it, the
public answer is required for 已办结 and 清单外转办, and staff's internal notes never reach the
resident (status lookup, text message, public feed). Plus: every internal name staff could see
has its Chinese word, and times read as Beijing time.

On a real SQLite database brought up by the project's migrations; the case actions are the
service layer's own (``api.case_service``), as the API and the workbench call them."""

from __future__ import annotations

import re
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from fastapi import HTTPException
from sqlalchemy import select

from api import case_service
from api.auth import Role
from api.clock import now
from api.db import make_engine, migrate, session_factory
from api.lifecycle import State
from api.models import Case, CaseEvent, OutboundSms, Reporter, Unit, User
from api.schemas import Channel, ReferIn, TransitionIn
from api.staff_words import (
    ACTION_NAMES,
    CHANNEL_NAMES,
    ROLE_NAMES,
    accepted_note,
    beijing,
    history_note,
)
from api.views import resident_status
from api.workbench.replies import case_values, fill, load_replies, misfit, misfit_for_case
from api.workflow import ActionRefused, check_public_answer
from classifiers.paths import PROJECT_ROOT
from common.case_numbers import check_digit

PHONE = "13900000077"
FIRST, SECOND = (n + check_digit(n) for n in ("1000000", "1000001"))


@pytest.fixture
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'replies.db'}")
    migrate(engine)
    factory = session_factory(engine)
    yield factory
    engine.dispose()


@pytest.fixture
def office(db, taxonomy):
    """A supervisor, a unit's handler and one case assigned to the unit, 办理中."""
    with db() as session, session.begin():
        unit = Unit(name="城关镇民政办", kind="civil_affairs", township="城关镇")
        session.add(unit)
        session.flush()
        session.add_all(
            [
                User(username="sup", display_name="sup", password_hash="x", role="supervisor"),
                User(
                    username="civil",
                    display_name="civil",
                    password_hash="x",
                    role="handler",
                    unit_id=unit.id,
                ),
            ]
        )
        reporter = Reporter(phone=PHONE, name="赵大姐")
        session.add(reporter)
        session.flush()
        for number, state in ((FIRST, State.IN_PROGRESS), (SECOND, State.ACCEPTED)):
            session.add(
                Case(
                    number=number,
                    text="我们柳树村低保评定不公平，村主任把名额给了他侄子",
                    channel="web",
                    township="城关镇",
                    village="柳树村",
                    reporter_id=reporter.id,
                    received_at=now(),
                    state=state,
                    triage_status="done",
                    category="S01",
                    predicted_category="S01",
                    confidence=0.9,
                    unit_id=unit.id if state == State.IN_PROGRESS else None,
                    due_date=date(2026, 12, 18),
                )
            )
    return SimpleNamespace(taxonomy=taxonomy)


def _user(session, name: str) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


def _filled(session, context, number: str, state: str) -> dict[str, str]:
    case = session.scalars(select(Case).where(Case.number == number)).one()
    out = case_service.case_view(session, case, context)
    values = case_values(
        out.number,
        context.taxonomy.by_code[out.category].name,
        out.unit.name if out.unit else None,
        out.village,
        out.township,
        out.due_date,
    )
    return {
        t.title: fill(t, values)
        for t in load_replies().for_case(out.category, context.taxonomy, state)
    }


def test_a_template_for_another_state_is_refused_on_closing_and_nothing_is_stored(db, office):
    with db() as session:
        in_progress = _filled(session, office, FIRST, "办理中")["已受理，正在核实"]
        assert "12月18日前给您答复" in in_progress
        user = _user(session, "civil")
        with pytest.raises(ActionRefused, match="已受理，正在核实"):
            case_service.transition(
                FIRST, TransitionIn(to="已办结", reply=in_progress), office, session, user
            )
        # edited a little (another date) is still that template
        edited = in_progress.replace("12月18日", "12月20日")
        with pytest.raises(ActionRefused, match="不适合“已办结”"):
            case_service.transition(
                FIRST, TransitionIn(to="已办结", reply=edited), office, session, user
            )
        with pytest.raises(HTTPException) as missing:
            case_service.transition(FIRST, TransitionIn(to="已办结"), office, session, user)
        assert missing.value.status_code == 422 and "答复" in missing.value.detail
    with db() as session:
        case = session.scalars(select(Case).where(Case.number == FIRST)).one()
        assert case.state == State.IN_PROGRESS and case.closed_at is None
        assert not session.scalars(select(CaseEvent).where(CaseEvent.action == "reply")).all()
        assert not session.scalars(select(OutboundSms)).all()  # no "done" text went out


def test_closing_keeps_the_public_answer_apart_from_the_internal_note(db, office):
    note = "内部：村主任已被约谈，暂不公开处理结果"
    with db() as session:
        answer = _filled(session, office, FIRST, "已办结")["低保已重新评定"]
        out = case_service.transition(
            FIRST,
            TransitionIn(to="已办结", reply=answer, note=note),
            office,
            session,
            _user(session, "civil"),
        )
        assert out.state == "已办结"
    with db() as session:
        case = session.scalars(select(Case).where(Case.number == FIRST)).one()
        rows = {(e.action, e.note, e.public) for e in case.history}
        assert ("reply", answer, True) in rows
        assert ("note", note, False) in rows
        state_row = next(e for e in case.history if e.action == "state")
        assert state_row.note is None  # the state change carries no staff words
        status = resident_status(case, office.taxonomy, None)
        said = status.summary + " ".join(step.what for step in status.steps)
        assert answer in said and "约谈" not in said
        texts = session.scalars(select(OutboundSms.body)).all()
        assert texts and not any("约谈" in t for t in texts)


def test_a_referral_needs_a_reason_of_its_own_kind(db, office):
    with db() as session:
        user = _user(session, "sup")
        done_template = _filled(session, office, SECOND, "已办结")["属实，已整改"]
        with pytest.raises(ActionRefused, match="属实，已整改"):
            case_service.refer(SECOND, ReferIn(reason=done_template), office, session, user)
        session.rollback()
        with pytest.raises(ActionRefused, match="写明转往何处"):
            check_public_answer(State.REFERRED, "   ")
        reason = _filled(session, office, SECOND, "清单外转办")["转12345热线"]
        assert case_service.refer(SECOND, ReferIn(reason=reason), office, session, user).state
    with db() as session:
        body = session.scalars(select(OutboundSms.body)).one()
        assert "12345" in body and SECOND in body


def test_misfit_knows_a_states_own_templates_and_staff_words(taxonomy):
    replies = load_replies()
    values = case_values(FIRST, "低保", "民政办", "柳树村", "城关镇", date(2026, 12, 18))
    own = fill(replies.for_case("S01", taxonomy, "已办结")[0], values)
    assert misfit(replies, "S01", taxonomy, "已办结", values, own) is None
    assert misfit(replies, "S01", taxonomy, "已办结", values, "经核查已补发。") is None
    first = replies.for_case("S01", taxonomy, "办理中")[0]
    assert misfit(replies, "S01", taxonomy, "已办结", values, fill(first, values)) == first.title
    # the template as written, placeholders unfilled, is recognised too
    assert misfit(replies, "S01", taxonomy, "已办结", values, first.text) == first.title
    case = SimpleNamespace(
        number=FIRST,
        category="S01",
        unit=SimpleNamespace(name="民政办"),
        village="柳树村",
        township="城关镇",
        due_date=date(2026, 12, 18),
    )
    assert misfit_for_case(case, taxonomy, "办理中", fill(first, values)) is None


# -- every internal name has its Chinese word, every time is Beijing time ----------------------
_RECORD = re.compile(r"\brecord\(\s*session,\s*\w+,\s*[^,()]+,\s*\"([a-z_]+)\"", re.S)


def test_every_history_action_written_anywhere_has_a_chinese_name():
    written = set()
    for path in (PROJECT_ROOT / "api").rglob("*.py"):
        written |= set(_RECORD.findall(path.read_text(encoding="utf-8")))
    written |= {"state"}  # api.history.move
    assert {"handoff", "resident_category", "accepted", "reply"} <= written  # the scan works
    assert written <= set(ACTION_NAMES), sorted(written - set(ACTION_NAMES))
    assert {c.value for c in Channel} <= set(CHANNEL_NAMES)
    assert {r.value for r in Role} <= set(ROLE_NAMES)
    for word in (*ACTION_NAMES.values(), *CHANNEL_NAMES.values(), *ROLE_NAMES.values()):
        assert not re.search(r"[A-Za-z]", word), word


def test_old_channel_notes_and_utc_times_read_in_chinese_and_beijing_time():
    assert history_note("通过grid_worker渠道受理") == "经网格员代报受理"
    assert history_note("通过voice渠道受理") == accepted_note("voice") == "经电话受理"
    assert history_note("居民请求人工服务：查低保") == "居民请求人工服务：查低保"
    assert beijing("2026-12-04T11:52:41+0000") == "2026-12-04 19:52"
    assert beijing("2026-12-04T11:52:41Z") == "2026-12-04 19:52"
    assert beijing("2026-12-04T19:52:41+08:00", seconds=True) == "2026-12-04 19:52:41"
    assert beijing(datetime(2026, 12, 4, 19, 52)) == "2026-12-04 19:52"  # stored as CST
    assert beijing(None) == "" and beijing("不是时间") == "不是时间"
