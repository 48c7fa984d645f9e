"""Turning cases into what each audience sees: staff views, and plain Chinese for residents."""

from __future__ import annotations

from datetime import date

from api.clock import today
from api.lifecycle import OPEN_STATES, PLAIN, State
from api.models import Case, CaseEvent
from api.schemas import CaseOut, HistoryOut, ResidentStatus, ResidentStep, UnitOut
from classifiers.taxonomy import Taxonomy

# "recording": a voicemail nobody has listened to yet (api.voicemail).
TRIAGE_NAMES = {"pending": "待分类", "recording": "待听录音"}


def is_overdue(case: Case, on: date | None = None) -> bool:
    return (
        case.due_date is not None and case.state in OPEN_STATES and case.due_date < (on or today())
    )


def case_out(
    case: Case, taxonomy: Taxonomy, lead_number: str | None, with_history: bool
) -> CaseOut:
    item = taxonomy.by_code.get(case.category or "")
    unit = case.unit
    return CaseOut(
        number=case.number,
        text=case.text,
        channel=case.channel,
        township=case.township,
        village=case.village,
        village_group=case.village_group,
        village_flagged=bool(case.village_flagged),
        audio_url=case.audio_url,
        state=case.state,
        triage_status=TRIAGE_NAMES.get(case.triage_status, "已分类"),
        audio_seconds=case.audio_seconds,
        category=case.category,
        category_name=item.name if item else None,
        predicted_category=case.predicted_category,
        confidence=case.confidence,
        top=case.top,
        terms=case.terms,
        needs_review=case.needs_review,
        category_confirmed=case.category_confirmed,
        about_cadres=case.about_cadres,
        anonymous=case.anonymous,
        unit=UnitOut.model_validate(unit, from_attributes=True) if unit else None,
        received_at=case.received_at,
        due_date=case.due_date,
        overdue=is_overdue(case),
        closed_at=case.closed_at,
        escalation_level=case.escalation_level,
        lead_case=lead_number,
        rating=case.rating,
        referral_reason=case.referral_reason,
        event_id=case.event_id,
        event_reporters=case.event_reporters,
        joint_review=case.joint_review,
        cluster_reason=case.cluster_reason,
        model_version=case.model_version,
        history=[HistoryOut.model_validate(e, from_attributes=True) for e in case.history]
        if with_history
        else None,
    )


def _plain_step(event: CaseEvent) -> str | None:
    """One history row as a resident would understand it; internal rows are not shown."""
    if not event.public:
        return None
    if event.action == "accepted":
        return "收到您的反映，已登记"
    if event.action == "state" and event.to_state:
        words = PLAIN.get(State(event.to_state), event.to_state)
        if event.to_state == State.REFERRED and event.note:
            return f"{words}：{event.note}"
        if event.to_state == State.ASSIGNED and event.note and event.note.startswith("转交"):
            return event.note
        return words
    if event.action == "reply" and event.note:
        return f"办理单位答复：{event.note}"
    if event.action == "escalated":
        return "上级纪委已提级督办"
    if event.action == "repeat":
        return "收到您（或其他群众）再次反映，已并入本案办理"
    return None


def public_answer(case: Case) -> str | None:
    """The office's latest answer to the resident (written as the public reply, never an
    internal note or instruction)."""
    replies = [e.note for e in case.history if e.action == "reply" and e.public and e.note]
    return replies[-1] if replies else None


def resident_status(case: Case, taxonomy: Taxonomy, lead: Case | None) -> ResidentStatus:
    shown = lead or case
    item = taxonomy.by_code.get(shown.category or "")
    state = State(shown.state)
    parts = [f"您的案件 {' '.join(case.number)} 现在是“{State(shown.state).value}”"]
    if lead is not None:
        parts.append(f"和案件{lead.number}是同一件事，合在一起办")
    if item is not None:
        parts.append(f"属于“{item.name}”")
    parts.append(PLAIN[state])
    if shown.unit is not None and state in OPEN_STATES:
        parts.append(f"由{shown.unit.name}负责")
    if shown.due_date and state in OPEN_STATES:
        d = shown.due_date
        days = f"按规定{item.deadline_days}个工作日内，" if item is not None else ""
        parts.append(f"{days}在{d.month}月{d.day}日前办完")
    steps = [
        ResidentStep(at=e.at, what=text)
        for e in shown.history
        if (text := _plain_step(e)) is not None
    ]
    summary = "，".join(parts) + "。"
    if state not in OPEN_STATES and (answer := public_answer(shown)):
        summary += f"办理结果：{answer}"
    return ResidentStatus(
        number=case.number,
        state=shown.state,
        summary=summary,
        handled_by=shown.unit.name if shown.unit else None,
        due_date=shown.due_date,
        steps=steps,
    )
