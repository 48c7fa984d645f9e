"""The resident's lookup: case number + the phone it was filed from.

Residents ask "what happened to my case?" far more often than anything else is done, so this
path reads plain rows (three small queries) instead of loading ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.case_numbers import parse_case_number
from api.models import Case, CaseEvent, Reporter, Unit


@dataclass(frozen=True)
class UnitName:
    name: str


@dataclass(frozen=True)
class CaseSnapshot:
    """What a resident's answer needs of a case (duck-types the ORM case for the views)."""

    id: int
    number: str
    state: str
    category: str | None
    due_date: date | None
    unit: UnitName | None
    lead_case_id: int | None
    history: list[Any]


_COLUMNS = (
    Case.id,
    Case.number,
    Case.state,
    Case.category,
    Case.due_date,
    Case.lead_case_id,
    Unit.name,
    Reporter.phone,
    CaseEvent.at,
    CaseEvent.action,
    CaseEvent.to_state,
    CaseEvent.note,
    CaseEvent.public,
)


def _load(session: Session, where) -> tuple[CaseSnapshot, str | None] | None:
    """One round trip: the case, its unit and reporter's phone, and its history rows."""
    rows = session.execute(
        select(*_COLUMNS)
        .select_from(Case)
        .outerjoin(Reporter, Reporter.id == Case.reporter_id)
        .outerjoin(Unit, Unit.id == Case.unit_id)
        .outerjoin(CaseEvent, CaseEvent.case_id == Case.id)
        .where(where)
        .order_by(CaseEvent.id)
    ).all()
    if not rows:
        return None
    first = rows[0]
    snapshot = CaseSnapshot(
        id=first.id,
        number=first.number,
        state=first.state,
        category=first.category,
        due_date=first.due_date,
        unit=UnitName(first.name) if first.name else None,
        lead_case_id=first.lead_case_id,
        history=[row for row in rows if row.action is not None],
    )
    return snapshot, first.phone


def find_for_resident(
    session: Session, number_raw: str, phone: str
) -> tuple[CaseSnapshot, CaseSnapshot | None] | None:
    """(the case, the lead case it was joined to) if number and phone match, else None."""
    number = parse_case_number(number_raw)
    if number is None:
        return None
    found = _load(session, Case.number == number)
    if found is None or found[1] != phone:
        return None
    case = found[0]
    lead = None
    if case.lead_case_id:
        lead_found = _load(session, Case.id == case.lead_case_id)
        lead = lead_found[0] if lead_found else None
    return case, lead
