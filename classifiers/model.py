"""The triage model: train, save, load and predict.

A linear SVM over word, character and pinyin features, calibrated (sigmoid, cross-fitted) so its
confidences mean something to staff. Out-of-list (OUT, 清单外) is a class of its own and is
predicted only when it is the most likely class: a text the model is unsure about keeps its most
likely item and goes to staff review with its top 3 (issue 16; a confidence floor used to turn
clearly in-list but indirect complaints into 清单外). The review threshold is chosen on
cross-validated predictions so that what is accepted without review is at least
``TrainParams.review_precision`` precise.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import numpy as np
import scipy.sparse as sp

from classifiers.features import (
    FeatureSpace,
    analyze,
    display_term,
    pinyin_feature,
    syllable_string,
)
from classifiers.normalize import normalize_text
from classifiers.scoring import CalibratedLinear
from classifiers.taxonomy import OUT_CODE, Taxonomy

if TYPE_CHECKING:  # scikit-learn is imported for training only: classifying starts faster
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold

MAX_TEXT_CHARS = 4000
# Fewer Han characters than this cannot carry a decidable complaint ("村里的事", "有个事"): such
# texts always go to a person, however confident the model is.
MIN_AUTO_HAN_CHARS = 5
# A 清单外 text needs more to be accepted without review: an opener ("我想说个情况", "你好，在吗")
# is 清单外 to the model, yet it tells no matter a person could refer.
MIN_AUTO_OUT_HAN_CHARS = 8
NEVER = 1.01  # a review threshold no confidence reaches
_NOT_HAN = re.compile("[^\u4e00-\u9fff]+")
# A 清单外 prediction is accepted without review only when it is as sure as an accepted item
# (its own threshold, tuned apart): staff then refer it (清单外转办) from the assign queue.
FORMAT_VERSION = 4  # 3: pinyin as syllable characters, no OUT floor; 4: no scikit-learn object


class TextTooLongError(ValueError):
    """Raised instead of silently truncating a complaint over the length limit."""


@dataclass(frozen=True)
class TrainParams:
    """Knobs of training; stored with the model so a result can be reproduced."""

    C: float = 0.5
    min_df: int = 2
    calibration_folds: int = 3
    tuning_folds: int = 5
    review_precision: float = 0.99  # auto-accepted predictions must be at least this precise
    seed: int = 13


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float
    top: list[tuple[str, float]]
    needs_review: bool
    terms: list[str]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["top"] = [[code, round(p, 4)] for code, p in self.top]
        data["confidence"] = round(self.confidence, 4)
        return data


@dataclass
class TriageModel:
    """Everything needed to classify: features, classifier, thresholds and where it came from."""

    vectorizer: FeatureSpace  # vocabulary and idf of the fitted tf-idf
    scorer: CalibratedLinear
    out_threshold: float  # always 0.0 since issue 16 (no floor); kept for the registry's reports
    review_threshold: float
    # 清单外 is a prediction of its own: at or above this confidence it is accepted without
    # review (staff still refer it, from the assign queue). Models tuned before it: never (1.01).
    out_review_threshold: float = NEVER
    metadata: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def classes(self) -> list[str]:
        return list(self.scorer.classes)

    # -- prediction ---------------------------------------------------------------------------
    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify raw texts (normalised here). Raises TextTooLongError for over-long texts."""
        for text in texts:
            check_length(text)
        normalized = [normalize_text(t) for t in texts]
        matrix = self.transform(normalized)
        probabilities = self.scorer.predict_proba(matrix)
        return [
            self._decide(probabilities[i], _row(matrix, i), normalized[i])
            for i in range(len(texts))
        ]

    def predict_one(self, text: str) -> Prediction:
        return self.predict([text])[0]

    def transform(self, normalized: Sequence[str]) -> sp.csr_matrix:
        """The tf-idf rows of normalised texts."""
        return self.vectorizer.transform(normalized)

    def _decide(
        self, proba: np.ndarray, row: tuple[np.ndarray, np.ndarray], text: str
    ) -> Prediction:
        classes = self.classes
        order = np.argsort(proba)[::-1]
        top = [(classes[k], float(proba[k])) for k in order[:3]]
        best, confidence = top[0]
        is_out = best == OUT_CODE
        threshold = self.out_review_threshold if is_out else self.review_threshold
        min_chars = MIN_AUTO_OUT_HAN_CHARS if is_out else MIN_AUTO_HAN_CHARS
        needs_review = bool(confidence < threshold or len(_NOT_HAN.sub("", text)) < min_chars)
        terms = top_terms(row, self.scorer.coef[order[0]], self.feature_names, text)
        return Prediction(best, confidence, top, needs_review, terms)

    @cached_property
    def feature_names(self) -> list[str]:
        return [str(name) for name in self.vectorizer.get_feature_names_out()]

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        joblib.dump(state, tmp)
        tmp.replace(path)  # atomic: a reader never sees half a model

    @classmethod
    def load(cls, path: Path) -> TriageModel:
        if not Path(path).exists():
            raise FileNotFoundError(f"no trained model at {path}; run `hotline train` first")
        state = joblib.load(path)
        if state.get("format_version") == 2:
            state = _upgrade_from_2(state)
        if state.get("format_version") == 3:
            state = {**state, "vectorizer": FeatureSpace.of(state["vectorizer"])}
            state["format_version"] = FORMAT_VERSION
        if state.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"model {path} has an old format; retrain with `hotline train`")
        return cls(**state)


