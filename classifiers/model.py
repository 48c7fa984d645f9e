"""The triage model: train, save, load and predict.

A linear SVM over word, character and pinyin features, calibrated (sigmoid, cross-fitted) so its
confidences mean something to staff. Out-of-list is both a class of its own and a floor on
confidence: a text the model cannot place with enough confidence is treated as 清单外 and sent to
a person.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from pathlib import Path

import joblib
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from classifiers.features import analyze, display_term, han_syllables, is_han
from classifiers.normalize import normalize_text
from classifiers.scoring import CalibratedLinear
from classifiers.taxonomy import OUT_CODE, Taxonomy

MAX_TEXT_CHARS = 4000
# Fewer Han characters than this cannot carry a decidable complaint ("村里的事", "有个事"): such
# texts always go to a person, however confident the model is.
MIN_AUTO_HAN_CHARS = 5
FORMAT_VERSION = 2


class TextTooLongError(ValueError):
    """Raised instead of silently truncating a complaint over the length limit."""


@dataclass(frozen=True)
class TrainParams:
    """Knobs of training; stored with the model so a result can be reproduced."""

    C: float = 0.5
    min_df: int = 2
    calibration_folds: int = 3
    tuning_folds: int = 5
    review_precision: float = 0.97  # auto-accepted predictions must be at least this precise
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

    vectorizer: TfidfVectorizer
    scorer: CalibratedLinear
    out_threshold: float
    review_threshold: float
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
        matrix = self.vectorizer.transform(normalized)
        probabilities = self.scorer.predict_proba(matrix)
        return [
            self._decide(probabilities[i], _row(matrix, i), normalized[i])
            for i in range(len(texts))
        ]

    def predict_one(self, text: str) -> Prediction:
        return self.predict([text])[0]

    def _decide(
        self, proba: np.ndarray, row: tuple[np.ndarray, np.ndarray], text: str
    ) -> Prediction:
        classes = self.classes
        order = np.argsort(proba)[::-1]
        top = [(classes[k], float(proba[k])) for k in order[:3]]
        best, confidence = top[0]
        if best != OUT_CODE and confidence < self.out_threshold:
            best = OUT_CODE
            confidence = float(proba[classes.index(OUT_CODE)])
        needs_review = (
            best == OUT_CODE
            or confidence < self.review_threshold
            or sum(map(is_han, text)) < MIN_AUTO_HAN_CHARS
        )
        terms = top_terms(row, self.scorer.coef[classes.index(best)], self.feature_names, text)
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
        if state.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"model {path} has an old format; retrain with `hotline train`")
        return cls(**state)


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
    pairs = None
    for idx in np.argsort(contributions)[::-1]:
        if contributions[idx] <= 0 or len(terms) >= k:
            break
        feature = names[indices[idx]]
        if pairs is None and feature.startswith("p:"):
            pairs = han_syllables(text)
        term = display_term(feature, text, pairs)
        if term == "<num>" or any(term in t or t in term for t in terms):
            continue
        terms.append(term)
    return terms


# -- training -------------------------------------------------------------------------------
def _estimator(params: TrainParams) -> CalibratedClassifierCV:
    svm = LinearSVC(C=params.C, class_weight="balanced", random_state=params.seed)
    return CalibratedClassifierCV(
        svm, method="sigmoid", cv=params.calibration_folds, ensemble=False
    )


def _vectorizer(params: TrainParams) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=analyze, sublinear_tf=True, min_df=params.min_df, dtype=np.float32
    )


def _jobs(folds: StratifiedKFold) -> int:
    """Cross-validation folds run in parallel, one process per core (the folds are independent
    and seeded, so the model is the same as with one)."""
    return max(1, min(folds.get_n_splits(), len(os.sched_getaffinity(0))))


def choose_thresholds(
    labels: np.ndarray, proba: np.ndarray, classes: list[str], target_precision: float
) -> tuple[float, float, dict]:
    """Pick the out-of-list floor (best macro-F1) and the review threshold (auto-accepted
    predictions at least ``target_precision`` precise) from cross-validated probabilities."""
    out_index = classes.index(OUT_CODE)
    argmax = proba.argmax(axis=1)
    best_p = proba.max(axis=1)
    grid = np.round(np.arange(0.0, 0.51, 0.02), 2)
    scores = []
    for t in grid:
        pred = np.where((best_p < t) & (argmax != out_index), out_index, argmax)
        scores.append(f1_score(labels, pred, average="macro"))
    out_threshold = float(grid[int(np.argmax(scores))])
    pred = np.where((best_p < out_threshold) & (argmax != out_index), out_index, argmax)
    conf = proba[np.arange(len(pred)), pred]
    correct = pred == labels
    review_threshold = 1.0
    for t in np.round(np.arange(0.2, 1.0, 0.02), 2):
        accepted = (conf >= t) & (pred != out_index)
        if accepted.sum() and correct[accepted].mean() >= target_precision:
            review_threshold = float(t)
            break
    accepted = (conf >= review_threshold) & (pred != out_index)
    report = {
        "cv_accuracy": float(correct.mean()),
        "cv_macro_f1": float(max(scores)),
        "cv_auto_accept_share": float(accepted.mean()),
        "cv_auto_accept_precision": float(correct[accepted].mean()) if accepted.any() else None,
    }
    return out_threshold, review_threshold, report


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
    folds = StratifiedKFold(params.tuning_folds, shuffle=True, random_state=params.seed)
    proba = cross_val_predict(
        _estimator(params), matrix, y, cv=folds, method="predict_proba", n_jobs=_jobs(folds)
    )
    label_index = np.searchsorted(classes, y)
    out_t, review_t, report = choose_thresholds(
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
    return TriageModel(vectorizer, scorer, out_t, review_t, meta)
