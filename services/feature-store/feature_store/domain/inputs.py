"""What one customer's day buckets add up to as of a day: the inputs every feature is computed from.

`aggregation.feature_inputs` builds it in one pass over the buckets; each `FeatureDefinition` then
reads the value it needs (`definitions.py`), so a new feature is one definition, not a second list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from feature_store.domain.balances import BalanceSeries


@dataclass(frozen=True)
class FeatureInputs:
    today: date
    # Sums per 30-day period: 0 = the last 30 days, 1 = days 30-59, 2 = days 60-89.
    periods: list[dict[str, float]]
    sums30: dict[str, float]
    sums90: dict[str, float]
    bal: BalanceSeries
    here: list[str]
    elsewhere: list[str]
    profile: dict[str, str]
    salary_months: set[tuple[int, int]]
    salary_days: dict[date, float]
    salary_raise: float
    active_days_30: int
    last_txn_day: date | None
    last_credit_day: date | None

    def sums(self, window_days: int) -> dict[str, float]:
        return self.sums30 if window_days == 30 else self.sums90

    def before30(self, metric: str) -> float:
        """Monthly mean of `metric` over days 30-89 (in currency units for money metrics)."""
        return (self.sums90.get(metric, 0.0) - self.sums30.get(metric, 0.0)) / 2 / 100

    @property
    def travel30(self) -> float:
        return self.sums30.get("spend_travel", 0.0) / 100

    @property
    def monthly_inflow(self) -> float:
        return self.sums90.get("inflow", 0.0) / 3 / 100

    @property
    def child60(self) -> float:
        return (self.periods[0].get("spend_children", 0.0) + self.periods[1].get("spend_children", 0.0)) / 2 / 100

    @property
    def child_before(self) -> float:
        return self.periods[2].get("spend_children", 0.0) / 100
