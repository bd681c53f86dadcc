import math

import numpy as np
import pandas as pd

from prometeo.contracts.events import ProductScore
from scoring.domain.reasons import SPECS, reasons_for
from scoring.domain.scorer import ModelSpec, ScoringInput, score_batch
from scoring.domain.vector import held_columns, input_row

COLUMNS = [
    "balance_current",
    "balance_avg_30d",
    "balance_min_30d",
    "spend_travel_30d",
    "salary_30d",
    "inflow_90d",
    *held_columns(),
]
BASELINES = dict.fromkeys(COLUMNS, 0.0) | {
    "balance_current": 1000.0,
    "balance_avg_30d": 1000.0,
    "balance_min_30d": 1000.0,
    "spend_travel_30d": 0.0,
}


class FakePredictor:
    """Transparent propensities: travel → credit card; idle balance → savings; mortgage elsewhere
    without home insurance → home insurance."""

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        def sig(x: pd.Series) -> pd.Series:
            return 1 / (1 + np.exp(-x))

        no_home_ins = 1 - frame["held_here_home_insurance"] - frame["held_elsewhere_home_insurance"]
        return pd.DataFrame(
            {
                "credit_card": sig(-2 + frame["spend_travel_30d"] / 1000),
                "savings": sig(-2 + frame["balance_current"] / 5000),
                "home_insurance": sig(-2 + 2 * frame["held_elsewhere_mortgage"] * no_home_ins),
            }
        )


SPEC = ModelSpec(columns=COLUMNS, products=["credit_card", "savings", "home_insurance"], baselines=BASELINES)
CUSTOMER = ScoringInput(
    features={
        "balance_current": 14_000.0,
        "balance_avg_30d": 12_000.0,
        "balance_min_30d": 10_000.0,
        "spend_travel_30d": 2_500.0,
        "salary_30d": 0.0,
        "inflow_90d": 0.0,
    },
    held_products=["credit_card"],
    held_elsewhere=["mortgage"],
)


def _by_product(scores: list[ProductScore]) -> dict[str, ProductScore]:
    return {s.product.value: s for s in scores}


def test_reasons_name_the_signals_that_push_up_in_both_languages() -> None:
    [scores] = score_batch(FakePredictor(), SPEC, [CUSTOMER])
    by = _by_product(scores)
    assert by["credit_card"].reasons[0].code == "travel_spend"
    assert by["credit_card"].reasons[0].text_en == "spent R$ 2,500 on travel in the last 30 days"
    assert by["credit_card"].reasons[0].text_es == "gastó R$ 2.500 en viajes en los últimos 30 días"
    assert by["savings"].reasons[0].code == "idle_balance"
    assert by["savings"].reasons[0].text_en == "idle balance grew 40 % in 30 days"
    assert by["savings"].reasons[0].text_es == "el saldo ocioso creció 40 % en 30 días"
    home = by["home_insurance"].reasons[0]
    assert home.text_en == "holds a mortgage elsewhere but no home insurance"
    assert all(r.weight > 0 for s in scores for r in s.reasons)
    assert all(0 <= s.propensity <= 1 for s in scores)


def test_reasons_are_stable_for_the_same_input() -> None:
    first = score_batch(FakePredictor(), SPEC, [CUSTOMER, CUSTOMER])
    second = score_batch(FakePredictor(), SPEC, [CUSTOMER])
    assert first[0] == first[1] == second[0]


def test_signals_that_pull_down_are_not_reasons() -> None:
    quiet = ScoringInput(features={"balance_current": 100.0, "balance_min_30d": 100.0, "spend_travel_30d": 0.0})
    [scores] = score_batch(FakePredictor(), SPEC, [quiet])
    # Nothing pushed these up: only the product-gap fallback explains them.
    assert [r.code for r in _by_product(scores)["savings"].reasons] == ["product_gap"]
    assert [r.code for r in _by_product(scores)["credit_card"].reasons] == ["product_gap"]


def test_product_gap_is_not_claimed_for_a_product_held_elsewhere() -> None:
    values = {"held_elsewhere_credit_card": 1.0}
    assert reasons_for("credit_card", {}, values, {}, SPECS, limit=3) == []
    [gap] = reasons_for("savings", {}, values, {}, SPECS, limit=3)
    assert gap.text_es == "no tiene cuenta de ahorro con nosotros ni en otra institución"


def test_ties_break_by_code_and_limit_applies() -> None:
    effects = {s.code: 0.05 for s in SPECS}
    values = {"spend_travel_30d": 10.0, "spend_fuel_30d": 10.0, "spend_home_30d": 10.0, "tenure_days": 800.0}
    reasons = reasons_for("credit_card", effects, values, {}, SPECS, limit=2)
    assert [r.code for r in reasons] == sorted(r.code for r in reasons)
    assert len(reasons) == 2


def test_missing_features_become_nan_for_the_model() -> None:
    row = input_row(["salary_30d", "held_here_savings", "unknown"], {"salary_30d": 5.0}, ["savings"], [])
    assert row[:2] == [5.0, 1.0] and math.isnan(row[2])


class ArrayFake:
    """The same model behind the array interface the served model offers."""

    def __init__(self) -> None:
        self.products = ["credit_card", "savings", "home_insurance"]

    def predict_array(self, x: np.ndarray) -> np.ndarray:
        return FakePredictor().predict(pd.DataFrame(x, columns=COLUMNS))[self.products].to_numpy()


def test_the_array_path_gives_the_same_scores_and_reasons() -> None:
    quiet = ScoringInput(features={"balance_current": 100.0, "spend_travel_30d": 0.0})
    assert score_batch(ArrayFake(), SPEC, [CUSTOMER, quiet]) == score_batch(FakePredictor(), SPEC, [CUSTOMER, quiet])
