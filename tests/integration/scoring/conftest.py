from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from prometeo_dev.synthbank import SyntheticBank, generate_bank
from prometeo_dev.training_set import build_training_frame
from scoring.training.registry import PromotionGate

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
# Where the serving mechanics are under test (hot swaps, challenger routing), not the gate's floor:
# coin-like models trained on shuffled labels may take aliases.
NO_FLOOR = PromotionGate(auc_margin=-0.5, max_ece=1.0, min_product_auc=0.0)


@pytest.fixture(scope="session")
def small_bank() -> SyntheticBank:
    return generate_bank(700, seed=21, as_of=AS_OF)


@pytest.fixture(scope="session")
def good_frame(small_bank: SyntheticBank) -> pd.DataFrame:
    return build_training_frame(small_bank)


@pytest.fixture(scope="session")
def weak_frame(good_frame: pd.DataFrame) -> pd.DataFrame:
    """Same features, labels shuffled: a model trained on it can only be about as good as a coin."""
    rng = np.random.default_rng(0)
    weak = good_frame.copy()
    for column in weak.filter(like="label_").columns:
        weak[column] = rng.permutation(weak[column].to_numpy())
    weak.attrs = dict(good_frame.attrs)
    return weak
