from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from campaigns.domain.kpis import business_day, series, series_days, split_segments, summarise
from campaigns.store import OfferRecord, daily_key, daily_outcome_increments
from prometeo import clock
from prometeo.contracts.events import OutcomeKind


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


def test_business_days_are_the_banks_calendar_days() -> None:

    # 01:30 UTC on 2 Dec is still 1 Dec in São Paulo (UTC−3); naive instants are UTC.
    assert business_day(datetime(2026, 12, 2, 1, 30, tzinfo=UTC)) == date(2026, 12, 1)
    assert business_day(datetime(2026, 12, 2, 3, 0, tzinfo=UTC)) == date(2026, 12, 2)
    assert business_day(datetime(2026, 12, 2, 1, 30)) == date(2026, 12, 1)
    assert business_day(datetime(2026, 12, 2, 1, 30, tzinfo=timezone(timedelta(hours=2)))) == date(2026, 12, 1)


def test_outcomes_and_offers_land_on_their_own_day_not_the_processing_day() -> None:

    decided = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    record = OfferRecord(
        offer_id="of_1",
        decision_id="d_1",
        customer_key="ck_1",
        product="savings",
        channel="email",
        propensity=0.3,
        expected_value=10.0,
        reason_codes=[],
        rules_passed=[],
        decided_at=decided,
    )
    assert (daily_key(date(2026, 11, 20)), "offers", 1) in record.kpi_increments("offers")
    assert (daily_key(date(2026, 11, 20)), "contacts", 1) in record.kpi_increments("contacts")
    # Counters the series does not draw stay out of the day hashes.
    assert not [i for i in record.kpi_increments("holdout") if i[0].startswith(daily_key(date(2026, 11, 20)))]
    accepted = daily_outcome_increments(OutcomeKind.ACCEPTED, Decimal("12.34"), datetime(2026, 11, 25, 2, tzinfo=UTC))
    assert accepted == [
        (daily_key(date(2026, 11, 24)), "outcome.accepted", 1),
        (daily_key(date(2026, 11, 24)), "revenue_cents", 1234),
    ]
    assert daily_key(date(2026, 11, 24)) == "campaigns:kpi:day:2026-11-24"


def test_the_series_fills_every_day_and_derives_its_rates() -> None:

    daily = {
        date(2026, 11, 29): {"offers": 4, "actions_triggered": 1, "contacts": 4, "outcome.accepted": 1},
        date(2026, 12, 1): {"offers": 2, "outcome.accepted": 1, "outcome.declined": 1, "revenue_cents": 5000},
        date(2026, 11, 1): {"offers": 99},  # outside the window
    }
    s = series(date(2026, 12, 1), 7, daily)
    assert s.days == 7 and s.timezone == "America/Sao_Paulo"
    assert [p.day for p in s.points] == [date(2026, 11, d) for d in range(25, 31)] + [date(2026, 12, 1)]
    first, nov29, today = s.points[0], s.points[4], s.points[-1]
    assert (first.offers, first.conversion_rate, first.revenue_brl) == (0, 0.0, Decimal(0))
    assert (nov29.contact_rate, nov29.conversion_rate, nov29.acceptance_rate) == (0.8, 0.25, 1.0)
    assert (today.conversion_rate, today.acceptance_rate, today.revenue_brl) == (0.5, 0.5, Decimal("50"))
    assert sum(p.offers for p in s.points) == 6


def test_the_series_ends_on_the_pinned_business_day() -> None:

    with clock.pinned(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)):  # 23:00 on 30 Nov in São Paulo
        today = business_day(clock.now())
    assert today == date(2026, 11, 30)
    assert series_days(today, 3) == [date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)]
