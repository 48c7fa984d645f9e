"""Drift watch for the triage model (issue 8): week by week, the share of 清单外 cases, the share
the model was unsure about, and how far the item mix has moved from what it was trained on.

A share moving more than ``SHARE_BOUND`` (10 percentage points) from its baseline (the week
before; the training data when that week is too small to say) raises an alert, and so does an
item mix whose Jensen-Shannon divergence from the training labels exceeds ``JS_BOUND``. Small
weeks are shown but not judged: with fewer than ``MIN_SHARE_CASES`` cases a share swings by
chance, and with fewer than ``MIN_JS_CASES`` the divergence of a sample from its own source is
already near the bound (measured: 0.17 on average at 50 cases, 0.08 at 100)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from api.access import sees_every_case, visible
from api.case_counts import confidence_bucket
from api.clock import today
from api.metrics import week_start
from api.models import Case, CaseCount, User
from api.workbench import cache
from api.workbench.queries import start_of
from classifiers.taxonomy import OUT_CODE, Taxonomy

SHARE_BOUND = 0.10
JS_BOUND = 0.2
MIN_SHARE_CASES = 50
MIN_JS_CASES = 100
WEEKS = 8


@dataclass
class Week:
    start: date
    n: int
    out_share: float | None
    low_share: float | None
    js: float | None
    alerts: list[str] = field(default_factory=list)


@dataclass
class DriftWatch:
    weeks: list[Week]
    training_out_share: float
    training_low_share: float | None
    review_threshold: float
    model_name: str
    share_bound: float = SHARE_BOUND
    js_bound: float = JS_BOUND
    min_share_cases: int = MIN_SHARE_CASES
    min_js_cases: int = MIN_JS_CASES

    @property
    def alerts(self) -> list[str]:
        return [f"{w.start.isoformat()} 这一周：{a}" for w in self.weeks for a in w.alerts]


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (0: the same mix, 1: nothing in common)."""
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / m[mask])))

    return (kl(p) + kl(q)) / 2


@lru_cache(maxsize=1)
def _corpus_counts() -> dict[str, int]:
    """Label counts of the training split, for models trained before they kept their own."""
    from classifiers.corpus import CORPUS_DIR, load_split
    from classifiers.taxonomy import load_taxonomy

    return dict(Counter(e.label for e in load_split(CORPUS_DIR / "train", load_taxonomy())))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def drift_watch(
    session: Session,
    user: User,
    taxonomy: Taxonomy,
    model,
    model_name: str | None = None,
    weeks: int = WEEKS,
) -> DriftWatch:
    """The last ``weeks`` weeks (this one included) against ``model``'s training data
    (``model`` None: the corpus, and a review threshold of 0.5)."""
    meta = getattr(model, "metadata", {}) or {}
    counts = meta.get("label_counts") or _corpus_counts()
    codes = taxonomy.codes
    train = np.asarray([counts.get(c, 0) for c in codes], dtype=float)
    train_out = counts.get(OUT_CODE, 0) / max(sum(counts.values()), 1)
    accept = meta.get("cv_auto_accept_share")
    train_low = None if accept is None else 1.0 - accept
    threshold = float(getattr(model, "review_threshold", 0.5))
    first = _monday(today()) - timedelta(days=7 * (weeks - 1))
    key = ("drift", id(session.get_bind()), cache.scope(user), first, threshold)
    rows = cache.cached(key, lambda: week_counts(session, user, first, threshold))
    by_week: dict[date, list] = {first + timedelta(days=7 * i): [] for i in range(weeks)}
    for week_day, category, n, scored, below in rows:
        if isinstance(week_day, str):
            week_day = date.fromisoformat(week_day[:10])
        if week_day in by_week:
            by_week[week_day].append((category, n, scored, below))
    index = {c: i for i, c in enumerate(codes)}
    out: list[Week] = []
    previous: Week | None = None
    for start, groups in by_week.items():
        n = sum(g[1] for g in groups)
        week = Week(start, n, None, None, None)
        if n:
            week.out_share = sum(g[1] for g in groups if g[0] == OUT_CODE) / n
            scored = sum(g[2] for g in groups)
            week.low_share = sum(g[3] for g in groups) / scored if scored else None
            mix = np.zeros(len(codes))
            for category, count, _, _ in groups:
                if category in index:
                    mix[index[category]] += count
            if mix.sum() and train.sum():
                week.js = js_divergence(mix, train)
        _judge(week, previous, train_out, train_low)
        out.append(week)
        if n >= MIN_SHARE_CASES:
            previous = week
    return DriftWatch(out, train_out, train_low, threshold, model_name or "")


