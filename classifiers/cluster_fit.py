"""Learning the evidence weights of event clustering from labelled event sets.

Hand-set weights let two complaints of one village and one item join on that alone, which is how
most false joins happened (two grievances of one village about one programme). Here every
complaint of a labelled set is compared, in arrival order, with each earlier labelled event as it
stood then (its complaints so far); the evidence ``score_match`` finds, counted with unit weights,
is one example, and "same event or not" its label. A logistic regression over these examples,
pulled toward the hand-set weights (a Gaussian prior: a kind of evidence the sets seldom show, a
cooperative's name, keeps a sensible weight), gives the weights, scaled so that joining needs a
score of 3 as before.

    python -m classifiers.cluster_fit nlu_data/events/v3_dev.jsonl nlu_data/events/dev.jsonl …

prints the weights (``Weights`` in ``cluster_config.py`` holds the ones in use). Only the sets
tuned on may be given: never a held-out one.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from classifiers.cluster_config import Weights
from classifiers.cluster_engine import to_days
from classifiers.cluster_eval import LabelledComplaint, load_event_set
from classifiers.cluster_features import Features, WordRarity, background_df, complaint_features
from classifiers.cluster_score import Profile, score_match
from classifiers.entities import Lexicon
from classifiers.taxonomy import Taxonomy, load_taxonomy

# Evidence kinds of ``score_match`` -> the weight that scores them.
_WEIGHT_OF = {
    "village": "village",
    "township": "township",
    "township_conflict": "township_conflict",
    "group": "group",
    "group_conflict": "group_conflict",
    "full_name": "full_name",
    "surname": "surname",
    "role": "role",
    "person_conflict": "person_conflict",
    "amount": "amount",
    "year": "year",
    "year_conflict": "year_conflict",
    "near_year_conflict": "near_year_conflict",
    "word": "word_unit",
    "time": "per_month",
}
_FAMILY_WEIGHT = {
    "org": ("organisation", "organisation_conflict"),
    "relative": ("relative", "object_conflict"),  # another relative scores as another object
    "wrongdoing": ("wrongdoing", "wrongdoing_conflict"),
}
WORD_UNITS = 5.0  # shared rare words count up to this many units of rarity (word_cap / word_unit)
# The steepest decay with time allowed: the labelled sets' events last at most six weeks, so
# left alone the fit would part any two reports two months apart; real follow-ups come later.
STEEPEST_PER_MONTH = -0.5
THRESHOLD = 3.0

# The hand-set weights before they were learned (issue 16), the prior of the fit.
HAND_SET = Weights(
    same_item=1.0,
    same_group=-1.0,
    village=2.0,
    village_conflict=-4.0,
    township=0.5,
    township_conflict=-2.0,
    group=0.8,
    group_conflict=-1.0,
    full_name=2.0,
    surname=1.0,
    role=0.5,
    person_conflict=-1.5,
    object=1.0,
    object_conflict=-1.5,
    organisation=2.0,
    organisation_conflict=-1.5,
    relative=1.5,
    wrongdoing=0.3,
    wrongdoing_conflict=-1.0,
    amount=0.8,
    year=0.3,
    year_conflict=-3.0,
    near_year_conflict=-1.0,
    word_unit=0.2,
    word_floor=2.5,
    word_cap=1.0,
    matter=6.0,
    matter_center=0.0,
    matter_floor=0.0,
    matter_cap=1.5,
    per_month=-0.1,
    grace_days=30.0,
    threshold=3.0,
)


def unit_weights() -> Weights:
    """Weights that make each piece of evidence report its own size: 1 for what is there, the
    rarity of shared words, the months past the grace period."""
    one = dict.fromkeys(Weights().to_dict(), 1.0)
    return Weights.from_dict(
        {
            **one,
            "word_floor": Weights().word_floor,
            "word_cap": 1e9,
            "matter": 0.0,  # read directly as the cosine (below)
            "grace_days": Weights().grace_days,
            "threshold": 0.0,
        }
    )


def _feature_name(kind: str) -> str | None:
    """The weight a piece of evidence is scored with (object families grouped as the scorer
    groups them)."""
    if kind.startswith(("object:", "object_conflict:")):
        conflict = kind.startswith("object_conflict:")
        family = kind.split(":", 1)[1]
        plus, minus = _FAMILY_WEIGHT.get(family, ("object", "object_conflict"))
        return minus if conflict else plus
    return _WEIGHT_OF.get(kind)


@dataclass(frozen=True)
class Example:
    features: dict[str, float]  # weight name -> how much evidence of it
    same_event: bool


def _evidence(
    new: Profile, event: Profile, relation: str, gap_days: float, idf
) -> dict[str, float]:
    match = score_match(new, event, relation, gap_days, unit_weights(), idf)
    out: dict[str, float] = defaultdict(float)
    out["same_item" if relation == "item" else "same_group"] = 1.0
    for kind, _, size in match.evidence:
        name = _feature_name(kind)
        if name == "word_unit":
            out[name] = min(size, WORD_UNITS)
        elif name:
            out[name] += size
    out["matter"] = new.matter_cosine(event) or 0.0
    return dict(out)


def pair_examples(records: Sequence[LabelledComplaint], taxonomy: Taxonomy) -> list[Example]:
    """Each complaint against each earlier labelled event it could join (a related item, no other
    village), with the evidence and whether it belongs there."""
    group = {code: item.group for code, item in taxonomy.by_code.items()}
    lexicon, rarity = Lexicon(), WordRarity(background_df())
    events: dict[str, list[tuple[Features, str, float]]] = {}
    out: list[Example] = []
    for record in records:
        c = record.complaint
        received = c.received_at.date() if c.received_at else None
        features, entities = complaint_features(c.text, received, lexicon)
        lexicon.learn(entities)
        t = to_days(c.received_at) if c.received_at else 0.0
        mine = Profile([(features, c.category)])
        for key, members in events.items():
            items = {item for _, item, _ in members}
            if c.category in items:
                relation = "item"
            elif group.get(c.category) in {group.get(i) for i in items}:
                relation = "group"
            else:
                continue
            theirs = Profile([(f, item) for f, item, _ in members])
            if (
                features.village
                and theirs["village"]
                and theirs["village"].isdisjoint(features.village)
            ):
                continue  # another village is never joined
            times = [when for _, _, when in members]
            gap = max(0.0, t - max(times), min(times) - t)
            out.append(
                Example(_evidence(mine, theirs, relation, gap, rarity.idf), key == record.event)
            )
        rarity.observe((*features.word, *features.gram))
        events.setdefault(record.event or f"\0{c.id}", []).append((features, c.category, t))
    return out


def _prior(weights: Weights, names: Sequence[str]) -> np.ndarray:
    values = weights.to_dict()
    return np.array([values[name] for name in names])


def fit_weights(examples: Sequence[Example], prior: Weights, strength: float = 0.03) -> Weights:
    """Logistic regression of "same event" on the evidence, its coefficients pulled toward
    ``prior`` (in the prior's own scale, 5/3 logit per point); returned as weights whose
    threshold is 3."""
    names = sorted({name for e in examples for name in e.features})
    x = np.array([[e.features.get(n, 0.0) for n in names] for e in examples])
    y = np.array([e.same_event for e in examples], dtype=float)
    scale = 5.0 / 3.0
    w0 = _prior(prior, names) * scale
    start = np.concatenate([w0, [-prior.threshold * scale]])

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = x @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        value = np.sum(np.logaddexp(0.0, z) - y * z) + strength * np.sum((w - w0) ** 2)
        grad = np.concatenate([x.T @ (p - y) + 2 * strength * (w - w0), [np.sum(p - y)]])
        return float(value), grad

    theta = minimize(loss, start, jac=True, method="L-BFGS-B").x
    per_point = -theta[-1] / THRESHOLD  # logit per point of score
    fitted = {n: round(float(v / per_point), 2) for n, v in zip(names, theta[:-1], strict=True)}
    return _as_weights(prior, fitted)


def _as_weights(prior: Weights, fitted: dict[str, float]) -> Weights:
    """The fitted coefficients as ``Weights``: the settings the fit does not learn kept, the
    word cap in units of rarity, the matter its cosine times the weight, time no steeper than
    ``STEEPEST_PER_MONTH``."""
    w = replace(prior, **{k: v for k, v in fitted.items() if k in prior.to_dict()})
    return replace(
        w,
        word_cap=round(w.word_unit * WORD_UNITS, 2),
        matter_center=0.0,
        matter_floor=0.0,
        matter_cap=w.matter,
        per_month=max(w.per_month, STEEPEST_PER_MONTH),
        threshold=THRESHOLD,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="labelled event sets tuned on (never held out)")
    parser.add_argument("--strength", type=float, default=0.03, help="pull toward the prior")
    args = parser.parse_args(argv)
    taxonomy = load_taxonomy(None)
    examples = [
        e for f in args.files for e in pair_examples(load_event_set(Path(f), taxonomy), taxonomy)
    ]
    weights = fit_weights(examples, HAND_SET, args.strength)
    print(f"{len(examples)} examples, {sum(e.same_event for e in examples)} same event")
    for name, value in weights.to_dict().items():
        print(f"    {name}: float = {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
