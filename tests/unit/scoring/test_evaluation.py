import math

import numpy as np
import pytest

from scoring.training.evaluation import evaluate, expected_calibration_error, lift_at


def test_ece_of_perfectly_calibrated_bins_is_zero() -> None:
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    p = np.array([0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75])
    assert expected_calibration_error(y, p) == pytest.approx(0.0)


def test_ece_weights_each_bin_by_its_share() -> None:
    # Bin 0.9: predicted 0.9, observed 0.5 (half the rows) → 0.4 × 0.5; bin 0.1: predicted 0.1, observed 0 → 0.1 × 0.5.
    y = np.array([1, 0, 0, 0])
    p = np.array([0.9, 0.9, 0.1, 0.1])
    assert expected_calibration_error(y, p) == pytest.approx(0.4 * 0.5 + 0.1 * 0.5)


def test_lift_at_top_decile() -> None:
    y = np.array([1] + [0] * 9 + [1] * 1 + [0] * 9)  # base rate 0.1
    p = np.linspace(1, 0, 20)  # the first two rows score highest; row 0 is positive
    assert lift_at(y, p, 0.1) == pytest.approx(0.5 / 0.1)
    assert math.isnan(lift_at(np.zeros(5), np.ones(5)))


def test_evaluate_perfect_and_degenerate() -> None:
    y = np.array([0, 0, 1, 1])
    metrics = evaluate(y, np.array([0.1, 0.2, 0.8, 0.9]))
    assert metrics["auc"] == pytest.approx(1.0)
    assert metrics["pr_auc"] == pytest.approx(1.0)
    assert metrics["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.8, 0.9])))
    assert metrics["lift_at_10"] == pytest.approx(2.0)
    assert all(math.isnan(v) for v in evaluate(np.ones(3), np.ones(3) / 2).values())
