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


def test_a_validation_split_of_the_training_rows_picks_and_the_holdout_only_scores() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1200, 3))
    y = (rng.random(1200) < 1 / (1 + np.exp(-(2 * x[:, 0] - 1)))).astype(float)
    hold = holdout_mask(1200, 0, 0.25)
    validation = holdout_mask(int((~hold).sum()), 1, 0.2)
    fit = fit_product("savings", x[~hold], y[~hold], x[hold], y[hold], validation=validation)
    assert fit.n_validation == validation.sum() and fit.n_train == (~hold).sum()
    assert set(fit.candidate_auc) == {"logistic", "boosted"} and fit.metrics["auc"] > 0.75
    # The candidates' AUCs are the validation ones, not the reported holdout AUC.
    assert fit.metrics["auc"] not in fit.candidate_auc.values()
    # Too few validation positives to compare on: the simpler model, refit on every training row.
    y_few = y.copy()
    y_few[~hold] = np.where(validation, 0.0, y[~hold])
    simple = fit_product("savings", x[~hold], y_few[~hold], x[hold], y[hold], validation=validation)
    assert simple.kind == "logistic" and simple.candidate_auc == {}
