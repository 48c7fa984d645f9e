"""A candidate model against the active one, on the same labelled check sets, and the gate a
candidate must pass before it replaces the active model.

The gate looks at the frozen test split only (never trained on, the same for every version):
the candidate is refused when its macro-F1 is lower by more than ``MAX_MACRO_DROP`` or when any
item with at least ``MIN_SUPPORT`` test examples loses more than ``MAX_ITEM_DROP`` of F1. The
other sets (held-out staff labels, recent corrections) are reported beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from classifiers.evaluate import Evaluation, evaluate_predictions
from classifiers.model import TriageModel

MAX_MACRO_DROP = 0.005
MAX_ITEM_DROP = 0.10
MIN_SUPPORT = 10
MAX_WORSENED = 60  # examples listed in a report


@dataclass
class CheckSet:
    """Labelled texts both models are scored on."""

    key: str  # frozen / holdout / recent
    title: str
    texts: list[str]
    labels: list[str]
    sources: list[str]
    styles: list[str] | None = None
    note: str = ""

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class SetScore:
    key: str
    title: str
    n: int
    note: str
    candidate: dict  # accuracy, macro_f1 …
    active: dict | None


@dataclass
class ItemDelta:
    code: str
    name: str
    support: int
    f1_active: float | None
    f1_candidate: float
    much_worse: bool

    @property
    def delta(self) -> float | None:
        return None if self.f1_active is None else self.f1_candidate - self.f1_active


@dataclass
class Changed:
    """A text one model got right and the other wrong."""

    set_key: str
    source: str
    text: str
    label: str
    active: str
    candidate: str


@dataclass
class Comparison:
    candidate: str
    active: str | None
    created_at: str
    sets: list[SetScore]
    items: list[ItemDelta]
    confusion_labels: list[str]
    confusion: list[list[int]]  # candidate, frozen split
    worsened: list[Changed]
    n_worsened: int
    n_improved: int
    gate_ok: bool
    gate_reasons: list[str] = field(default_factory=list)
    frozen_hash: str = ""  # the frozen split it was scored on: a changed split means re-score

    def set(self, key: str) -> SetScore | None:
        return next((s for s in self.sets if s.key == key), None)

    def as_dict(self) -> dict:
        data = asdict(self)
        for item, raw in zip(self.items, data["items"], strict=True):
            raw["delta"] = item.delta
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Comparison:
        data = dict(data)
        data["sets"] = [SetScore(**s) for s in data["sets"]]
        data["items"] = [
            ItemDelta(**{k: v for k, v in i.items() if k != "delta"}) for i in data["items"]
        ]
        data["worsened"] = [Changed(**w) for w in data["worsened"]]
        return cls(**data)

    def summary(self) -> dict:
        """What meta.json keeps of a comparison."""
        frozen = self.set("frozen")
        out: dict = {"compared_with": self.active, "at": self.created_at}
        for s in self.sets:
            out[s.key] = {
                "n": s.n,
                "candidate": s.candidate,
                "active": s.active,
                "note": s.note,
            }
        if frozen is not None and frozen.active is not None:
            out["delta_macro_f1"] = round(
                frozen.candidate["macro_f1"] - frozen.active["macro_f1"], 4
            )
        out["gate"] = {"ok": self.gate_ok, "reasons": self.gate_reasons}
        out["worsened"] = self.n_worsened
        out["improved"] = self.n_improved
        return out


def _evaluate(
    check: CheckSet, predictions: list, codes: Sequence[str]
) -> tuple[Evaluation, list[str]]:
    predicted = [p.category for p in predictions]
    ev = evaluate_predictions(
        check.labels,
        predicted,
        check.styles or ["plain"] * len(check),
        [p.needs_review for p in predictions],
        codes,
    )
    return ev, predicted


def gate(items: list[ItemDelta], frozen: SetScore) -> list[str]:
    """Reasons (in Chinese) to refuse the candidate; empty when it may be promoted."""
    if frozen.active is None:
        return []
    reasons = []
    drop = frozen.active["macro_f1"] - frozen.candidate["macro_f1"]
    if drop > MAX_MACRO_DROP:
        reasons.append(
            f"冻结测试集 macro-F1 从 {frozen.active['macro_f1']:.4f} 降到 "
            f"{frozen.candidate['macro_f1']:.4f}（下降 {drop:.4f}，上限 {MAX_MACRO_DROP}）"
        )
    for item in items:
        if item.much_worse:
            reasons.append(
                f"{item.code} {item.name} 的 F1 从 {item.f1_active:.2f} 降到 "
                f"{item.f1_candidate:.2f}（下降超过 {MAX_ITEM_DROP:.2f}）"
            )
    return reasons


def compare(
    candidate: TriageModel,
    active: TriageModel | None,
    checks: Sequence[CheckSet],
    codes: Sequence[str],
    names: dict[str, str],
    *,
    candidate_version: str,
    active_version: str | None,
    created_at: str,
) -> Comparison:
    """Score both models on every check set (the first must be the frozen split)."""
    sets: list[SetScore] = []
    changed: list[Changed] = []
    improved = 0
    frozen_eval: dict[str, Evaluation] = {}
    for check in checks:
        if not len(check):
            sets.append(SetScore(check.key, check.title, 0, check.note, {}, None))
            continue
        cand_ev, cand_pred = _evaluate(check, candidate.predict(check.texts), codes)
        act_ev, act_pred = (None, None)
        if active is not None:
            act_ev, act_pred = _evaluate(check, active.predict(check.texts), codes)
            for i, gold in enumerate(check.labels):
                if act_pred[i] == gold and cand_pred[i] != gold:
                    changed.append(
                        Changed(
                            check.key,
                            check.sources[i],
                            check.texts[i],
                            gold,
                            act_pred[i],
                            cand_pred[i],
                        )
                    )
                elif act_pred[i] != gold and cand_pred[i] == gold:
                    improved += 1
        if check.key == "frozen":
            frozen_eval = {"candidate": cand_ev, **({"active": act_ev} if act_ev else {})}
        sets.append(
            SetScore(
                check.key,
                check.title,
                len(check),
                check.note,
                cand_ev.summary(),
                act_ev.summary() if act_ev else None,
            )
        )
    cand_ev = frozen_eval["candidate"]
    act_ev = frozen_eval.get("active")
    items = []
    for code in cand_ev.labels:
        support = cand_ev.per_item[code]["support"]
        f1_c = cand_ev.per_item[code]["f1"]
        f1_a = act_ev.per_item[code]["f1"] if act_ev else None
        much_worse = f1_a is not None and support >= MIN_SUPPORT and f1_a - f1_c > MAX_ITEM_DROP
        items.append(ItemDelta(code, names.get(code, ""), support, f1_a, f1_c, much_worse))
    frozen = next(s for s in sets if s.key == "frozen")
    reasons = gate(items, frozen)
    return Comparison(
        candidate=candidate_version,
        active=active_version,
        created_at=created_at,
        sets=sets,
        items=items,
        confusion_labels=list(cand_ev.labels),
        confusion=np.asarray(cand_ev.confusion).tolist(),
        worsened=changed[:MAX_WORSENED],
        n_worsened=len(changed),
        n_improved=improved,
        gate_ok=not reasons,
        gate_reasons=reasons,
    )
