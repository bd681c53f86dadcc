"""KPIs from raw counters: rates and revenue are derived here, never stored (counters stay additive)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from prometeo.contracts.events import OutcomeKind

# Counter names shared by the store (which increments them) and this module (which reads them).
DECISIONS, NO_ACTION, OFFERS, CONTACTS, FAILED, HOLDOUT = (
    "decisions",
    "no_action",
    "offers",
    "contacts",
    "delivery_failed",
    "holdout",
)
REVENUE_CENTS = "revenue_cents"
# Actions next-best-action triggered at a moment that matters (action.triggered): delivered like offers.
ACTIONS = "actions_triggered"
# Advisor adherence: tasks given to advisors (advisor-channel offers, CRM tasks) and tasks acted on.
ADVISOR_TASKS, ADVISOR_ACTED = "advisor_tasks", "advisor_acted"
# Per advisor: offers the gateway showed them, and those of which they reported an outcome themselves.
PRESENTED, ACTED_ON = "presented", "acted_on"
# Holdings of customers seen in scores.v1 (store.record_holdings keeps them current).
CUSTOMERS_KNOWN, PRODUCTS_HELD, MULTI_PRODUCT = "customers_known", "products_held", "multi_product_customers"


def outcome_counter(kind: OutcomeKind | str) -> str:
    return f"outcome.{OutcomeKind(kind).value}"


class SegmentKpis(BaseModel):
    offers: int
    contacts: int
    actions: int = 0  # triggered actions (by_trigger; offers counts decided offers only)
    outcomes: dict[str, int]
    conversion_rate: float
    revenue_brl: Decimal


class AdvisorKpis(BaseModel):
    """One advisor's results, from the outcomes they reported through the gateway."""

    outcomes: dict[str, int]
    tasks_acted: int  # advisor tasks (advisor-channel offers) whose first outcome this advisor reported
    success_rate: float  # accepted / (accepted + declined) among this advisor's reports
    presented: int = 0  # offers shown to this advisor (recommendations read through the gateway)
    acted_on: int = 0  # of those, offers on which this advisor reported an outcome
    adherence: float = 0.0  # acted_on / presented


class KpiSummary(BaseModel):
    decisions: int
    no_action: int
    offers_made: int
    actions_triggered: int  # moments that matter acted on (retention calls, service messages, offers)
    contacts: int
    contact_rate: float  # contacts / (offers made + actions triggered): what reached the customer
    delivery_failures: int
    holdout: int
    outcomes: dict[str, int]
    acceptance_rate: float
    revenue_accepted_brl: Decimal
    customers_known: int
    products_per_customer: float  # products held here, mean over the customers scored
    multi_product_customers: int  # customers holding two or more products here
    advisor_tasks: int
    advisor_adherence: float  # advisor tasks acted on (an outcome reported by the advisor) / tasks
    by_product: dict[str, SegmentKpis]
    by_channel: dict[str, SegmentKpis]
    by_segment: dict[str, SegmentKpis]  # digital archetype
    by_campaign: dict[str, SegmentKpis]
    by_advisor: dict[str, AdvisorKpis] = {}
    by_trigger: dict[str, SegmentKpis] = {}  # triggered actions by the moment behind them


def rate(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 6) if denominator else 0.0


def _outcomes(counters: dict[str, int]) -> dict[str, int]:
    return {kind.value: counters.get(outcome_counter(kind), 0) for kind in OutcomeKind}


def _segment(counters: dict[str, int]) -> SegmentKpis:
    outcomes = _outcomes(counters)
    return SegmentKpis(
        offers=counters.get(OFFERS, 0),
        contacts=counters.get(CONTACTS, 0),
        actions=counters.get(ACTIONS, 0),
        outcomes=outcomes,
        conversion_rate=rate(outcomes[OutcomeKind.ACCEPTED.value], counters.get(OFFERS, 0)),
        revenue_brl=Decimal(counters.get(REVENUE_CENTS, 0)) / 100,
    )


def _advisor(counters: dict[str, int]) -> AdvisorKpis:
    outcomes = _outcomes(counters)
    accepted, declined = outcomes[OutcomeKind.ACCEPTED.value], outcomes[OutcomeKind.DECLINED.value]
    presented, acted_on = counters.get(PRESENTED, 0), counters.get(ACTED_ON, 0)
    return AdvisorKpis(
        outcomes=outcomes,
        tasks_acted=counters.get(ADVISOR_ACTED, 0),
        success_rate=rate(accepted, accepted + declined),
        presented=presented,
        acted_on=acted_on,
        adherence=rate(acted_on, presented),
    )


