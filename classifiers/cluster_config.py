"""Settings of event clustering: evidence weights, the window and the joint-review rule.

Kept apart from the clustering code so the command line can show the defaults without loading
the language tools.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace


@dataclass(frozen=True)
class Weights:
    """Evidence weights and the joining threshold, learned by ``classifiers/cluster_fit.py`` on
    nlu_data/events dev.jsonl, dev2.jsonl and v3_dev.jsonl (never on test.jsonl or v3_test.jsonl):
    a logistic regression of "same event" on the evidence, pulled toward the earlier hand-set
    weights (``python -m classifiers.cluster_fit FILES`` prints them again). The same village and
    item alone (about 2.3) no longer join: what was done must agree too."""

    same_item: float = 1.48
    same_group: float = -1.48  # a related item of the same group needs more evidence
    village: float = 0.78
    village_conflict: float = -4.0  # (another village is never joined: see the engine)
    township: float = 0.1
    township_conflict: float = -1.44
    group: float = 1.37
    group_conflict: float = -1.29
    full_name: float = 3.36
    surname: float = 2.11
    role: float = 0.66  # with the surname: same office (书记 and 主任 count as one)
    person_conflict: float = -1.7
    object: float = 1.74
    object_conflict: float = -1.96
    organisation: float = 1.73  # the same named company or cooperative: an anchor like a village
    organisation_conflict: float = -1.5
    relative: float = 1.52  # the same office's same relative: 书记儿子, 鲍书记家的小子
    wrongdoing: float = 0.67  # same kind of wrongdoing (索要好处, 冒领 …)
    wrongdoing_conflict: float = -1.26
    amount: float = 2.77  # one sum, or the gap between two (标准4万2, 到手3万1: 扣了一万一)
    year: float = 0.04
    year_conflict: float = -3.19  # two or more years apart
    near_year_conflict: float = -1.42  # one year apart: 去年收的 2023年度 premium is one matter
    word_unit: float = 0.34  # per unit of rarity (idf above the floor) of each shared word
    word_floor: float = 2.5
    word_cap: float = 1.7
    # The matter (what was done, to what): cosine of tf-idf character vectors, the idf learned
    # per supervision item on the training complaints (cluster_features.matter_vector).
    matter: float = 5.35
    matter_center: float = 0.0
    matter_floor: float = 0.0
    matter_cap: float = 5.35
    # Time since the event was last reported, after a grace period: no steeper than this (the
    # labelled events span six weeks at most; real follow-ups come later).
    per_month: float = -0.5
    grace_days: float = 30.0
    threshold: float = 3.0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> Weights:
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in data.items() if k in names})


@dataclass(frozen=True)
class ClusterConfig:
    window_days: float = 180.0  # an event is open while reported within this many days
    joint_review_reporters: int = 3  # distinct reporters that flag an event for joint review
    max_candidates: int = 64  # events scored per complaint
    scan_per_key: int = 48  # index entries read per key (most recent first)
    scan_per_item: int = 8  # latest events of its item read for a complaint naming no place
    rare_word_df: int = 30  # words seen at most this often are index keys
    use_background: bool = True  # word rarity also from the labelled complaint corpus
    weights: Weights = field(default_factory=Weights)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["weights"] = self.weights.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ClusterConfig:
        data = dict(data)
        weights = Weights.from_dict(data.pop("weights", {}))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known, weights=weights)


def with_weights(config: ClusterConfig, **changes: float) -> ClusterConfig:
    """A copy of ``config`` with some weights changed (for tuning on the dev set)."""
    return replace(config, weights=replace(config.weights, **changes))
