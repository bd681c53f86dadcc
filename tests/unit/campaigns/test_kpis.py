from decimal import Decimal

from campaigns.domain.kpis import split_segments, summarise


def test_summary_derives_rates_and_revenue() -> None:
    totals = {
        "decisions": 5,
        "no_action": 1,
        "offers": 4,
        "contacts": 3,
        "outcome.delivered": 4,
        "outcome.accepted": 1,
        "outcome.declined": 2,
        "revenue_cents": 12345,
        "customers_known": 8,
        "products_held": 14,
        "multi_product_customers": 5,
        "advisor_tasks": 4,
        "advisor_acted": 3,
    }
    product = {
        "credit_card|offers": 3,
        "credit_card|outcome.accepted": 1,
        "credit_card|revenue_cents": 12345,
        "savings|offers": 1,
        "savings|outcome.declined": 1,
    }
    channel = {"sms|offers": 4, "sms|outcome.accepted": 1}
    segment = {"nascent|offers": 2, "nascent|outcome.accepted": 1, "activated|offers": 2}
    campaign = {"nba-always-on|offers": 4, "nba-always-on|outcome.accepted": 1}
    kpis = summarise(totals, {"product": product, "channel": channel, "segment": segment, "campaign": campaign})
    assert kpis.offers_made == 4 and kpis.no_action == 1 and kpis.contacts == 3 and kpis.contact_rate == 0.75
    assert kpis.outcomes["accepted"] == 1 and kpis.outcomes["opened"] == 0
    assert kpis.acceptance_rate == 0.25
    assert kpis.revenue_accepted_brl == Decimal("123.45")
    assert kpis.by_product["credit_card"].conversion_rate == round(1 / 3, 6)
    assert kpis.by_product["savings"].conversion_rate == 0.0
    assert kpis.by_channel["sms"].conversion_rate == 0.25
    assert kpis.by_segment["nascent"].conversion_rate == 0.5 and kpis.by_segment["activated"].conversion_rate == 0.0
    assert kpis.by_campaign["nba-always-on"].conversion_rate == 0.25
    assert (kpis.customers_known, kpis.products_per_customer, kpis.multi_product_customers) == (8, 1.75, 5)
    assert (kpis.advisor_tasks, kpis.advisor_adherence) == (4, 0.75)


def test_empty_counters_give_zero_rates() -> None:
    kpis = summarise({}, {})
    assert kpis.acceptance_rate == kpis.contact_rate == kpis.products_per_customer == kpis.advisor_adherence == 0.0
    assert kpis.by_product == kpis.by_segment == kpis.by_campaign == {}


def test_split_segments() -> None:
    assert split_segments({"a|x": 1, "a|y": 2, "b|x": 3}) == {"a": {"x": 1, "y": 2}, "b": {"x": 3}}


def test_per_advisor_results_from_the_outcomes_they_reported() -> None:
    advisor = {
        "adv-sp-01|outcome.accepted": 3,
        "adv-sp-01|outcome.declined": 1,
        "adv-sp-01|advisor_acted": 4,
        "adv-sp-02|outcome.opened": 2,
    }
    kpis = summarise({}, {"advisor": advisor})
    assert kpis.by_advisor["adv-sp-01"].success_rate == 0.75 and kpis.by_advisor["adv-sp-01"].tasks_acted == 4
    assert kpis.by_advisor["adv-sp-02"].success_rate == 0.0 and kpis.by_advisor["adv-sp-02"].outcomes["opened"] == 2


def test_triggered_actions_count_by_trigger_and_in_the_contact_rate() -> None:
    totals = {"offers": 3, "actions_triggered": 1, "contacts": 2}
    trigger = {"activity_drop|actions_triggered": 1, "activity_drop|contacts": 1}
    kpis = summarise(totals, {"trigger": trigger})
    assert kpis.actions_triggered == 1 and kpis.contact_rate == 0.5
    assert kpis.by_trigger["activity_drop"].actions == 1 and kpis.by_trigger["activity_drop"].contacts == 1


def test_per_advisor_adherence_is_offers_acted_on_over_offers_presented() -> None:
    advisor = {
        "adv-sp-01|presented": 4,
        "adv-sp-01|acted_on": 3,
        "adv-sp-01|outcome.accepted": 2,
        "adv-sp-02|presented": 2,
        "adv-sp-03|acted_on": 1,  # acted on an offer presented before the counters existed: no denominator
    }
    kpis = summarise({}, {"advisor": advisor})
    first = kpis.by_advisor["adv-sp-01"]
    assert (first.presented, first.acted_on, first.adherence, first.success_rate) == (4, 3, 0.75, 1.0)
    assert kpis.by_advisor["adv-sp-02"].adherence == 0.0 and kpis.by_advisor["adv-sp-02"].presented == 2
    assert kpis.by_advisor["adv-sp-03"].adherence == 0.0
