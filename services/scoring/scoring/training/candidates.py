"""Per-product candidates: a scaled logistic regression and a small gradient-boosted tree model,
both calibrated; the better holdout AUC wins (ties go to the simpler logistic model)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from scoring.training.evaluation import evaluate

# Below this many positives a fitted model is noise: the product falls back to its base rate.
MIN_POSITIVES_TRAIN = 10
MIN_POSITIVES_HOLDOUT = 3


def logistic(seed: int) -> ClassifierMixin:
    # arcsinh ≈ a signed log: money amounts span orders of magnitude and a linear model wants them tamed.
    return make_pipeline(
        SimpleImputer(strategy="median"),
        FunctionTransformer(np.arcsinh),
        StandardScaler(),
        LogisticRegression(C=0.3, max_iter=2000, random_state=seed),
    )


def boosted(seed: int) -> ClassifierMixin:
    # Small and shallow: a few thousand rows per product, two cores, and it must train in seconds.
    return HistGradientBoostingClassifier(
        max_iter=60, learning_rate=0.1, max_depth=3, max_bins=32, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=seed,
    )


def calibrated(estimator: ClassifierMixin) -> CalibratedClassifierCV:
    # One final model refit on all rows (ensemble=False) keeps serving to one predict per product.
    return CalibratedClassifierCV(estimator, method="sigmoid", cv=3, ensemble=False)


@dataclass
class ProductFit:
    product: str
    kind: str  # "logistic", "boosted" or "prior"
    estimator: ClassifierMixin
    metrics: dict[str, float]
    candidate_auc: dict[str, float]
    n_train: int
    n_holdout: int
    positives_holdout: int


def fit_product(
    product: str, x_train: np.ndarray, y_train: np.ndarray, x_hold: np.ndarray, y_hold: np.ndarray, seed: int = 0
) -> ProductFit:
    base = dict(n_train=len(y_train), n_holdout=len(y_hold), positives_holdout=int(y_hold.sum()))
    if y_train.sum() < MIN_POSITIVES_TRAIN or y_hold.sum() < MIN_POSITIVES_HOLDOUT or (1 - y_hold).sum() < 1:
        prior = DummyClassifier(strategy="prior").fit(x_train, y_train)
        return ProductFit(product, "prior", prior, evaluate(y_hold, prior.predict_proba(x_hold)[:, 1]), {}, **base)
    fits: dict[str, tuple[ClassifierMixin, dict[str, float]]] = {}
    for kind, make in (("logistic", logistic), ("boosted", boosted)):
        model = calibrated(make(seed)).fit(x_train, y_train)
        fits[kind] = (model, evaluate(y_hold, model.predict_proba(x_hold)[:, 1]))
    auc = {k: m["auc"] for k, (_, m) in fits.items()}
    best = max(fits, key=lambda k: (-math.inf if math.isnan(auc[k]) else auc[k], k == "logistic"))
    model, metrics = fits[best]
    return ProductFit(product, best, model, metrics, auc, **base)
