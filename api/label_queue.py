"""The analysts' labelling queue (issue 17): which cases to ask them about, and their labels.

Most labels teach the model little (it was already sure and right). The queue picks the cases
where a label teaches it most: the model was unsure (confidence under its review threshold),
the model and staff disagree (a supervisor or the resident chose another item than the model),
or the text is new wording (most of its words never appear in the training data: the drift
watch's question asked of one text, ``classifiers.new_wording``). Those picks are biased by
design, so a share of every batch is a plain random sample of classified cases: the model's
accuracy on it is an unbiased estimate. A share of the cases (chosen by a hash of the case id,
so it does not depend on who opens the page first) is labelled by a second analyst, and the
agreement between the two (Cohen's kappa) says how far the labels themselves can be trusted.

Analysts' labels are rows of ``labels`` with ``origin = "queue"``: they never change the case
(that is a supervisor's decision), and they feed ``hotline train --from-db`` (``api.labels``).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.clock import now
from api.lifecycle import State
from api.models import Case, Label, LabelTask, User
from api.workflow import ActionRefused
from classifiers.new_wording import NEW_WORDS_BOUND, text_novelty, training_words
from classifiers.taxonomy import Taxonomy

QUEUE = "queue"  # labels.origin of an analyst's label
BATCH = 40  # cases added to the queue when it runs low
RANDOM_SHARE = 0.25  # of each batch: the unbiased sample
DOUBLE_SHARE = 0.2  # of the cases: labelled by a second analyst
SCAN = 5000  # newest classified cases looked at when filling the queue
REASONS = ("disagreement", "low_confidence", "new_wording")
LOW_WATER = 5  # fill the queue when fewer tasks than this are left for an analyst


def review_threshold(context) -> float:
    """The active model's review threshold (0.5 without a model)."""
    try:
        return float(context.model.get().review_threshold)
    except Exception:  # no model yet, or a broken one
        return 0.5


@dataclass(frozen=True)
class Candidate:
    case_id: int
    why: str
    score: float


def informative(
    confidence: float | None,
    predicted: str | None,
    category: str | None,
    resident: str | None,
    new_words: float | None,
    threshold: float,
) -> Candidate | None:
    """Why a label on this case would teach the model (the strongest reason), or None."""
    if predicted and ((category and category != predicted) or (resident and resident != predicted)):
        return Candidate(0, "disagreement", 1.0)
    if confidence is not None and confidence < threshold:
        return Candidate(0, "low_confidence", 1.0 - confidence)
    if new_words is not None and new_words >= NEW_WORDS_BOUND:
        return Candidate(0, "new_wording", new_words)
    return None


