"""Per-product candidates: a scaled logistic regression and a gradient-boosted tree model, both
sigmoid-calibrated; the better holdout AUC wins (ties go to the simpler logistic model).

Small frames (campaign CSVs, tests) calibrate with 3-fold cross-validation and get small, shallow
trees. From `LARGE_FRAME` training rows on, the trees grow as the data allows (early stopping on a
validation split) and calibration uses a held-back fifth instead of three extra fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
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


LARGE_FRAME = 20_000
LOGISTIC_ROWS = 40_000
CALIBRATION_SHARE = 0.2


def boosted(seed: int, n_rows: int = 0) -> ClassifierMixin:
    if n_rows < LARGE_FRAME:
        # Small and shallow: a few thousand rows per product, two cores, and it must train in seconds.
        return HistGradientBoostingClassifier(
            max_iter=60, learning_rate=0.1, max_depth=3, max_bins=32, min_samples_leaf=40,
            l2_regularization=1.0, early_stopping=False, random_state=seed,
        )
    # Trees × rows is what batch scoring pays (1M customers × 10 products in under a minute): a
    # brisk learning rate and a cap keep the forest to a few dozen shallow trees per product.
    return HistGradientBoostingClassifier(
        max_iter=120, learning_rate=0.15, max_depth=5, max_leaf_nodes=24, min_samples_leaf=200,
        l2_regularization=1.0, early_stopping=True, validation_fraction=0.15, n_iter_no_change=10,
        random_state=seed,
    )


def calibrated(estimator: ClassifierMixin) -> CalibratedClassifierCV:
    # One final model refit on all rows (ensemble=False) keeps serving to one predict per product.
    return CalibratedClassifierCV(estimator, method="sigmoid", cv=3, ensemble=False)


def fit_calibrated(estimator: ClassifierMixin, x: np.ndarray, y: np.ndarray, seed: int) -> CalibratedClassifierCV:
    """Small frames: 3-fold calibration. Large ones: fit on 80 %, calibrate on the other 20 % — the
    same sigmoid, a quarter of the fits, and plenty of rows to calibrate on."""
    if len(y) < LARGE_FRAME:
        return calibrated(estimator).fit(x, y)
    held = np.random.default_rng([seed, 17]).random(len(y)) < CALIBRATION_SHARE
    fitted = estimator.fit(x[~held], y[~held])
    return CalibratedClassifierCV(FrozenEstimator(fitted), method="sigmoid").fit(x[held], y[held])


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
    # A linear model of ~80 inputs has learnt all it can from LOGISTIC_ROWS rows; more only cost time.
    few = np.random.default_rng([seed, 29]).random(len(y_train)) < LOGISTIC_ROWS / max(len(y_train), 1)
    candidates = (("logistic", logistic(seed), few), ("boosted", boosted(seed, len(y_train)), slice(None)))
    for kind, estimator, rows in candidates:
        model = fit_calibrated(estimator, x_train[rows], y_train[rows], seed)
        fits[kind] = (model, evaluate(y_hold, model.predict_proba(x_hold)[:, 1]))
    auc = {k: m["auc"] for k, (_, m) in fits.items()}
    best = max(fits, key=lambda k: (-math.inf if math.isnan(auc[k]) else auc[k], k == "logistic"))
    model, metrics = fits[best]
    return ProductFit(product, best, model, metrics, auc, **base)