def _upgrade_from_2(state: dict) -> dict:
    """A format-2 model (registered before issue 16) still loads: its spelled-out pinyin
    features ("p:di bao") are renamed to syllable characters, and its out-of-list floor is
    dropped, as for a new model (its review threshold stays what it was tuned to)."""
    vectorizer = state["vectorizer"]
    vectorizer.vocabulary_ = {
        (pinyin_feature(name[2:]) if name.startswith("p:") else name): index
        for name, index in vectorizer.vocabulary_.items()
    }
    return {**state, "out_threshold": 0.0, "format_version": 3}


def check_length(text: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise TextTooLongError(
            f"内容过长：{len(text)}字，超过{MAX_TEXT_CHARS}字上限，请分成几段提交"
        )


def _row(matrix, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, feature indices) of one row of a CSR matrix, without building a new matrix."""
    start, end = matrix.indptr[i], matrix.indptr[i + 1]
    return matrix.data[start:end], matrix.indices[start:end]


def top_terms(
    row: tuple[np.ndarray, np.ndarray],
    class_coef: np.ndarray,
    names: list[str],
    text: str,
    k: int = 5,
) -> list[str]:
    """The few features that pushed this text towards the chosen class, as staff would read them."""
    values, indices = row
    if not len(values):
        return []
    contributions = values * class_coef[indices]
    terms: list[str] = []
    sylls = None
    positive = np.flatnonzero(contributions > 0)
    for idx in positive[np.argsort(contributions[positive])[::-1]]:
        if len(terms) >= k:
            break
        feature = names[indices[idx]]
        if sylls is None and feature.startswith("p:"):
            sylls = syllable_string(text)
        term = display_term(feature, text, sylls)
        if term == "<num>" or any(term in t or t in term for t in terms):
            continue
        terms.append(term)
    return terms


# -- training -------------------------------------------------------------------------------
def _estimator(params: TrainParams) -> CalibratedClassifierCV:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=params.C, class_weight="balanced", random_state=params.seed)
    return CalibratedClassifierCV(
        svm, method="sigmoid", cv=params.calibration_folds, ensemble=False
    )


def _vectorizer(params: TrainParams) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer=analyze, sublinear_tf=True, min_df=params.min_df, dtype=np.float32
    )


def _jobs(folds: StratifiedKFold) -> int:
    """Cross-validation folds run in parallel, one process per core (the folds are independent
    and seeded, so the model is the same as with one)."""
    return max(1, min(folds.get_n_splits(), len(os.sched_getaffinity(0))))


def lowest_precise_threshold(
    conf: np.ndarray, correct: np.ndarray, target_precision: float
) -> float:
    """The lowest confidence at which predictions accepted without review are at least
    ``target_precision`` precise; NEVER when no threshold reaches it."""
    for t in np.round(np.arange(0.2, 1.0, 0.01), 2):
        accepted = conf >= t
        if accepted.sum() and correct[accepted].mean() >= target_precision:
            return float(t)
    return NEVER


def choose_thresholds(
    labels: np.ndarray, proba: np.ndarray, classes: list[str], target_precision: float
) -> tuple[float, float, float, dict]:
    """Pick the review thresholds from cross-validated probabilities: for in-list items and for
    清单外 apart, the lowest confidence at which what is accepted without review is at least
    ``target_precision`` precise (so the two together are too). There is no out-of-list floor
    (0.0): an unsure text keeps its most likely item and goes to review.

    Returns (out floor, in-list review threshold, 清单外 review threshold, report)."""
    from sklearn.metrics import f1_score

    out_index = classes.index(OUT_CODE)
    pred = proba.argmax(axis=1)
    conf = proba.max(axis=1)
    correct = pred == labels
    in_list = pred != out_index
    review_threshold = lowest_precise_threshold(conf[in_list], correct[in_list], target_precision)
    out_threshold = lowest_precise_threshold(conf[~in_list], correct[~in_list], target_precision)
    accepted = np.where(in_list, conf >= review_threshold, conf >= out_threshold)
    report = {
        "cv_accuracy": float(correct.mean()),
        "cv_macro_f1": float(f1_score(labels, pred, average="macro")),
        "cv_review_share": float(1 - accepted.mean()),
        "cv_unsure_share": float(((conf < review_threshold) & in_list).mean()),
        "cv_auto_accept_share": float(accepted.mean()),
        "cv_auto_accept_precision": float(correct[accepted].mean()) if accepted.any() else None,
    }
    is_out = labels == out_index
    if is_out.any():
        report["cv_out_recall"] = float((pred[is_out] == out_index).mean())
    return 0.0, review_threshold, out_threshold, report


def train_model(
    texts: Sequence[str],
    labels: Sequence[str],
    taxonomy: Taxonomy,
    params: TrainParams | None = None,
    metadata: dict | None = None,
) -> TriageModel:
    """Fit features and classifier, then tune the thresholds on cross-validated predictions."""
    params = params or TrainParams()
    unknown = sorted(set(labels) - set(taxonomy.codes))
    if unknown:
        raise ValueError(f"labels not in the taxonomy: {', '.join(unknown)}")
    if OUT_CODE not in labels:
        raise ValueError("training data has no out-of-list (OUT) examples")
    started = time.perf_counter()
    normalized = [normalize_text(t) for t in texts]
    vectorizer = _vectorizer(params)
    matrix = vectorizer.fit_transform(normalized)
    y = np.asarray(labels)
    classes = sorted(set(labels))
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = StratifiedKFold(params.tuning_folds, shuffle=True, random_state=params.seed)
    proba = cross_val_predict(
        _estimator(params), matrix, y, cv=folds, method="predict_proba", n_jobs=_jobs(folds)
    )
    label_index = np.searchsorted(classes, y)
    out_t, review_t, out_review_t, report = choose_thresholds(
        label_index, proba, classes, params.review_precision
    )
    classifier = _estimator(params).fit(matrix, y)
    scorer = CalibratedLinear.from_calibrated(classifier, check_on=matrix[:200])
    meta = dict(metadata or {})
    meta.update(
        trained_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        params=asdict(params),
        n_examples=len(texts),
        label_counts=dict(sorted(Counter(labels).items())),  # the drift watch's baseline
        n_features=int(matrix.shape[1]),
        taxonomy_version=taxonomy.version,
        names={code: taxonomy.name_of(code) for code in classes},
        train_seconds=round(time.perf_counter() - started, 2),
        **report,
    )
    space = FeatureSpace.of(vectorizer)
    if not np.allclose(
        space.transform(normalized[:200]).toarray(), matrix[:200].toarray(), atol=1e-6
    ):
        raise AssertionError("the fast tf-idf rows disagree with scikit-learn")
    return TriageModel(space, scorer, out_t, review_t, out_review_t, meta)
