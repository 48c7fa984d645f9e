"""Staff actions on a case: assign, move through the lifecycle, confirm or correct the item,
escalate, note, merge and split, and the resident's rating. Each writes history."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.clock import now
from api.history import move, record
from api.lifecycle import OPEN_STATES, State
from api.models import Case, ClusterDecision, Label, Unit
from api.rules import Rules
from api.triage import check_escalation, escalate, set_due_date
from classifiers.taxonomy import OUT_CODE, Taxonomy

RATINGS = ("满意", "基本满意", "不满意")

# The moves a resident must be given the office's answer on (their status lookup and text
# message show it): what to say when it is missing.
PUBLIC_ANSWER_REQUIRED = {
    State.DONE: "办结需要填写给群众的答复（群众查询进度时会看到）",
    State.REFERRED: "清单外转办需要写明转往何处及原因，会告知群众",
}


class ActionRefused(ValueError):
    """A staff action that the office's rules forbid; the message says why (in Chinese)."""


def assign(session: Session, case: Case, unit: Unit, actor: str, note: str | None) -> None:
    """Hand the case to a unit. A complaint about a village's own cadres never goes to that
    village's committee."""
    if (
        unit.kind == "village_committee"
        and case.about_cadres
        and case.village
        and unit.village
        and _same_place(unit.village, case.village)
    ):
        raise ActionRefused(f"该投诉反映{case.village}村干部问题，不能交由本村办理")
    if case.category is None:
        raise ActionRefused("案件尚未分类，不能转办")
    if case.category == OUT_CODE:
        raise ActionRefused("清单外事项请使用“清单外转办”")
    target = State.ASSIGNED
    if case.state == State.REOPENED and case.unit_id == unit.id:
        target = State.IN_PROGRESS
    case.unit = unit  # before the move: the resident's text names the unit
    case.unit_id = unit.id
    # The resident sees where it went; the staff's instruction to the unit stays internal.
    move(session, case, target, actor, f"转交{unit.name}办理")
    if note:
        record(session, case, actor, "note", f"转办说明：{note}", public=False)


def _same_place(a: str, b: str) -> bool:
    strip = str.maketrans("", "", "村社区居委会")
    return a.translate(strip) == b.translate(strip)


def check_public_answer(target: State, answer: str | None, misfit: str | None = None) -> str | None:
    """The answer to the resident for a move to ``target``, stripped; refused when the move
    needs one and has none, or when it is a template written for another state (``misfit``,
    its title: "已受理，正在核实" is no answer to a closed case)."""
    text = (answer or "").strip() or None
    if text is None and target in PUBLIC_ANSWER_REQUIRED:
        raise ActionRefused(PUBLIC_ANSWER_REQUIRED[target])
    if text is not None and misfit:
        raise ActionRefused(
            f"这条答复是“{misfit}”模板，不适合“{target}”：请选用{target}的答复模板或自己写"
        )
    return text


def change_state(
    session: Session,
    case: Case,
    target: State,
    answer: str | None,
    note: str | None,
    actor: str,
    misfit: str | None = None,
) -> None:
    """办理中, 已办结 or back to 已受理, with the answer to the resident (public: their status
    lookup shows it) kept apart from the staff's internal note (never shown to them)."""
    text = check_public_answer(target, answer, misfit)
    if text:
        reply(session, case, text, actor)
    move(session, case, target, actor)
    if note and note.strip():
        record(session, case, actor, "note", note.strip(), public=False)


def refer_out_of_list(
    session: Session, case: Case, reason: str, actor: str, misfit: str | None = None
) -> None:
    text = check_public_answer(State.REFERRED, reason, misfit)
    case.referral_reason = text
    move(session, case, State.REFERRED, actor, text)


