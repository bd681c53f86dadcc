"""Feature definitions as code: one registry, used for online serving and training snapshots alike."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final, Literal

from feature_store.domain.mcc import CATEGORIES

# Bump on any change to names or meaning: training frames and served vectors must carry the same version.
FEATURE_SET_VERSION: Final = "customer-features.v2"

Aggregation = Literal["sum", "count", "last", "min", "max", "mean", "ratio", "flag", "days_since", "distinct"]


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
    FeatureDefinition(
        "products_elsewhere", "Products held at other institutions", "count", None, ("product.held",), "int"
    ),
    FeatureDefinition(
        "tenure_days", "Days since the customer joined", "days_since", None, ("customer.profiled",), "int"
    ),
    FeatureDefinition("age_band_index", "Age band, 0 = 18-24 … 5 = 65+", "last", None, ("customer.profiled",), "int"),
)
_SPEND = tuple(
    FeatureDefinition(f"spend_{cat}_{days}d", f"Card and account spend on {cat}, {days} days", "sum", days, _TXN)
    for days in (30, 90)
    for cat in CATEGORIES
)
_BAL = ("balance.snapshot", "account.opened")
_HELD = ("product.held",)
_DEEPER: tuple[FeatureDefinition, ...] = (
    # Detected salary
    FeatureDefinition("salary_monthly_avg_90d", "Payroll credits per month, 90 days", "mean", 90, _TXN),
    FeatureDefinition(
        "salary_raise_pct",
        "Latest detected salary credit vs the mean of the earlier ones in 90 days, %",
        "ratio",
        90,
        _TXN,
    ),
    FeatureDefinition(
        "salary_detected",
        "Payroll-flagged credits, or one regular largest credit a month, 90 days",
        "flag",
        90,
        _TXN,
        "bool",
    ),
    # Credit card and overdraft (balance snapshots that carry a credit limit)
    FeatureDefinition("card_utilisation_current", "Used share of credit-card limits, latest", "last", None, _BAL),
    FeatureDefinition("card_utilisation_avg_30d", "Mean end-of-day credit-card utilisation, 30 days", "mean", 30, _BAL),
    FeatureDefinition(
        "card_months_near_limit_90d",
        "30-day periods with a day at ≥ 90 % card utilisation, 90 days",
        "count",
        90,
        _BAL,
        "int",
    ),
    FeatureDefinition(
        "overdraft_days_30d", "Days ending with a negative deposit balance, 30 days", "count", 30, _BAL, "int"
    ),
    FeatureDefinition("overdraft_max_30d", "Deepest end-of-day overdraft (positive amount), 30 days", "max", 30, _BAL),
    # Products
    FeatureDefinition("product_gaps_elsewhere", "Products held elsewhere but not here", "count", None, _HELD, "int"),
    FeatureDefinition("product_gaps_total", "Catalogue products not held here", "count", None, _HELD, "int"),
    FeatureDefinition(
        "accounts_open", "Accounts open here", "count", None, ("account.opened", "account.closed"), "int"
    ),
    # Recency, frequency, engagement
    FeatureDefinition("txn_count_90d", "Transactions, 90 days", "count", 90, _TXN, "int"),
    FeatureDefinition("active_days_30d", "Days with at least one transaction, 30 days", "count", 30, _TXN, "int"),
    FeatureDefinition("days_since_last_credit", "Days since the latest credit", "days_since", None, _TXN, "int"),
    FeatureDefinition(
        "digital_archetype_index",
        "Digital engagement, 0 = nascent … 3 = activated (1 if unknown)",
        "last",
        None,
        ("customer.profiled",),
        "int",
    ),
    # Life-event signals (0/1) and what they are read from
    FeatureDefinition(
        "balance_growth_pct_90d",
        "Mean balance of the last 30 days vs days 60-89, %",
        "ratio",
        90,
        ("balance.snapshot",),
    ),
    FeatureDefinition("housing_payments_30d", "Rent and mortgage-like payments, 30 days", "sum", 30, _TXN),
    FeatureDefinition("life_salary_raise", "Payroll rose ≥ 10 % over a regular salary", "flag", 90, _TXN, "bool"),
    FeatureDefinition(
        "life_new_housing_payment", "Housing payments began in the last 30 days", "flag", 90, _TXN, "bool"
    ),
    FeatureDefinition(
        "life_travel_spike",
        "Travel spend of 30 days ≥ 2× its monthly mean of days 30-89 and ≥ 30 % of monthly inflow",
        "flag",
        90,
        _TXN,
        "bool",
    ),
    FeatureDefinition(
        "life_child_spend", "Monthly child-related spend of the last 60 days ≥ 2× days 60-89", "flag", 90, _TXN, "bool"
    ),
    FeatureDefinition(
        "life_idle_balance_growth",
        "Balances grew ≥ 15 % and were never overdrawn, 90 days",
        "flag",
        90,
        ("balance.snapshot", *_TXN),
        "bool",
    ),
)

FEATURES: Final[tuple[FeatureDefinition, ...]] = _BASE + _SPEND + _DEEPER
FEATURE_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in FEATURES)
MAX_WINDOW_DAYS: Final = max(f.window_days or 0 for f in FEATURES)


def fingerprint() -> str:
    """A digest of names, windows and aggregations. A unit test pins it to FEATURE_SET_VERSION, so the
    set cannot change without a version bump that training frames and served vectors both carry."""
    text = ";".join(f"{f.name}:{f.aggregation}:{f.window_days}" for f in FEATURES)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
