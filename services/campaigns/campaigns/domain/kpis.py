"""KPIs from raw counters: rates and revenue are derived here, never stored (counters stay additive)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from prometeo.contracts.events import OutcomeKind

# Counter names shared by the store (which increments them) and this module (which reads them).
DECISIONS, NO_ACTION, OFFERS, CONTACTS, FAILED, HOLDOUT = (
    "decisions", "no_action", "offers", "contacts", "delivery_failed", "holdout",
)
REVENUE_CENTS = "revenue_cents"


def outcome_counter(kind: OutcomeKind | str) -> str:
    return f"outcome.{OutcomeKind(kind).value}"


class SegmentKpis(BaseModel):
    offers: int
    contacts: int
    outcomes: dict[str, int]
    conversion_rate: float
    revenue_brl: Decimal


class KpiSummary(BaseModel):
    decisions: int
    no_action: int
    offers_made: int
    contacts: int
    delivery_failures: int
    holdout: int
    outcomes: dict[str, int]
    acceptance_rate: float
    revenue_accepted_brl: Decimal
    by_product: dict[str, SegmentKpis]
    by_channel: dict[str, SegmentKpis]


def rate(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 6) if denominator else 0.0


def _outcomes(counters: dict[str, int]) -> dict[str, int]:
    return {kind.value: counters.get(outcome_counter(kind), 0) for kind in OutcomeKind}


def _segment(counters: dict[str, int]) -> SegmentKpis:
    outcomes = _outcomes(counters)
    return SegmentKpis(
        offers=counters.get(OFFERS, 0),
        contacts=counters.get(CONTACTS, 0),
        outcomes=outcomes,
        conversion_rate=rate(outcomes[OutcomeKind.ACCEPTED.value], counters.get(OFFERS, 0)),
        revenue_brl=Decimal(counters.get(REVENUE_CENTS, 0)) / 100,
    )


def split_segments(flat: dict[str, int]) -> dict[str, dict[str, int]]:
    """{"credit_card|offers": 3} → {"credit_card": {"offers": 3}}."""
    out: dict[str, dict[str, int]] = {}
    for field, value in flat.items():
        segment, _, counter = field.partition("|")
        out.setdefault(segment, {})[counter] = value
    return out


def summarise(totals: dict[str, int], by_product: dict[str, int], by_channel: dict[str, int]) -> KpiSummary:
    outcomes = _outcomes(totals)
    return KpiSummary(
        decisions=totals.get(DECISIONS, 0),
        no_action=totals.get(NO_ACTION, 0),
        offers_made=totals.get(OFFERS, 0),
        contacts=totals.get(CONTACTS, 0),
        delivery_failures=totals.get(FAILED, 0),
        holdout=totals.get(HOLDOUT, 0),
        outcomes=outcomes,
        acceptance_rate=rate(outcomes[OutcomeKind.ACCEPTED.value], totals.get(OFFERS, 0)),
        revenue_accepted_brl=Decimal(totals.get(REVENUE_CENTS, 0)) / 100,
        by_product={k: _segment(v) for k, v in sorted(split_segments(by_product).items())},
        by_channel={k: _segment(v) for k, v in sorted(split_segments(by_channel).items())},
    )