def is_double(case_id: int, share: float = DOUBLE_SHARE) -> bool:
    """Whether a second analyst labels this case: a fixed share, by a hash of the id."""
    digest = hashlib.sha256(f"double:{case_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def fill(
    session: Session,
    threshold: float,
    *,
    batch: int = BATCH,
    random_share: float = RANDOM_SHARE,
    seed: int | None = None,
) -> int:
    """Add up to ``batch`` cases to the queue: the most informative first (round robin over
    the reasons, so none crowds the others out), then a random sample. Returns how many."""
    taken = select(LabelTask.case_id)
    rows = session.execute(
        select(
            Case.id,
            Case.text,
            Case.confidence,
            Case.predicted_category,
            Case.category,
            Case.resident_category,
            Case.category_confirmed,
        )
        .where(
            Case.category.is_not(None),
            Case.text.is_not(None),
            Case.state != State.MERGED.value,
            Case.id.not_in(taken),
        )
        .order_by(Case.id.desc())
        .limit(SCAN)
    ).all()
    if not rows:
        return 0
    known = training_words()
    by_reason: dict[str, list[Candidate]] = {r: [] for r in REASONS}
    for case_id, text, confidence, predicted, category, resident, confirmed in rows:
        words = None
        if confidence is None or confidence >= threshold:  # segment only when it can matter
            words = text_novelty(text or "", known)
        found = informative(confidence, predicted, category, resident, words, threshold)
        # A supervisor's decision settles a case, except one against the model: an analyst's
        # independent label checks it.
        if found is not None and (not confirmed or found.why == "disagreement"):
            by_reason[found.why].append(Candidate(case_id, found.why, found.score))
    for found in by_reason.values():
        found.sort(key=lambda c: -c.score)
    n_random = max(1, math.floor(batch * random_share))
    chosen: list[Candidate] = []
    while len(chosen) < batch - n_random and any(by_reason.values()):
        for reason in REASONS:
            if by_reason[reason] and len(chosen) < batch - n_random:
                chosen.append(by_reason[reason].pop(0))
    picked = {c.case_id for c in chosen}
    rest = [row[0] for row in rows if row[0] not in picked]
    sample = random.Random(seed).sample(rest, min(n_random, len(rest)))
    chosen += [Candidate(case_id, "random", 0.0) for case_id in sample]
    at = now()
    for c in chosen:
        session.add(
            LabelTask(
                case_id=c.case_id,
                why=c.why,
                score=c.score,
                double=is_double(c.case_id),
                added_at=at,
            )
        )
    return len(chosen)


def _labellers():
    """Per task's case: how many analysts labelled it from the queue."""
    return (
        select(Label.case_id, func.count(func.distinct(Label.user_id)).label("n"))
        .where(Label.origin == QUEUE)
        .group_by(Label.case_id)
        .subquery()
    )


def open_tasks(session: Session, user: User, limit: int = 1) -> list[tuple[LabelTask, Case]]:
    """The next tasks for this analyst: not labelled by them, still needing a label (a second
    one for the double-labelled share, those first, so the agreement grows)."""
    counts = _labellers()
    mine = select(Label.case_id).where(Label.origin == QUEUE, Label.user_id == user.id)
    n = func.coalesce(counts.c.n, 0)
    query = (
        select(LabelTask, Case)
        .join(Case, Case.id == LabelTask.case_id)
        .outerjoin(counts, counts.c.case_id == LabelTask.case_id)
        .where(
            LabelTask.case_id.not_in(mine),
            ((LabelTask.double.is_(True)) & (n < 2)) | (n < 1),
        )
        .order_by(n.desc(), LabelTask.id)
        .limit(limit)
    )
    return [(task, case) for task, case in session.execute(query).all()]


def remaining(session: Session, user: User) -> int:
    return len(open_tasks(session, user, limit=10_000))


def add_label(
    session: Session,
    task_id: int,
    code: str,
    reason: str | None,
    user: User,
    taxonomy: Taxonomy,
) -> Label:
    """An analyst's label on a queued case, with who, when and why. The case is not changed."""
    if code not in taxonomy.by_code:
        raise ActionRefused(f"没有编号为{code}的监督事项")
    task = session.get(LabelTask, task_id)
    if task is None:
        raise ActionRefused("标注队列里没有这件案件")
    already = session.scalar(
        select(Label.id).where(
            Label.case_id == task.case_id, Label.origin == QUEUE, Label.user_id == user.id
        )
    )
    if already is not None:
        raise ActionRefused("您已经标注过这件案件")
    others = session.scalar(
        select(func.count(func.distinct(Label.user_id))).where(
            Label.case_id == task.case_id, Label.origin == QUEUE
        )
    )
    if others >= (2 if task.double else 1):
        raise ActionRefused("这件案件已经有足够的标注")
    case = session.get(Case, task.case_id)
    label = Label(
        case_id=task.case_id,
        category=code,
        previous=case.category if case else None,
        kind="confirm" if case is not None and code == case.category else "correct",
        user_id=user.id,
        at=now(),
        origin=QUEUE,
        reason=(reason or "").strip()[:500] or None,
    )
    session.add(label)
    return label
