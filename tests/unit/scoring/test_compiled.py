"""The array-compiled model gives the estimators' own numbers, on small and large batches alike."""

from typing import Any

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier

from scoring.domain.compiled import SMALL_BATCH, CompiledPropensity
from scoring.training.candidates import LARGE_FRAME, boosted, calibrated, fit_calibrated, logistic

# Training rows and the fitted estimator of each product.
Fitted = tuple[np.ndarray, dict[str, Any]]


@pytest.fixture(scope="module")
def fitted() -> Fitted:
    rng = np.random.default_rng(0)
    x = rng.lognormal(3, 1, size=(1_500, 6))
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the learnt side / the median
    y = (rng.random(1_500) < 1 / (1 + np.exp(-(np.log(np.nan_to_num(x[:, 0], nan=20)) - 3)))).astype(float)
    estimators = {
        "savings": calibrated(boosted(0)).fit(x, y),
        "credit_card": calibrated(logistic(0)).fit(x, y),
        "mortgage": DummyClassifier(strategy="prior").fit(x, y),
        "auto_loan": HistGradientBoostingClassifier(max_iter=5).fit(x, y),  # not calibrated: opaque path
    }
    return x, estimators


def test_small_and_large_batches_match_predict_proba(fitted: Fitted) -> None:
    x, estimators = fitted
    model = CompiledPropensity(list(estimators), estimators)
    expected = np.column_stack([e.predict_proba(x)[:, 1] for e in estimators.values()])
    small = np.vstack([model.predict(x[i : i + 30]) for i in range(0, len(x), 30)])
    assert len(x) > SMALL_BATCH  # so the whole-batch call takes the native path
    np.testing.assert_allclose(small, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-9, atol=1e-12)


def test_an_all_nan_row_is_scored_like_the_estimators_do(fitted: Fitted) -> None:
    x, estimators = fitted
    model = CompiledPropensity(list(estimators), estimators)
    row = np.full((1, x.shape[1]), np.nan)
    expected = [e.predict_proba(row)[0, 1] for e in estimators.values()]
    np.testing.assert_allclose(model.predict(row)[0], expected, rtol=1e-9)


def test_a_large_frame_model_calibrated_on_a_held_back_share_compiles_too() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(LARGE_FRAME, 4))
    y = (rng.random(LARGE_FRAME) < 1 / (1 + np.exp(-(2 * x[:, 0] - x[:, 1] * x[:, 2])))).astype(float)
    estimators = {
        "savings": fit_calibrated(boosted(0, LARGE_FRAME), x, y, seed=0),
        "credit_card": fit_calibrated(logistic(0), x, y, seed=0),
    }
    model = CompiledPropensity(list(estimators), estimators)
    expected = np.column_stack([e.predict_proba(x[:200])[:, 1] for e in estimators.values()])
    np.testing.assert_allclose(model.predict(x[:200]), expected, rtol=1e-9, atol=1e-12)
