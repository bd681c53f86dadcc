"""Feature definitions as code: one registry, used for online serving and training snapshots alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from feature_store.domain.mcc import CATEGORIES

FEATURE_SET_VERSION: Final = "customer-features.v1"

Aggregation = Literal["sum", "count", "last", "min", "mean", "flag", "days_since", "distinct"]


@dataclass(frozen=True)
class FeatureDefinition:
    name: str
    description: str
    aggregation: Aggregation
    window_days: int | None
    sources: tuple[str, ...]
    dtype: Literal["float", "int", "bool"] = "float"


_TXN = ("transaction.booked", "transaction.updated", "transaction.deleted")

_BASE: tuple[FeatureDefinition, ...] = (
    FeatureDefinition("balance_current", "Sum of latest available balances", "last", None, ("balance.snapshot",)),
    FeatureDefinition("balance_avg_30d", "Mean end-of-day balance, 30 days", "mean", 30, ("balance.snapshot",)),
    FeatureDefinition("balance_min_30d", "Lowest end-of-day balance, 30 days", "min", 30, ("balance.snapshot",)),
    FeatureDefinition("inflow_30d", "Credits, 30 days", "sum", 30, _TXN),
    FeatureDefinition("outflow_30d", "Debits, 30 days", "sum", 30, _TXN),
    FeatureDefinition("inflow_90d", "Credits, 90 days", "sum", 90, _TXN),
    FeatureDefinition("outflow_90d", "Debits, 90 days", "sum", 90, _TXN),
    FeatureDefinition("txn_count_30d", "Transactions, 30 days", "count", 30, _TXN, "int"),
    FeatureDefinition("salary_30d", "Payroll credits, 30 days", "sum", 30, _TXN),
    FeatureDefinition("salary_months_90d", "Months with a payroll credit, 90 days", "distinct", 90, _TXN, "int"),
    FeatureDefinition("days_since_last_txn", "Days since the latest transaction", "days_since", None, _TXN, "int"),
    FeatureDefinition("products_here", "Products held at this bank", "count", None, ("product.held",), "int"),
    FeatureDefinition("products_elsewhere", "Products held at other institutions", "count", None, ("product.held",), "int"),
    FeatureDefinition("tenure_days", "Days since the customer joined", "days_since", None, ("customer.profiled",), "int"),
    FeatureDefinition("age_band_index", "Age band, 0 = 18-24 … 5 = 65+", "last", None, ("customer.profiled",), "int"),
)
_SPEND = tuple(
    FeatureDefinition(f"spend_{cat}_30d", f"Card and account spend on {cat}, 30 days", "sum", 30, _TXN)
    for cat in CATEGORIES
)

FEATURES: Final[tuple[FeatureDefinition, ...]] = _BASE + _SPEND
FEATURE_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in FEATURES)
MAX_WINDOW_DAYS: Final = max(f.window_days or 0 for f in FEATURES)