def split_segments(flat: dict[str, int]) -> dict[str, dict[str, int]]:
    """{"credit_card|offers": 3} → {"credit_card": {"offers": 3}}."""
    out: dict[str, dict[str, int]] = {}
    for field, value in flat.items():
        segment, _, counter = field.partition("|")
        out.setdefault(segment, {})[counter] = value
    return out


def summarise(totals: dict[str, int], by: dict[str, dict[str, int]]) -> KpiSummary:
    """`by`: dimension (product, channel, segment, campaign, advisor, trigger) → flat "<value>|<counter>" counters."""
    outcomes = _outcomes(totals)

    def dimension(name: str) -> dict[str, SegmentKpis]:
        return {k: _segment(v) for k, v in sorted(split_segments(by.get(name, {})).items())}

    return KpiSummary(
        decisions=totals.get(DECISIONS, 0),
        no_action=totals.get(NO_ACTION, 0),
        offers_made=totals.get(OFFERS, 0),
        actions_triggered=totals.get(ACTIONS, 0),
        contacts=totals.get(CONTACTS, 0),
        contact_rate=rate(totals.get(CONTACTS, 0), totals.get(OFFERS, 0) + totals.get(ACTIONS, 0)),
        delivery_failures=totals.get(FAILED, 0),
        holdout=totals.get(HOLDOUT, 0),
        outcomes=outcomes,
        acceptance_rate=rate(outcomes[OutcomeKind.ACCEPTED.value], totals.get(OFFERS, 0)),
        revenue_accepted_brl=Decimal(totals.get(REVENUE_CENTS, 0)) / 100,
        customers_known=totals.get(CUSTOMERS_KNOWN, 0),
        products_per_customer=rate(totals.get(PRODUCTS_HELD, 0), totals.get(CUSTOMERS_KNOWN, 0)),
        multi_product_customers=totals.get(MULTI_PRODUCT, 0),
        advisor_tasks=totals.get(ADVISOR_TASKS, 0),
        advisor_adherence=rate(totals.get(ADVISOR_ACTED, 0), totals.get(ADVISOR_TASKS, 0)),
        by_product=dimension("product"),
        by_channel=dimension("channel"),
        by_segment=dimension("segment"),
        by_campaign=dimension("campaign"),
        by_advisor={k: _advisor(v) for k, v in sorted(split_segments(by.get("advisor", {})).items())},
        by_trigger=dimension("trigger"),
    )


# -- KPIs over time --------------------------------------------------------------------------------
# Per business day (the bank's own calendar day, America/Sao_Paulo): offers, actions and contacts on the day
# the offer was decided, outcomes and revenue on the day the outcome occurred. Same counter names as above.
BUSINESS_TIMEZONE = ZoneInfo("America/Sao_Paulo")
DAILY_COUNTERS = frozenset({OFFERS, ACTIONS, CONTACTS, REVENUE_CENTS, *(f"outcome.{k.value}" for k in OutcomeKind)})
SERIES_DAYS = (7, 30, 90)  # the dashboard's periods
SERIES_MAX_DAYS = 366


def business_day(at: datetime) -> date:
    """The business day an instant falls on (naive instants are UTC, as the event contracts are)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(BUSINESS_TIMEZONE).date()


def series_days(today: date, days: int) -> list[date]:
    """The `days` business days ending today, oldest first."""
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


class SeriesPoint(BaseModel):
    day: date
    offers: int
    contacts: int
    accepted: int
    declined: int
    contact_rate: float  # contacts / (offers + actions) decided that day
    conversion_rate: float  # accepted that day / offers decided that day
    acceptance_rate: float  # accepted / (accepted + declined): of the answers given that day
    revenue_brl: Decimal


class KpiSeries(BaseModel):
    days: int
    timezone: str
    points: list[SeriesPoint]


def series(today: date, days: int, daily: dict[date, dict[str, int]]) -> KpiSeries:
    """One point per business day, zeros where nothing happened."""
    points = []
    for day in series_days(today, days):
        c = daily.get(day, {})
        accepted, declined = (
            c.get(outcome_counter(OutcomeKind.ACCEPTED), 0),
            c.get(outcome_counter(OutcomeKind.DECLINED), 0),
        )
        offers, contacts = c.get(OFFERS, 0), c.get(CONTACTS, 0)
        points.append(
            SeriesPoint(
                day=day,
                offers=offers,
                contacts=contacts,
                accepted=accepted,
                declined=declined,
                contact_rate=rate(contacts, offers + c.get(ACTIONS, 0)),
                conversion_rate=rate(accepted, offers),
                acceptance_rate=rate(accepted, accepted + declined),
                revenue_brl=Decimal(c.get(REVENUE_CENTS, 0)) / 100,
            )
        )
    return KpiSeries(days=days, timezone=str(BUSINESS_TIMEZONE), points=points)
