"""日盘点: every day, what falls due in the next two working days and what is overdue; overdue
cases are escalated once when the rules say so."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import visible
from api.clock import today
from api.deadlines import add_working_days
from api.lifecycle import OPEN_STATES
from api.models import Case, CaseEvent, User
from api.rules import Rules
from api.triage import escalate

OVERDUE_REASON = "超期未办结，提级督办"


def daily_review(session: Session, rules: Rules, user: User | None, *, escalate: bool) -> dict:
    day = today()
    horizon = add_working_days(day, rules.due_soon_working_days)
    query = select(Case).where(
        Case.state.in_([s.value for s in OPEN_STATES]), Case.due_date.is_not(None)
    )
    if user is not None:
        query = visible(query, user)
    due_soon, overdue, escalated = [], [], []
    for case in session.scalars(query.order_by(Case.due_date)).all():
        entry = {
            "number": case.number,
            "due_date": case.due_date.isoformat(),
            "state": case.state,
            "category": case.category,
            "unit": case.unit.name if case.unit else None,
        }
        if case.due_date < day:
            overdue.append(entry)
            if escalate and rules.escalation.escalate_overdue and _not_yet(session, case):
                _escalate(session, case)
                escalated.append(case.number)
        elif case.due_date <= horizon:
            due_soon.append(entry)
    return {
        "date": day.isoformat(),
        "due_by": horizon.isoformat(),
        "due_soon": due_soon,
        "overdue": overdue,
        "escalated": escalated,
    }


def _not_yet(session: Session, case: Case) -> bool:
    return (
        session.scalars(
            select(CaseEvent.id).where(
                CaseEvent.case_id == case.id,
                CaseEvent.action == "escalated",
                CaseEvent.note == OVERDUE_REASON,
            )
        ).first()
        is None
    )


def _escalate(session: Session, case: Case) -> None:
    escalate(session, case, "system", OVERDUE_REASON)
