"""Holdout metrics for one product's propensities: discrimination, calibration and campaign lift."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

METRICS = ("auc", "pr_auc", "log_loss", "ece", "lift_at_10")


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Σ over equal-width probability bins of |mean predicted − observed rate| × share of rows."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            total += abs(p[in_bin].mean() - y[in_bin].mean()) * in_bin.sum()
    return total / len(y)


def lift_at(y: np.ndarray, p: np.ndarray, fraction: float = 0.1) -> float:
    """Positive rate among the top `fraction` by score, over the overall positive rate: how much
    better a campaign to the model's top decile does than one to random customers."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    base = y.mean()
    if base == 0:
        return math.nan
    top = max(1, math.ceil(len(y) * fraction))
    order = np.argsort(-p, kind="stable")
    return float(y[order[:top]].mean() / base)


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    y, p = np.asarray(y, float), np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    if len(np.unique(y)) < 2:
        return dict.fromkeys(METRICS, math.nan)
    return {
        "auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "ece": float(expected_calibration_error(y, p)),
        "lift_at_10": float(lift_at(y, p, 0.1)),
    }
