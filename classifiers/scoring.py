"""Prediction-time form of the calibrated linear model.

Training uses scikit-learn's ``CalibratedClassifierCV`` around a ``LinearSVC``. At prediction
time the same numbers are computed directly: decision scores, one Platt sigmoid per class, then
normalisation, exactly as scikit-learn does, but without its per-call input validation, which
costs about 4 ms per text for 36 calibrators and would dominate single-text latency.
``from_calibrated`` checks the two agree before a model is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only training builds a scorer from scikit-learn's model
    from sklearn.calibration import CalibratedClassifierCV


@dataclass(frozen=True)
class CalibratedLinear:
    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, n_features): the SVM fitted on all training data
    intercept: np.ndarray  # (n_classes,)
    a: np.ndarray  # Platt slopes, one per class
    b: np.ndarray  # Platt offsets

    @classmethod
    def from_calibrated(cls, model: CalibratedClassifierCV, check_on=None) -> CalibratedLinear:
        if len(model.calibrated_classifiers_) != 1:
            raise ValueError("expected ensemble=False (one calibrated classifier)")
        calibrated = model.calibrated_classifiers_[0]
        svm = calibrated.estimator
        if list(svm.classes_) != list(model.classes_) or len(model.classes_) < 3:
            raise ValueError("expected a multi-class model with classes in sorted order")
        scorer = cls(
            classes=tuple(str(c) for c in model.classes_),
            coef=np.asarray(svm.coef_, dtype=np.float64),
            intercept=np.asarray(svm.intercept_, dtype=np.float64),
            a=np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64),
            b=np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64),
        )
        if check_on is not None:
            expected = model.predict_proba(check_on)
            if not np.allclose(scorer.predict_proba(check_on), expected, atol=1e-9):
                raise AssertionError("compact scorer disagrees with scikit-learn")
        return scorer

    def predict_proba(self, matrix) -> np.ndarray:
        decision = np.asarray(matrix @ self.coef.T) + self.intercept
        with np.errstate(over="ignore"):  # exp overflow is a probability of 0, as in expit
            proba = 1.0 / (1.0 + np.exp(self.a * decision + self.b))
        total = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1 / len(self.classes))
        proba = np.divide(proba, total, out=uniform, where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba
