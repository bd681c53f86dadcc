from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import roc_auc_score

from prometeo.model_quality import Bin, bins_from, challenger_verdict, quality


def test_binned_auc_matches_the_exact_auc_and_ece_reads_calibration() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 20_000)
    y = (rng.random(20_000) < p).astype(int)  # perfectly calibrated
    q = quality("7", bins_from(zip(p.tolist(), y.tolist(), strict=True)))
    assert abs(q.auc - roc_auc_score(y, p)) < 0.005
    assert q.ece < 0.02 and q.sent == 20_000 and q.accepted == int(y.sum())
    overconfident = quality("8", bins_from(zip((p * 0.5 + 0.5).tolist(), y.tolist(), strict=True)))
    assert overconfident.ece > 0.2  # same ranking, badly calibrated
    assert abs(overconfident.auc - q.auc) < 0.01


def test_auc_is_undefined_until_both_outcomes_are_seen() -> None:
    assert math.isnan(quality("1", {3: Bin(10, 0, 1.5)}).auc)


def test_a_challenger_is_promoted_only_when_it_wins_by_the_margin_over_enough_outcomes() -> None:
    champion = quality("1", bins_from([(0.2, 0), (0.3, 1), (0.6, 0), (0.7, 1)] * 200))
    strong = quality("2", bins_from([(0.2, 0), (0.3, 0), (0.6, 1), (0.7, 1)] * 200))
    assert challenger_verdict(champion, strong, margin=0.05, min_outcomes=500).promote
    assert not challenger_verdict(champion, strong, margin=0.05, min_outcomes=5_000).promote  # too few yet
    assert not challenger_verdict(champion, champion, margin=0.05, min_outcomes=500).promote
