"""The living demo's history: entry days spread over the campaign's weeks, responses drawn from the hidden truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from campaigns.domain.campaign import CampaignDefinition
from campaigns.domain.experiment import assign
from prometeo_dev.living import (
    CONTROL_SHARE,
    DEMO_CAMPAIGN,
    PRODUCT,
    SAO_PAULO,
    WEEKS,
    LivingReport,
    Report,
    campaign_body,
    draw_history,
    entry_times,
)
from prometeo_dev.synthbank import SyntheticBank, generate_bank

NOW = datetime(2026, 5, 20, 14, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def bank() -> SyntheticBank:
    return generate_bank(1200, seed=7)


def test_the_campaign_is_a_marketers_holdout_campaign_started_weeks_ago() -> None:
    body = campaign_body(NOW)
    campaign = CampaignDefinition.model_validate(body)
    assert campaign.name.startswith("Tarjeta") and campaign.control_share == CONTROL_SHARE
    assert [s.id for s in campaign.sequence.steps] == ["email", "sms", "llamada"]
    assert campaign.sequence.steps[2].action == "crm_task" and campaign.target.all
    assert campaign.starts_at <= NOW - timedelta(weeks=WEEKS) + timedelta(days=1)
    assert campaign.is_active(NOW)


def test_entry_times_cover_the_weeks_in_business_hours_and_never_the_future() -> None:
    starts = CampaignDefinition.model_validate(campaign_body(NOW)).starts_at
    times = entry_times(500, starts, NOW, np.random.default_rng(1))
    assert times == entry_times(500, starts, NOW, np.random.default_rng(1))  # pinned seed, pinned clock
    assert all(starts <= t < NOW for t in times)
    days = {t.astimezone(SAO_PAULO).date() for t in times}
    assert (max(days) - min(days)).days >= 3 * 7 and len(days) > 30
    local_hours = {t.astimezone(SAO_PAULO).hour for t in times if t < NOW - timedelta(hours=2)}
    assert local_hours <= set(range(9, 18))


def _history(
    bank: SyntheticBank, seed: int = 3, permitted: list[list[str]] | None = None
) -> tuple[list[int], list[str], list[datetime], list[Report]]:
    rows = list(range(bank.n_customers))
    groups: list[str] = [assign(f"ck_{r}", DEMO_CAMPAIGN, CONTROL_SHARE) for r in rows]
    starts = CampaignDefinition.model_validate(campaign_body(NOW)).starts_at
    entered = entry_times(len(rows), starts, NOW, np.random.default_rng(seed))
    return rows, groups, entered, draw_history(bank, rows, groups, entered, NOW, np.random.default_rng(seed), permitted)


def test_responses_are_dated_after_entry_in_order_and_before_now(bank: SyntheticBank) -> None:
    _, groups, entered, history = _history(bank)
    assert history == _history(bank)[3]
    order = ["opened", "clicked", "accepted", "declined"]
    last: dict[int, Report] = {}
    for item in history:
        assert entered[item.row] <= item.at < NOW
        if (prev := last.get(item.row)) is not None:
            assert prev.at <= item.at and order.index(prev.outcome) < order.index(item.outcome)
        last[item.row] = item
        if groups[item.row] == "control":
            # A held-out customer was never contacted: only their own uptake is reported.
            assert item.outcome == "accepted"
    accepted = [i for i in history if i.outcome == "accepted"]
    assert all(i.revenue and i.revenue > 0 for i in accepted)
    assert len({i.row for i in history if i.outcome in ("accepted", "declined")}) == len(
        [i for i in history if i.outcome in ("accepted", "declined")]
    )


def test_the_lift_follows_the_hidden_truth(bank: SyntheticBank) -> None:
    rows, groups, _, history = _history(bank)
    column = bank.products.index(PRODUCT)
    accepted = {i.row for i in history if i.outcome == "accepted"}
    test = [r for r in rows if groups[r] == "test"]
    control = [r for r in rows if groups[r] == "control"]
    rate_test = sum(r in accepted for r in test) / len(test)
    rate_control = sum(r in accepted for r in control) / len(control)
    assert rate_test > 1.5 * rate_control > 0
    # Acceptance comes from the hidden propensity: those who took it had a higher one than the rest.
    taken = bank.oracle_propensity[sorted(accepted), column].mean()
    assert taken > bank.oracle_propensity[:, column].mean()


def test_customers_without_marketing_permission_on_the_sequence_are_never_contacted(bank: SyntheticBank) -> None:
    permitted = [[] if row < 50 else c["marketing_channels"] for row, c in enumerate(bank.consent_requests())]
    _, _, _, history = _history(bank, permitted=permitted)
    assert any(i.outcome == "opened" for i in history)
    assert all(i.outcome == "accepted" for i in history if i.row < 50)
    # An advisor calls (and reports the answer) only a customer who lets advisors contact them.
    on_call = {i.row for i in history if i.channel == "advisor"}
    assert on_call and all("advisor" in permitted[row] for row in on_call)


def test_the_stage_prints_one_line_with_both_rates_and_the_interval_of_the_lift() -> None:
    group = {"test": {"offers": 300, "conversion_rate": 0.07}, "control": {"offers": 75, "conversion_rate": 0.027}}
    lift = {"absolute": 0.043, "ci95_low": 0.005, "ci95_high": 0.081, "p_value": 0.04}
    line = LivingReport(DEMO_CAMPAIGN, reported=320, seconds=21, experiment=group | {"lift": lift}).line()
    assert "\n" not in line and f"{WEEKS} simulated weeks" in line
    assert "test 7.0% of 300 vs control 2.7% of 75 → lift +4.3 pp, 95 % CI [+0.5, +8.1] pp, p=0.040" in line
    assert "no lift yet" in LivingReport(DEMO_CAMPAIGN, experiment=group | {"lift": None}).line()
