"""The campaign simulator, small: the table's arithmetic, not the goal (that needs thousands)."""

import math

import pytest

from prometeo_dev.simulator import STRATEGIES, main, simulate
from prometeo_dev.synthbank import generate_bank


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return simulate(generate_bank(240, seed=3), budget_share=0.2, draws=5)


def test_every_strategy_contacts_the_budget_with_eligible_offers(result) -> None:  # type: ignore[no-untyped-def]
    assert tuple(result.results) == STRATEGIES
    assert result.customers == 240 and 0 < result.audience < 240
    assert result.budget == round(0.2 * result.audience)
    for r in result.results.values():
        assert r.contacted == result.budget
        assert sum(r.products.values()) == r.contacted
        assert 0 <= r.conversions <= r.contacted and 0 <= r.expected_rate <= 1
    assert result.results["most_popular"].products == {result.popular_product: result.budget}


def test_table_rates_and_ratios_follow_from_the_counts(result) -> None:  # type: ignore[no-untyped-def]
    table = result.table()
    assert list(table.index) == list(STRATEGIES)
    for name, row in table.iterrows():
        assert row["conversion_rate"] == pytest.approx(result.results[name].conversions / row["contacted"])
        assert row["vs_random"] == pytest.approx(row["conversion_rate"] / table.loc["random", "conversion_rate"])
        assert row["vs_most_popular"] == pytest.approx(
            row["conversion_rate"] / table.loc["most_popular", "conversion_rate"])
    assert table.loc["random", "vs_random"] == 1.0 and table.loc["most_popular", "vs_most_popular"] == 1.0
    assert not any(math.isnan(v) for v in table["expected_rate"])


def test_the_cli_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--customers", "120", "--draws", "2", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    for name in STRATEGIES:
        assert name in out
    assert "× random (goal ≥ 3)" in out
