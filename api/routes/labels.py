"""Staff labels over the API: the export for analysts' own tools (issue 8), and the analysts'
labelling queue (issue 17: the next cases to label, a label with why, the agreement). Texts
and labels with who and when, never the complainant's contact details."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.access import DB, Ctx, CurrentUser, require
from api.clock import today
from api.db import committing
from api.label_queue import LOW_WATER, add_label, fill, open_tasks, review_threshold
from api.labels import agreement, export_chunks
from api.permissions import Action
from api.workflow import ActionRefused
from classifiers.redact import redact

router = APIRouter(prefix="/api/v1", tags=["labels"])
_MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


@router.get("/labels/export")
def export_labels(
    context: Ctx,
    user: CurrentUser,
    format: Annotated[str, Query(pattern="^(csv|jsonl)$")] = "csv",
):
    """Every confirm/correct decision: case_number, text, label, previous, kind, who, when."""
    require(user, Action.EXPORT_LABELS)

    def chunks() -> Iterator[bytes]:
        # Its own session: the request's is closed before a streamed body is sent.
        with context.sessions() as session:
            for chunk in export_chunks(session, format):
                yield chunk.encode("utf-8")

    name = f"labels-{today().isoformat()}.{format}"
    return StreamingResponse(
        chunks(),
        media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class LabelTaskOut(BaseModel):
    """A case to label: the task id and the masked text, nothing that leads to the case."""

    task_id: int
    text: str
    why: str
    double: bool


class LabelIn(BaseModel):
    category: str = Field(pattern=r"^[A-Z]\d{2}$|^OUT$")
    reason: str | None = Field(default=None, max_length=500)


class AgreementOut(BaseModel):
    pairs: int
    agreed: int
    kappa: float | None
    sample: int
    model_right: int
    accuracy: float | None


@router.get("/labels/queue", response_model=list[LabelTaskOut])
def label_queue(
    context: Ctx,
    session: DB,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
):
    """The next cases for this analyst to label (the queue is filled when it runs low)."""
    require(user, Action.LABEL_CASES)
    if len(open_tasks(session, user, limit=LOW_WATER)) < LOW_WATER:
        with committing(session):
            fill(session, review_threshold(context))
    return [
        LabelTaskOut(task_id=t.id, text=redact(c.text or "").text, why=t.why, double=t.double)
        for t, c in open_tasks(session, user, limit=limit)
    ]


@router.post("/labels/queue/{task_id}", status_code=201)
def label_case(
    task_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: LabelIn,
    context: Ctx,
    session: DB,
    user: CurrentUser,
) -> dict:
    """An analyst's label, kept with who, when and why; it trains the next model."""
    require(user, Action.LABEL_CASES)
    try:
        with committing(session):
            label = add_label(session, task_id, body.category, body.reason, user, context.taxonomy)
    except ActionRefused as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"id": label.id, "category": label.category, "kind": label.kind}


@router.get("/labels/agreement", response_model=AgreementOut)
def label_agreement(session: DB, user: CurrentUser):
    """Cohen's kappa between analysts, and the model's accuracy on the random sample."""
    require(user, Action.LABEL_CASES)
    found = agreement(session)
    return AgreementOut(
        pairs=found.pairs,
        agreed=found.agreed,
        kappa=found.kappa,
        sample=found.sample,
        model_right=found.model_right,
        accuracy=found.accuracy,
    )
