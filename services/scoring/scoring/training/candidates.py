"""Per-product candidates: a scaled logistic regression and a gradient-boosted tree model, both
sigmoid-calibrated; the better AUC on a validation split carved from the training rows wins (ties
go to the simpler logistic model), and the winner is refit on every training row. The holdout only
reports: it never picks. (Without a validation mask, the old behaviour: the holdout picks.)

Small frames (campaign CSVs, tests) calibrate with 3-fold cross-validation — stratified and shuffled,
so that rows in date order never make a fold a block of time (which inverted the calibration slope and
served a model ranking customers backwards) — and get small, shallow trees.
From `LARGE_FRAME` training rows on, the trees grow as the data allows (early stopping on a
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
from sklearn.model_selection import StratifiedKFold
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


def boosted(seed: int, n_rows: int = 0, categorical: np.ndarray | None = None) -> ClassifierMixin:
    """`categorical`: a boolean mask of columns holding category codes, read natively by the trees."""
    native = categorical if categorical is not None and categorical.any() else None
    if n_rows < LARGE_FRAME:
        # Small and shallow: a few thousand rows per product, two cores, and it must train in seconds.
        return HistGradientBoostingClassifier(
            max_iter=60,
            learning_rate=0.1,
            max_depth=3,
            max_bins=32,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            categorical_features=native,
            random_state=seed,
        )
    # Trees × rows is what batch scoring pays (1M customers × 10 products in under a minute): a
    # brisk learning rate and a cap keep the forest to a few dozen shallow trees per product.
    return HistGradientBoostingClassifier(
        max_iter=120,
        learning_rate=0.15,
        max_depth=5,
        max_leaf_nodes=24,
        min_samples_leaf=200,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=10,
        categorical_features=native,
        random_state=seed,
    )


def calibrated(estimator: ClassifierMixin, seed: int = 0) -> CalibratedClassifierCV:
    # One final model refit on all rows (ensemble=False) keeps serving to one predict per product.
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(estimator, method="sigmoid", cv=folds, ensemble=False)


def fit_calibrated(estimator: ClassifierMixin, x: np.ndarray, y: np.ndarray, seed: int) -> CalibratedClassifierCV:
    """Small frames: 3-fold calibration. Large ones: fit on 80 %, calibrate on the other 20 % — the
    same sigmoid, a quarter of the fits, and plenty of rows to calibrate on."""
    if len(y) < LARGE_FRAME:
        return calibrated(estimator, seed).fit(x, y)
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
    n_validation: int = 0  # training rows the candidates were compared on (0: compared on the holdout)


def _pick(auc: dict[str, float]) -> str:
    return max(auc, key=lambda k: (-math.inf if math.isnan(auc[k]) else auc[k], k == "logistic"))


def _candidates(
    seed: int, n_rows: int, categorical: np.ndarray | None = None
) -> dict[str, tuple[ClassifierMixin, np.ndarray | slice]]:
    boosted_fit = (boosted(seed, n_rows, categorical), slice(None))
    if categorical is not None and categorical.any():
        # Category codes are not quantities: a linear model on them would be nonsense, so only the trees.
        return {"boosted": boosted_fit}
    # A linear model of ~80 inputs has learnt all it can from LOGISTIC_ROWS rows; more only cost time.
    few = np.random.default_rng([seed, 29]).random(n_rows) < LOGISTIC_ROWS / max(n_rows, 1)
    return {"logistic": (logistic(seed), few), "boosted": boosted_fit}


def fit_product(
    product: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_hold: np.ndarray,
    y_hold: np.ndarray,
    seed: int = 0,
    *,
    validation: np.ndarray | None = None,
    categorical: np.ndarray | None = None,
) -> ProductFit:
    """`validation` (a boolean mask over the training rows) picks the candidate; the holdout scores it.
    `categorical` marks columns of category codes (native categorical trees)."""
    base = {"n_train": len(y_train), "n_holdout": len(y_hold), "positives_holdout": int(y_hold.sum())}
    if y_train.sum() < MIN_POSITIVES_TRAIN or y_hold.sum() < MIN_POSITIVES_HOLDOUT or (1 - y_hold).sum() < 1:
        prior = DummyClassifier(strategy="prior").fit(x_train, y_train)
        return ProductFit(product, "prior", prior, evaluate(y_hold, prior.predict_proba(x_hold)[:, 1]), {}, **base)
    if validation is not None:
        return _fit_validated(product, x_train, y_train, x_hold, y_hold, seed, validation, base, categorical)
    fits: dict[str, tuple[ClassifierMixin, dict[str, float]]] = {}
    for kind, (estimator, rows) in _candidates(seed, len(y_train), categorical).items():
        model = fit_calibrated(estimator, x_train[rows], y_train[rows], seed)
        fits[kind] = (model, evaluate(y_hold, model.predict_proba(x_hold)[:, 1]))
    auc = {k: m["auc"] for k, (_, m) in fits.items()}
    model, metrics = fits[_pick(auc)]
    return ProductFit(product, _pick(auc), model, metrics, auc, **base)


def _fit_validated(
    product: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_hold: np.ndarray,
    y_hold: np.ndarray,
    seed: int,
    validation: np.ndarray,
    base: dict[str, int],
    categorical: np.ndarray | None = None,
) -> ProductFit:
    x_fit, y_fit, x_val, y_val = x_train[~validation], y_train[~validation], x_train[validation], y_train[validation]
    auc: dict[str, float] = {}
    # Too few positives to compare on: no contest, the simpler model goes.
    if y_val.sum() >= MIN_POSITIVES_HOLDOUT and (1 - y_val).sum() >= 1 and y_fit.sum() >= MIN_POSITIVES_TRAIN:
        for kind, (estimator, rows) in _candidates(seed, len(y_fit), categorical).items():
            model = fit_calibrated(estimator, x_fit[rows], y_fit[rows], seed)
            auc[kind] = evaluate(y_val, model.predict_proba(x_val)[:, 1])["auc"]
    options = _candidates(seed, len(y_train), categorical)
    best = _pick(auc) if auc else next(iter(options))
    estimator, rows = options[best]
    model = fit_calibrated(estimator, x_train[rows], y_train[rows], seed)
    metrics = evaluate(y_hold, model.predict_proba(x_hold)[:, 1])
    return ProductFit(product, best, model, metrics, auc, **base, n_validation=int(validation.sum()))
