"""Staff labels (every confirm and correct of a case's item, with who and when) read back out:
as training data, as the recent corrections a candidate model is checked on, and as a file for
analysts' own tools. Texts and labels only; never the complainant's contact details."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.clock import aware
from api.csv_export import csv_chunks
from api.models import Case, Label, User
from classifiers.training_set import Labelled

EXPORT_COLUMNS = ("case_number", "text", "label", "previous", "kind", "who", "when")


@dataclass(frozen=True)
class LabelRow:
    case_number: str
    text: str
    label: str
    previous: str | None
    kind: str
    who: str | None
    when: datetime

    def as_export(self) -> dict:
        data = asdict(self)
        data["when"] = aware(self.when).isoformat(timespec="seconds")
        return data

    def labelled(self) -> Labelled:
        return Labelled(self.text, self.label, f"case:{self.case_number}", self.kind)


def _query(latest_only: bool):
    query = (
        select(
            Case.number,
            Case.text,
            Label.category,
            Label.previous,
            Label.kind,
            User.username,
            Label.at,
        )
        .join(Case, Case.id == Label.case_id)
        .outerjoin(User, User.id == Label.user_id)
    )
    if latest_only:
        latest = select(func.max(Label.id)).group_by(Label.case_id).scalar_subquery()
        query = query.where(Label.id.in_(latest))
    return query


def all_labels(session: Session) -> Iterator[LabelRow]:
    """Every decision, oldest first (the export: a case corrected twice appears twice)."""
    for row in session.execute(_query(False).order_by(Label.id)).yield_per(1000):
        yield LabelRow(*row)


def current_labels(session: Session) -> list[LabelRow]:
    """Each labelled case's latest decision: the item staff last said it is (training data)."""
    return [LabelRow(*row) for row in session.execute(_query(True).order_by(Label.id))]


def recent_corrections(session: Session, n: int) -> list[LabelRow]:
    """The last ``n`` cases whose latest decision corrected the model, newest first."""
    query = _query(True).where(Label.kind == "correct").order_by(Label.id.desc()).limit(n)
    return [LabelRow(*row) for row in session.execute(query)]


def export_chunks(session: Session, fmt: str, chunk_rows: int = 500) -> Iterator[str]:
    """The export as text chunks (streamed over HTTP, written to a file by the CLI). CSV goes
    through the project's one CSV writer (BOM, formula escaping); JSON Lines has one object a
    line."""
    rows = (row.as_export() for row in all_labels(session))
    if fmt == "csv":
        yield from csv_chunks(
            list(EXPORT_COLUMNS), ([r[c] for c in EXPORT_COLUMNS] for r in rows), chunk_rows
        )
        return
    buffer = io.StringIO()
    for i, row in enumerate(rows, start=1):
        buffer.write(json.dumps(row, ensure_ascii=False) + "\n")
        if i % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
