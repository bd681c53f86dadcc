import numpy as np
import pandas as pd
import pytest

from scoring.training.candidates import fit_product
from scoring.training.pipeline import frame_layout, holdout_mask


def test_frame_layout_splits_labels_from_numeric_features() -> None:
    frame = pd.DataFrame({"a": [1.0], "b": [2], "name": ["x"], "label_savings": [1.0]})
    assert frame_layout(frame) == (["a", "b"], ["savings"])
    with pytest.raises(ValueError):
        frame_layout(frame.drop(columns="label_savings"))


def test_a_learnable_product_gets_a_fitted_model_and_few_positives_fall_back_to_the_prior() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(800, 3))
    y = (rng.random(800) < 1 / (1 + np.exp(-(2 * x[:, 0] - 1)))).astype(float)
    hold = holdout_mask(800, 0, 0.25)
    fit = fit_product("savings", x[~hold], y[~hold], x[hold], y[hold])
    assert fit.kind in ("logistic", "boosted") and fit.metrics["auc"] > 0.75
    y_rare = np.zeros(800)
    y_rare[:3] = 1
    prior = fit_product("mortgage", x[~hold], y_rare[~hold], x[hold], y_rare[hold])
    assert prior.kind == "prior"
