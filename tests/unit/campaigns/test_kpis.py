from decimal import Decimal

from campaigns.domain.kpis import split_segments, summarise


def test_summary_derives_rates_and_revenue() -> None:
    totals = {"decisions": 5, "no_action": 1, "offers": 4, "contacts": 4, "outcome.delivered": 4,
              "outcome.accepted": 1, "outcome.declined": 2, "revenue_cents": 12345}
    product = {"credit_card|offers": 3, "credit_card|outcome.accepted": 1, "credit_card|revenue_cents": 12345,
               "savings|offers": 1, "savings|outcome.declined": 1}
    channel = {"sms|offers": 4, "sms|outcome.accepted": 1}
    kpis = summarise(totals, product, channel)
    assert kpis.offers_made == 4 and kpis.no_action == 1 and kpis.contacts == 4
    assert kpis.outcomes["accepted"] == 1 and kpis.outcomes["opened"] == 0
    assert kpis.acceptance_rate == 0.25
    assert kpis.revenue_accepted_brl == Decimal("123.45")
    assert kpis.by_product["credit_card"].conversion_rate == round(1 / 3, 6)
    assert kpis.by_product["savings"].conversion_rate == 0.0
    assert kpis.by_channel["sms"].conversion_rate == 0.25


def test_empty_counters_give_zero_rates() -> None:
    kpis = summarise({}, {}, {})
    assert kpis.acceptance_rate == 0.0 and kpis.by_product == {}


def test_split_segments() -> None:
    assert split_segments({"a|x": 1, "a|y": 2, "b|x": 3}) == {"a": {"x": 1, "y": 2}, "b": {"x": 3}}
