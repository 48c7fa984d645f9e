"""Scoring a model on a labelled split: per-item metrics, accuracy by style, confusion matrix."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from classifiers.taxonomy import OUT_CODE


@dataclass
class Evaluation:
    labels: list[str]  # codes in report order
    accuracy: float
    macro_f1: float
    per_item: dict[str, dict[str, float]]  # code -> precision, recall, f1, support
    by_style: dict[str, tuple[float, int]]  # style -> (accuracy, n)
    confusion: np.ndarray
    review_share: float
    auto_accept_precision: float | None
    unsure_share: float = 0.0  # sent to review for low confidence (not for being 清单外)

    @property
    def out(self) -> dict[str, float]:
        return self.per_item.get(OUT_CODE, {})

    def summary(self) -> dict:
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "out_precision": round(self.out.get("precision", 0.0), 4),
            "out_recall": round(self.out.get("recall", 0.0), 4),
            "review_share": round(self.review_share, 4),
            "unsure_share": round(self.unsure_share, 4),
            "auto_accept_precision": (
                None if self.auto_accept_precision is None else round(self.auto_accept_precision, 4)
            ),
        }


def evaluate_predictions(
    gold: Sequence[str],
    predicted: Sequence[str],
    styles: Sequence[str],
    needs_review: Sequence[bool],
    codes: Sequence[str],
) -> Evaluation:
    """Metrics over all taxonomy codes (an item with no test examples still appears, with 0)."""
    labels = list(codes)
    p, r, f, s = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    per_item = {
        code: {
            "precision": float(p[i]),
            "recall": float(r[i]),
            "f1": float(f[i]),
            "support": int(s[i]),
        }
        for i, code in enumerate(labels)
    }
    hits: dict[str, list[bool]] = defaultdict(list)
    for g, pr, st in zip(gold, predicted, styles, strict=True):
        hits[st].append(g == pr)
    by_style = {st: (float(np.mean(v)), len(v)) for st, v in sorted(hits.items())}
    review = np.asarray(needs_review, dtype=bool)
    correct = np.asarray(gold) == np.asarray(predicted)
    accepted = ~review
    present = [c for c in labels if c in set(gold)]
    return Evaluation(
        labels=labels,
        accuracy=float(accuracy_score(gold, predicted)),
        macro_f1=float(f1_score(gold, predicted, labels=present, average="macro", zero_division=0)),
        per_item=per_item,
        by_style=by_style,
        confusion=confusion_matrix(gold, predicted, labels=labels),
        review_share=float(review.mean()) if len(review) else 0.0,
        auto_accept_precision=float(correct[accepted].mean()) if accepted.any() else None,
        unsure_share=(
            float((review & (np.asarray(predicted) != OUT_CODE)).mean()) if len(review) else 0.0
        ),
    )


def format_report(ev: Evaluation, names: dict[str, str]) -> str:
    """A plain-text report for the terminal."""
    lines = [f"{'code':<5} {'name':<14} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}"]
    for code in ev.labels:
        m = ev.per_item[code]
        name = names.get(code, "")[:12]
        lines.append(
            f"{code:<5} {name:<14} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} "
            f"{m['support']:4d}"
        )
    lines.append("")
    lines.append("accuracy by style:")
    for style, (acc, n) in ev.by_style.items():
        lines.append(f"  {style:<11} {acc:6.3f}  (n={n})")
    lines.append("")
    for key, value in ev.summary().items():
        lines.append(f"{key}: {value}")
    return "\n".join(lines)


def plot_confusion(ev: Evaluation, path: Path) -> Path:
    """Write the confusion matrix (rows: true item, columns: predicted) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(ev.labels)
    fig, ax = plt.subplots(figsize=(0.32 * n + 3, 0.32 * n + 2.5), dpi=110)
    ax.imshow(ev.confusion, cmap="Blues")
    ax.set_xticks(range(n), ev.labels, rotation=90, fontsize=7)
    ax.set_yticks(range(n), ev.labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"accuracy {ev.accuracy:.3f}  macro-F1 {ev.macro_f1:.3f}")
    top = ev.confusion.max() or 1
    for i in range(n):
        for j in range(n):
            value = ev.confusion[i, j]
            if value:
                color = "white" if value > top / 2 else "black"
                ax.text(j, i, str(value), ha="center", va="center", fontsize=6, color=color)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def coverage_row(name: str, n: int, summary: dict) -> str:
    """One line of the coverage/precision table: how much goes to review, how precise the rest."""

    def num(key: str) -> str:
        value = summary.get(key)
        return "   -  " if value is None else f"{value:6.3f}"

    return (
        f"{name:<9} {n:>5} {num('accuracy')} {num('out_recall')} {num('review_share')} "
        f"{num('unsure_share')} {num('auto_accept_precision')}"
    )


COVERAGE_HEADER = (
    f"{'split':<9} {'n':>5} {'acc':>6} {'OUTrec':>6} {'review':>6} {'unsure':>6} {'accP':>6}"
)
COVERAGE_LEGEND = (
    "review: share sent to staff review (清单外 and in-list items when unsure); "
    "unsure: in-list but below the confidence threshold; accP: precision of the rest"
)


def cv_summary(metadata: dict) -> dict:
    """The model's cross-validated numbers on its training split, in ``Evaluation.summary`` keys."""
    return {
        "accuracy": metadata.get("cv_accuracy"),
        "out_recall": metadata.get("cv_out_recall"),
        "review_share": metadata.get("cv_review_share"),
        "unsure_share": metadata.get("cv_unsure_share"),
        "auto_accept_precision": metadata.get("cv_auto_accept_precision"),
    }
