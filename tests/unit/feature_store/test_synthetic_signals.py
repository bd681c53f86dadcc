"""The life-event flags find the events the synthetic bank planted (and not too much else)."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from prometeo_dev.synthbank import SyntheticBank, generate_bank
from prometeo_dev.training_set import build_training_frame


@pytest.fixture(scope="module")
def bank_and_frame() -> tuple[SyntheticBank, pd.DataFrame]:
    bank = generate_bank(400, seed=11, as_of=datetime(2025, 6, 1, tzinfo=UTC))
    return bank, build_training_frame(bank)


@pytest.mark.parametrize(
    ("flag", "planted", "min_precision", "min_recall"),
    [
        ("life_salary_raise", "salary_raise", 0.8, 0.9),
        ("life_idle_balance_growth", "idle_balance_growth", 0.8, 0.8),
        ("life_travel_spike", "travel_spike", 0.3, 0.7),
        ("life_child_spend", "new_child", 0.1, 0.7),
    ],
)
def test_flags_recover_planted_life_events(
    bank_and_frame: tuple[SyntheticBank, pd.DataFrame],
    flag: str,
    planted: str,
    min_precision: float,
    min_recall: float,
) -> None:
    bank, frame = bank_and_frame
    truth = bank.customers[planted].to_numpy(bool)
    flagged = frame[flag].to_numpy() > 0
    hits = (truth & flagged).sum()
    assert hits / max(1, flagged.sum()) >= min_precision
    assert hits / max(1, truth.sum()) >= min_recall
