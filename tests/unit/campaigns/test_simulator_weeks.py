"""The weekly simulation on a small bank: shape, the share cap, the planted drift and the learning state."""

from __future__ import annotations

import pytest

from prometeo_dev.synthbank import generate_bank
from prometeo_dev.weeks import DRIFT_ALERT_PSI, DRIFTED_FEATURE, WeeksResult, simulate_weeks


@pytest.fixture(scope="module")
def result() -> WeeksResult:
    bank = generate_bank(800, seed=4)
    return simulate_weeks(bank, weeks=3, drift_week=3, promotion_min_outcomes=20, champion_rows=0.5)


def test_every_week_contacts_the_budget_under_the_share_cap(result: WeeksResult) -> None:
    assert [w.week for w in result.weeks] == [1, 2, 3]
    for week in result.weeks:
        assert week.contacted == result.budget > 0
        for name in ("fixed", "learning", "champion_challenger"):
            assert week.top_share[name] <= 0.35 + 1 / result.budget
            assert 0 < week.expected_rate[name] < 1


def test_the_planted_drift_crosses_the_alert_threshold_only_once_planted(result: WeeksResult) -> None:
    before, after = result.weeks[1], result.weeks[2]
    assert before.max_psi < DRIFT_ALERT_PSI
    assert after.max_psi > DRIFT_ALERT_PSI and after.max_psi_feature == DRIFTED_FEATURE


def test_outcomes_are_measured_per_model_version_and_reported(result: WeeksResult) -> None:
    assert {"1", "2"} <= set(result.weeks[0].qualities)
    assert result.weeks[0].qualities["1"].sent > 0
    report = result.report()
    assert "learning conversion" in report and "default policy (cc track" in report
    assert list(result.table().columns[:2]) == ["fixed_conv", "learning_conv"]