def set_category(
    session: Session, case: Case, code: str, taxonomy: Taxonomy, user_id: int | None, actor: str
) -> Label:
    """Confirm or correct the item; each decision is kept as a training label."""
    if code not in taxonomy.by_code:
        raise ActionRefused(f"没有编号为{code}的监督事项")
    previous = case.category
    kind = "confirm" if code == previous else "correct"
    label = Label(
        case_id=case.id, category=code, previous=previous, kind=kind, user_id=user_id, at=now()
    )
    session.add(label)
    case.category = code
    case.category_confirmed = True
    case.needs_review = False
    if kind == "correct":
        set_due_date(case, taxonomy)
        case.cluster_status = "pending"  # its event is looked for again under the right item
        record(
            session,
            case,
            actor,
            "category",
            f"事项更正：{previous or '未分类'} → {code} {taxonomy.name_of(code)}",
            public=False,
        )
    else:
        record(session, case, actor, "category", f"事项确认：{code}", public=False)
    return label


def add_note(session: Session, case: Case, note: str, actor: str) -> None:
    record(session, case, actor, "note", note, public=False)


def reply(session: Session, case: Case, message: str, actor: str) -> None:
    """A reply to the resident (shown in their status lookup)."""
    record(session, case, actor, "reply", message, public=True)


def escalate_case(session: Session, case: Case, reason: str, actor: str) -> None:
    if case.state not in OPEN_STATES:
        raise ActionRefused("只有未办结的案件可以提级督办")
    escalate(session, case, actor, reason or "提级督办")


def merge_into(
    session: Session, case: Case, lead: Case, actor: str, rules: Rules, user_id: int | None = None
) -> None:
    if lead.id == case.id:
        raise ActionRefused("不能与自身合并")
    if lead.lead_case_id is not None:
        raise ActionRefused(f"案件{lead.number}本身已合并到其他案件，请合并到主案件")
    move(session, case, State.MERGED, actor, f"与案件{lead.number}为同一问题，合并办理")
    case.lead_case_id = lead.id
    for member in session.scalars(select(Case).where(Case.lead_case_id == case.id)).all():
        member.lead_case_id = lead.id  # the event keeps one lead
    record(session, lead, actor, "merged", f"并入案件{case.number}", public=False)
    session.add(
        ClusterDecision(
            at=now(),
            user_id=user_id,
            op="merge",
            case_number=case.number,
            other_number=lead.number,
            note=f"{actor} 合并",
        )
    )
    check_escalation(session, lead, case.reporter_id, rules)


def split_from_event(session: Session, case: Case, actor: str, user_id: int | None = None) -> None:
    """Take a case out of its event: out of the lead case it was joined to, and out of the
    event the clustering put it in (a kept decision later runs respect)."""
    alone = (
        case.event_id is None
        or (session.scalar(select(func.count()).where(Case.event_id == case.event_id)) or 0) <= 1
    )
    if case.lead_case_id is None and alone:
        raise ActionRefused("该案件没有合并到其他案件或事件")
    session.add(
        ClusterDecision(
            at=now(), user_id=user_id, op="split", case_number=case.number, note=f"{actor} 拆分"
        )
    )
    if case.lead_case_id is None:
        record(session, case, actor, "split", "从同一问题事件中拆分", public=False)
        return
    lead = session.get(Case, case.lead_case_id)
    move(session, case, State.ACCEPTED, actor, "从合并事件中拆分，单独办理")
    case.lead_case_id = None
    case.repeat_of_id = None
    if lead is not None:
        record(session, lead, actor, "split", f"案件{case.number}已拆分出去", public=False)


def rate(session: Session, case: Case, rating: str, comment: str | None) -> None:
    """The resident's satisfaction; 不满意 reopens the case."""
    if rating not in RATINGS:
        raise ActionRefused("评价只能是：满意、基本满意、不满意")
    if case.state not in (State.DONE, State.RATED):
        raise ActionRefused("案件办结后才能评价")
    case.rating = rating
    note = f"群众评价：{rating}" + (f"（{comment}）" if comment else "")
    if rating == "不满意":
        move(session, case, State.REOPENED, "resident", note)
    elif case.state == State.DONE:
        move(session, case, State.RATED, "resident", note)
    else:
        record(session, case, "resident", "rating", note)
