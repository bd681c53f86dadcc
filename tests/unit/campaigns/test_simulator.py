"""The campaign simulator, small: the table's arithmetic, not the goal (that needs thousands)."""

import math

import numpy as np
import pytest

from next_best_action.domain.policy import load_policy
from next_best_action.settings import DEFAULT_POLICY
from prometeo.contracts import Channel
from prometeo_dev.simulator import NBA_OBJECTIVES, STRATEGIES, SimulationResult, decide_all, main, simulate
from prometeo_dev.synthbank import generate_bank
from prometeo_dev.training_set import build_training_frame


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(generate_bank(240, seed=3), budget_share=0.2, draws=5)


def test_every_strategy_contacts_the_budget_with_eligible_offers(result: SimulationResult) -> None:
    assert tuple(result.results) == STRATEGIES
    assert result.customers == 240 and 0 < result.audience < 240
    assert result.budget == round(0.2 * result.audience)
    for name, r in result.results.items():
        # Fewer customers than the budget may be eligible for the one popular product.
        assert r.contacted == result.budget or (name == "most_popular" and r.contacted < result.budget)
        assert sum(r.products.values()) == r.contacted == sum(r.channels.values())
        assert 0 <= r.conversions <= r.contacted and 0 <= r.expected_rate <= 1
    popular = result.results["most_popular"]
    assert popular.products == {result.popular_product: popular.contacted}


def test_table_rates_and_ratios_follow_from_the_counts(result: SimulationResult) -> None:
    table = result.table()
    assert list(table.index) == list(STRATEGIES)
    for name, row in table.iterrows():
        assert row["conversion_rate"] == pytest.approx(result.results[str(name)].conversions / row["contacted"])
        assert row["vs_random"] == pytest.approx(row["conversion_rate"] / table.loc["random", "conversion_rate"])
        assert row["vs_most_popular"] == pytest.approx(
            row["conversion_rate"] / table.loc["most_popular", "conversion_rate"]
        )
    assert table.loc["random", "vs_random"] == 1.0 and table.loc["most_popular", "vs_most_popular"] == 1.0
    assert not any(math.isnan(v) for v in table["expected_rate"])


def test_nba_strategies_are_real_decisions(result: SimulationResult) -> None:
    bank = generate_bank(240, seed=3)
    frame = build_training_frame(bank)
    model = np.full((bank.n_customers, len(bank.products)), 0.3)
    audience = np.arange(bank.n_customers) < 60
    decided = decide_all(bank, frame, model, audience, load_policy(DEFAULT_POLICY))
    assert (decided.channel[~audience] == -1).all() and not decided.eligible[~audience].any()
    index = {p: j for j, p in enumerate(bank.products)}
    for name in NBA_OBJECTIVES:
        for c in decided.candidates[name]:
            assert isinstance(c.customer, int)
            j = index[c.product]
            assert audience[c.customer] and decided.eligible[c.customer, j]
            assert not bank.held_here[c.customer, j] and not bank.held_elsewhere[c.customer, j]
    # Equal propensities: value ranks each customer's dearest eligible product (× its business lever) first.
    products = load_policy(DEFAULT_POLICY).products
    best: dict[int, float] = {}
    for c in decided.candidates["nba_value"]:
        assert isinstance(c.customer, int)
        best[c.customer] = max(best.get(c.customer, 0.0), c.priority)
    for c in decided.candidates["nba_value"]:
        assert isinstance(c.customer, int)
        if c.priority == best[c.customer]:
            eligible = [bank.products[j] for j in np.flatnonzero(decided.eligible[c.customer])]
            worth = products[c.product].value_brl * products[c.product].lever
            assert worth == max(products[p].value_brl * products[p].lever for p in eligible if p in products)


def test_channel_response_is_the_banks_hidden_truth() -> None:
    bank = generate_bank(50, seed=3)
    archetypes = bank.customers["digital_archetype"].to_numpy()
    nascent, activated = (int(np.flatnonzero(archetypes == a)[0]) for a in ("nascent", "activated"))
    rows = np.array([nascent, nascent, activated, activated])
    rates = bank.response_rate(rows, [Channel.ADVISOR, Channel.IN_APP, Channel.ADVISOR, Channel.IN_APP])
    assert rates[0] > rates[1] and rates[3] > rates[2] and ((rates > 0) & (rates <= 1)).all()


def test_the_cli_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--customers", "120", "--draws", "2", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    for name in STRATEGIES:
        assert name in out
    assert "× random (goal ≥ 2.5)" in out
