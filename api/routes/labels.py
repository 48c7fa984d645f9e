"""Export of staff labels for analysts' own tools (issue 8): texts and labels with who and when,
never the complainant's contact details."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.access import Ctx, CurrentUser, require
from api.clock import today
from api.labels import export_chunks
from api.permissions import Action

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
