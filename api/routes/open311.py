"""Read-only Open311 GeoReport v2 view, because that is what other civic tools speak.

Only what may be public is shown: the item, the place (township and village), the state and the
dates. Complaint texts and complainants never appear here; they could identify a reporter. Nor
do case numbers: with a phone, a case number opens the resident's status page, so the feed names
cases by their own random ``public_id``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import select

from api.access import DB, Ctx
from api.lifecycle import OPEN_STATES, PLAIN, State
from api.models import Case
from api.schemas import AwareDateTime
from classifiers.taxonomy import Taxonomy

router = APIRouter(prefix="/open311/v2", tags=["open311"])


def _service(item, groups: dict[str, str]) -> dict:
    return {
        "service_code": item.code,
        "service_name": item.name,
        "description": item.scope,
        "metadata": False,
        "type": "realtime",
        "keywords": item.group,
        "group": groups.get(item.group, item.group),
    }


@router.get("/services.json")
def services(context: Ctx) -> list[dict]:
    tax = context.taxonomy
    return [_service(item, tax.groups) for item in tax.items]


def _request(case: Case, tax: Taxonomy, lead_id: str | None) -> dict:
    item = tax.by_code.get(case.category or "")
    state = State(case.state)
    notes = PLAIN[state]
    if lead_id:
        notes += f"（并入{lead_id}）"
    updated = case.history[-1].at if case.history else case.received_at
    place = "".join(p for p in (case.township, case.village) if p)
    return {
        "service_request_id": case.public_id,
        "status": "open" if state in OPEN_STATES else "closed",
        "status_notes": notes,
        "service_name": item.name if item else None,
        "service_code": case.category,
        "description": f"{item.name}相关问题" if item else "待分类",
        "agency_responsible": case.unit.name if case.unit else None,
        "service_notice": None,
        "requested_datetime": case.received_at.isoformat(),
        "updated_datetime": updated.isoformat(),
        "expected_datetime": case.due_date.isoformat() if case.due_date else None,
        "address": place or None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _lead_ids(session, cases: list[Case]) -> dict[int, str]:
    ids = {c.lead_case_id for c in cases if c.lead_case_id}
    if not ids:
        return {}
    return dict(session.execute(select(Case.id, Case.public_id).where(Case.id.in_(ids))).all())


PublicIds = Annotated[
    str | None, Query(max_length=2000, pattern=r"^[0-9a-f,\s]*$", description="公开编号，逗号分隔")
]
Codes = Annotated[str | None, Query(max_length=500, pattern=r"^[A-Z0-9,\s]*$")]


@router.get("/requests.json")
def requests(
    context: Ctx,
    session: DB,
    service_request_id: PublicIds = None,
    service_code: Codes = None,
    start_date: AwareDateTime | None = None,
    end_date: AwareDateTime | None = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict]:
    query = select(Case)
    if service_request_id:
        ids = [n.strip() for n in service_request_id.split(",") if n.strip()]
        query = query.where(Case.public_id.in_(ids[:200]))
    if service_code:
        codes = [c.strip() for c in service_code.split(",") if c.strip()]
        query = query.where(Case.category.in_(codes[:100]))
    if start_date:
        query = query.where(Case.received_at >= start_date)
    if end_date:
        query = query.where(Case.received_at <= end_date)
    if status:
        open_states = [s.value for s in OPEN_STATES]
        query = query.where(
            Case.state.in_(open_states) if status == "open" else Case.state.not_in(open_states)
        )
    cases = session.scalars(query.order_by(Case.received_at.desc()).limit(limit)).all()
    leads = _lead_ids(session, cases)
    return [_request(c, context.taxonomy, leads.get(c.lead_case_id)) for c in cases]


@router.get("/requests/{public_id}.json")
def one_request(
    public_id: Annotated[str, Path(max_length=32)], context: Ctx, session: DB
) -> list[dict]:
    """One case by its public id (``service_request_id``); never by case number."""
    case = session.scalars(select(Case).where(Case.public_id == public_id.lower())).first()
    if case is None:
        raise HTTPException(404, "没有找到该案件")
    return [_request(case, context.taxonomy, _lead_ids(session, [case]).get(case.lead_case_id))]
