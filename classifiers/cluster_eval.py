"""Scoring event clusters against labelled events: pairwise and B-cubed precision, recall, F1.

A labelled set is JSON Lines, one complaint per line in arrival order:
``{"id", "text", "category", "reporter", "received_at", "event", "style"?}``; ``event`` is null (or
absent) for a complaint that is an event of its own.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.cluster_engine import ClusterConfig, Complaint, EventClusterer, parse_time
from classifiers.taxonomy import Taxonomy


class EventSetError(ValueError):
    """A labelled event file is malformed; the message names the line."""


@dataclass(frozen=True)
class LabelledComplaint:
    complaint: Complaint
    event: str | None
    style: str
    category_given: bool


def load_event_set(
    path: Path,
    taxonomy: Taxonomy,
    predict: Callable[[list[str]], list[tuple[str, tuple[str, ...]]]] | None = None,
) -> list[LabelledComplaint]:
    """Read a labelled set. Records without a category get one from ``predict`` (texts ->
    [(category, alternatives)]), or fail when none is given."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EventSetError(f"{where}: not JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise EventSetError(f"{where}: needs an object with a text")
        if record.get("id") is None:
            raise EventSetError(f"{where}: missing id")
        category = record.get("category")
        if category is not None and category not in taxonomy.by_code:
            raise EventSetError(f"{where}: unknown category {category!r}")
        try:
            received = parse_time(record.get("received_at"))
        except ValueError as exc:
            raise EventSetError(f"{where}: {exc}") from exc
        rows.append((record, received))
    missing = [i for i, (r, _) in enumerate(rows) if r.get("category") is None]
    predicted: dict[int, tuple[str, tuple[str, ...]]] = {}
    if missing:
        if predict is None:
            raise EventSetError(f"{path.name}: {len(missing)} records have no category")
        for i, guess in zip(missing, predict([rows[i][0]["text"] for i in missing]), strict=True):
            predicted[i] = guess
    out = []
    for i, (record, received) in enumerate(rows):
        category, alternatives = predicted.get(i, (record.get("category"), ()))
        event = record.get("event")
        out.append(
            LabelledComplaint(
                Complaint(
                    id=str(record["id"]),
                    text=record["text"],
                    category=category,
                    reporter=None if record.get("reporter") is None else str(record["reporter"]),
                    received_at=received,
                    alternatives=alternatives,
                ),
                None if event in (None, "") else str(event),
                str(record.get("style", "")),
                i not in predicted,
            )
        )
    return out


def _singletons_apart(labels: Mapping[str, str | None]) -> dict[str, str]:
    return {k: (v if v is not None else f"\0{k}") for k, v in labels.items()}


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _prf(tp: float, pred: float, gold: float) -> tuple[float, float, float]:
    p = tp / pred if pred else 1.0
    r = tp / gold if gold else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pairwise_scores(
    gold: Mapping[str, str | None], predicted: Mapping[str, str | None]
) -> tuple[float, float, float]:
    """Precision, recall and F1 over pairs of complaints put in the same event."""
    g, p = _singletons_apart(gold), _singletons_apart(predicted)
    both = Counter((g[k], p[k]) for k in g)
    tp = sum(_pairs(n) for n in both.values())
    return _prf(
        tp,
        sum(_pairs(n) for n in Counter(p[k] for k in g).values()),
        sum(_pairs(n) for n in Counter(g.values()).values()),
    )


def bcubed_scores(
    gold: Mapping[str, str | None], predicted: Mapping[str, str | None]
) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1: per complaint, how much of its predicted event is its
    true event and how much of its true event it was put with, averaged."""
    g, p = _singletons_apart(gold), _singletons_apart(predicted)
    if not g:
        return 1.0, 1.0, 1.0
    both = Counter((g[k], p[k]) for k in g)
    gold_size, pred_size = Counter(g[k] for k in g), Counter(p[k] for k in g)
    precision = sum(both[(g[k], p[k])] / pred_size[p[k]] for k in g) / len(g)
    recall = sum(both[(g[k], p[k])] / gold_size[g[k]] for k in g) / len(g)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@dataclass
class ClusterEvaluation:
    pairwise: tuple[float, float, float]
    bcubed: tuple[float, float, float]
    n_complaints: int
    n_gold_events: int
    n_predicted_events: int
    missed: list[tuple[str, str]] = field(default_factory=list)  # same event, kept apart
    wrong: list[tuple[str, str]] = field(default_factory=list)  # different events, put together

    def summary(self) -> dict:
        names = ("precision", "recall", "f1")
        return {
            "complaints": self.n_complaints,
            "gold_events": self.n_gold_events,
            "predicted_events": self.n_predicted_events,
            **{f"pairwise_{n}": round(v, 4) for n, v in zip(names, self.pairwise, strict=True)},
            **{f"bcubed_{n}": round(v, 4) for n, v in zip(names, self.bcubed, strict=True)},
        }


def evaluate_clustering(
    records: Sequence[LabelledComplaint], taxonomy: Taxonomy, config: ClusterConfig | None = None
) -> tuple[ClusterEvaluation, EventClusterer]:
    """Feed the records in order to a fresh clusterer and score its events."""
    clusterer = EventClusterer(taxonomy, config)
    clusterer.accept_future = True  # the set's dates, not today's, are its clock
    for r in records:
        clusterer.add(r.complaint)
    predicted = clusterer.clusters()
    gold = {r.complaint.id: r.event for r in records}
    g, p = _singletons_apart(gold), _singletons_apart(predicted)
    missed, wrong = [], []
    ids = [r.complaint.id for r in records]
    by_gold: dict[str, list[str]] = defaultdict(list)
    for k in ids:
        by_gold[g[k]].append(k)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if g[a] == g[b] and p[a] != p[b]:
                missed.append((a, b))
            elif g[a] != g[b] and p[a] == p[b]:
                wrong.append((a, b))
    evaluation = ClusterEvaluation(
        pairwise=pairwise_scores(gold, predicted),
        bcubed=bcubed_scores(gold, predicted),
        n_complaints=len(records),
        n_gold_events=len(set(g.values())),
        n_predicted_events=len(set(p[k] for k in ids)),
        missed=missed,
        wrong=wrong,
    )
    return evaluation, clusterer


def format_cluster_report(ev: ClusterEvaluation) -> str:
    p, r, f = ev.pairwise
    bp, br, bf = ev.bcubed
    return "\n".join(
        [
            f"complaints {ev.n_complaints}, labelled events {ev.n_gold_events}, "
            f"predicted events {ev.n_predicted_events}",
            f"pairwise  precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}",
            f"B-cubed   precision {bp:.3f}  recall {br:.3f}  F1 {bf:.3f}",
            f"same event kept apart: {len(ev.missed)} pairs; different events put together: "
            f"{len(ev.wrong)} pairs",
        ]
    )
