"""Staff labels (every confirm and correct of a case's item by a supervisor, and every label an
analyst gave from the labelling queue, ``api.label_queue``; each with who, when and why) read
back out: as training data, as the recent corrections a candidate model is checked on, as a
file for analysts' own tools, and as the agreement between analysts. Texts and labels only;
never the complainant's contact details."""

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
from api.handoff_text import resident_words
from api.models import Case, Label, LabelTask, User
from classifiers.training_set import Labelled

EXPORT_COLUMNS = (
    "case_number",
    "text",
    "label",
    "previous",
    "kind",
    "who",
    "when",
    "origin",
    "reason",
)


@dataclass(frozen=True)
class LabelRow:
    case_number: str
    text: str
    label: str
    previous: str | None
    kind: str
    who: str | None
    when: datetime
    origin: str | None = None  # None: a supervisor on the case page; "queue": an analyst
    reason: str | None = None

    def as_export(self) -> dict:
        data = asdict(self)
        data["when"] = aware(self.when).isoformat(timespec="seconds")
        return data

    def labelled(self) -> Labelled:
        return Labelled(
            resident_words(self.text), self.label, f"case:{self.case_number}", self.kind
        )


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
            Label.origin,
            Label.reason,
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
    """The training data: for each labelled case, a supervisor's latest decision if there is
    one (it is what the case now is); else each analyst's latest label from the queue, one row
    when they agree, one per item when they do not (the training set then leaves the text out
    as a conflict, 标注冲突, until a supervisor settles it)."""
    supervised = select(func.max(Label.id)).where(Label.origin.is_(None)).group_by(Label.case_id)
    rows = [
        LabelRow(*row) for row in session.execute(_query(False).where(Label.id.in_(supervised)))
    ]
    settled = {row.case_number for row in rows}
    per_analyst = (
        select(func.max(Label.id))
        .where(Label.origin.is_not(None))
        .group_by(Label.case_id, Label.user_id)
    )
    seen: set[tuple[str, str]] = set()
    for row in session.execute(_query(False).where(Label.id.in_(per_analyst)).order_by(Label.id)):
        found = LabelRow(*row)
        if found.case_number in settled or (found.case_number, found.label) in seen:
            continue
        seen.add((found.case_number, found.label))
        rows.append(found)
    rows.sort(key=lambda r: r.when)
    return rows


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


@dataclass(frozen=True)
class Agreement:
    """How far analysts' labels agree (the cases two analysts labelled), and the model's
    accuracy on the random sample of the queue (an unbiased estimate, unlike the picked cases)."""

    pairs: int
    agreed: int
    kappa: float | None
    sample: int
    model_right: int

    @property
    def raw(self) -> float | None:
        return self.agreed / self.pairs if self.pairs else None

    @property
    def accuracy(self) -> float | None:
        return self.model_right / self.sample if self.sample else None

    @property
    def accuracy_interval(self) -> tuple[float, float] | None:
        """95% Wilson interval of the model's accuracy on the random sample."""
        if not self.sample:
            return None
        n, p, z = self.sample, self.model_right / self.sample, 1.96
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)


def kappa(first: list[str], second: list[str]) -> float | None:
    """Cohen's kappa of two analysts' labels on the same cases; None with fewer than two
    cases, or when it is undefined (both used one and the same item throughout)."""
    from sklearn.metrics import cohen_kappa_score

    if len(first) < 2:
        return None
    if len(set(first) | set(second)) < 2:
        return None
    value = float(cohen_kappa_score(first, second))
    return None if value != value else value  # NaN: undefined


def agreement(session: Session) -> Agreement:
    """Analysts' agreement (the first two analysts on each case) and the model's accuracy on the
    queue's random sample (against the first analyst's label)."""

    rows = session.execute(
        select(Label.case_id, Label.user_id, Label.category, LabelTask.why, Case.predicted_category)
        .join(LabelTask, LabelTask.case_id == Label.case_id)
        .join(Case, Case.id == Label.case_id)
        .where(Label.origin == "queue")
        .order_by(Label.id)
    ).all()
    by_case: dict[int, list[str]] = {}
    users: dict[int, set[int | None]] = {}
    why: dict[int, tuple[str, str | None]] = {}
    for case_id, user_id, category, picked, predicted in rows:
        if user_id in users.setdefault(case_id, set()):
            continue
        users[case_id].add(user_id)
        by_case.setdefault(case_id, []).append(category)
        why[case_id] = (picked, predicted)
    pairs = [labels[:2] for labels in by_case.values() if len(labels) >= 2]
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    sample = [cid for cid, (picked, _) in why.items() if picked == "random"]
    return Agreement(
        pairs=len(pairs),
        agreed=sum(a == b for a, b in pairs),
        kappa=kappa(first, second),
        sample=len(sample),
        model_right=sum(why[cid][1] == by_case[cid][0] for cid in sample),
    )
