from __future__ import annotations

import math

import numpy as np

from scoring.domain.drift import monitor_from, psi, reference_from, reference_histogram


def test_psi_is_near_zero_for_the_same_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(1)
    ref = reference_histogram(rng.normal(0, 1, 20_000))
    same = rng.normal(0, 1, 5_000)
    shifted = rng.normal(1.0, 1, 5_000)
    from scoring.domain.drift import bucket_counts

    assert psi(ref.fractions, bucket_counts(ref.edges, same)) < 0.02
    assert psi(ref.fractions, bucket_counts(ref.edges, shifted)) > 0.25
    assert math.isnan(psi(ref.fractions, np.zeros(len(ref.fractions))))


def test_missing_values_have_their_own_bucket_and_held_flags_are_not_monitored() -> None:
    x = np.array([[1.0, 0.0], [2.0, 1.0], [np.nan, 1.0], [4.0, 0.0]])
    reference = reference_from(["income", "held_here_savings"], x, ["savings"], np.array([[0.1], [0.2], [0.3], [0.4]]))
    assert list(reference["features"]) == ["income"]
    assert reference["features"]["income"]["fractions"][-1] == 0.25  # one of four missing


def test_the_monitor_accumulates_served_rows_against_the_reference() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (5_000, 1))
    monitor = monitor_from(reference_from(["f"], x, ["p"], rng.uniform(0, 1, (5_000, 1))))
    assert monitor is not None
    monitor.observe([{"f": v} for v in rng.normal(2, 1, 1_000)], {"p": rng.uniform(0, 1, 1_000).tolist()})
    assert monitor.feature_psi()["f"] > 0.25 and monitor.score_psi()["p"] < 0.05
    assert monitor.observed == 1_000