def week_counts(session: Session, user: User, first: date, threshold: float) -> list[tuple]:
    """(week, item, cases, cases with a confidence, those below ``threshold``) from ``first``
    on, counted by the database (issue 17: 500,000 cases), not row by row: from
    ``case_counts``, by hundredths of confidence, for those who see every case."""
    if not sees_every_case(user):
        return week_counts_directly(session, user, first, threshold)
    # Hundredths wholly below the threshold count whole; the threshold's own hundredth is
    # counted case by case (a hundredth of the cases, by ix_cases_confidence).
    t = CaseCount
    edge = int(threshold * 100)  # the hundredth the threshold falls in (as confidence_bucket)
    scored = case((t.bucket >= 0, t.cases), else_=0)
    below = case(((t.bucket >= 0) & (t.bucket < edge), t.cases), else_=0)
    rows = session.execute(
        select(t.week, t.category, func.sum(t.cases), func.sum(scored), func.sum(below))
        .where(t.kind == "confidence", t.week >= first)
        .group_by(t.week, t.category)
    ).all()
    week_col = week_start(Case.received_at).label("week")
    near = session.execute(
        select(week_col, Case.category, func.count())
        .where(Case.received_at >= start_of(first), Case.category.is_not(None))
        .where(Case.confidence >= (edge - 0.5) / 100, Case.confidence < (edge + 1.5) / 100)
        .where(confidence_bucket(Case.confidence) == edge, Case.confidence < threshold)
        .group_by(week_col, Case.category)
    ).all()
    extra = {(_as_date(w), c): n for w, c, n in near}
    return [
        (_as_date(w), c, int(n), int(s or 0), int(b or 0) + extra.get((_as_date(w), c), 0))
        for w, c, n, s, b in rows
        if n
    ]


def week_counts_directly(
    session: Session, user: User, first: date, threshold: float
) -> list[tuple]:
    """``week_counts`` from the cases themselves, one ``GROUP BY`` week and item."""
    week_col = week_start(Case.received_at).label("week")
    low = func.coalesce(func.sum(case((Case.confidence < threshold, 1), else_=0)), 0)
    query = visible(
        select(week_col, Case.category, func.count(), func.count(Case.confidence), low)
        .where(Case.received_at >= start_of(first), Case.category.is_not(None))
        .group_by(week_col, Case.category),
        user,
    )
    return [(_as_date(w), c, n, s, b) for w, c, n, s, b in session.execute(query).all()]


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _judge(week: Week, previous: Week | None, train_out: float, train_low: float | None) -> None:
    if week.n >= MIN_SHARE_CASES:
        base = "上一周" if previous is not None else "训练数据"
        out_base = previous.out_share if previous is not None else train_out
        low_base = previous.low_share if previous is not None else train_low
        if week.out_share is not None and abs(week.out_share - out_base) > SHARE_BOUND:
            week.alerts.append(
                f"清单外占比 {week.out_share:.0%}，{base} {out_base:.0%}，变化超过10个百分点"
            )
        if (
            week.low_share is not None
            and low_base is not None
            and abs(week.low_share - low_base) > SHARE_BOUND
        ):
            week.alerts.append(
                f"低置信度占比 {week.low_share:.0%}，{base} {low_base:.0%}，变化超过10个百分点"
            )
    if week.n >= MIN_JS_CASES and week.js is not None and week.js > JS_BOUND:
        week.alerts.append(
            f"事项分布与训练数据的JS散度 {week.js:.2f}，超过 {JS_BOUND}，请检查是否需要重新训练"
        )


def for_dashboard(session: Session, user: User, context) -> DriftWatch | None:
    """The drift watch for the dashboard: supervisors and analysts only (it is about the
    model, not about a unit's work)."""
    if user.role not in ("supervisor", "analyst"):
        return None
    try:
        model = context.model.get()
    except Exception:  # no model yet, or a broken one: judge against the corpus
        model = None
    return drift_watch(session, user, context.taxonomy, model, context.model.version)
