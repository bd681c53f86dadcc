"""Feature definitions as code: one registry, used for online serving and training snapshots alike.

Each definition carries how it is computed from the customer's `FeatureInputs`, so adding a feature
is one entry here (plus the version bump below); `compute_features` returns them in this order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal

from feature_store.domain.inputs import FeatureInputs
from feature_store.domain.mcc import CATEGORIES
from prometeo.contracts import RETAIL_PRODUCTS

# Bump on any change to names or meaning: training frames and served vectors must carry the same version.
FEATURE_SET_VERSION: Final = "customer-features.v3"

Aggregation = Literal["sum", "count", "last", "min", "max", "mean", "ratio", "flag", "days_since", "distinct"]
Compute = Callable[[FeatureInputs], float]


@dataclass(frozen=True)
class FeatureDefinition:
    name: str
    description: str
    aggregation: Aggregation
    window_days: int | None
    sources: tuple[str, ...]
    dtype: Literal["float", "int", "bool"] = "float"
    compute: Compute = field(kw_only=True, compare=False)


AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
ARCHETYPES = ("nascent", "experimenting", "emerging", "activated")
# Gaps are counted over what a retail customer could be offered; business credit held is no gap.
_PRODUCTS = frozenset(p.value for p in RETAIL_PRODUCTS)


def _flag(condition: bool) -> float:
    return 1.0 if condition else 0.0


def _tenure_days(x: FeatureInputs) -> float:
    since = x.profile.get("customer_since")
    return float(max(0, (x.today - date.fromisoformat(since)).days)) if since else 0.0


def _age_band_index(x: FeatureInputs) -> float:
    band = x.profile.get("age_band")
    return float(AGE_BANDS.index(band)) if band in AGE_BANDS else 2.0


def _digital_archetype_index(x: FeatureInputs) -> float:
    archetype = x.profile.get("digital_archetype")
    return float(ARCHETYPES.index(archetype)) if archetype in ARCHETYPES else 1.0


def _spend(category: str, window_days: int) -> Compute:
    return lambda x: x.sums(window_days).get(f"spend_{category}", 0.0) / 100


_TXN = ("transaction.booked", "transaction.updated", "transaction.deleted")

_BASE: tuple[FeatureDefinition, ...] = (
    FeatureDefinition(
        "balance_current",
        "Sum of latest available balances",
        "last",
        None,
        ("balance.snapshot",),
        compute=lambda x: x.bal.current,
    ),
    FeatureDefinition(
        "balance_avg_30d",
        "Mean end-of-day balance, 30 days",
        "mean",
        30,
        ("balance.snapshot",),
        compute=lambda x: x.bal.avg_30d,
    ),
    FeatureDefinition(
        "balance_min_30d",
        "Lowest end-of-day balance, 30 days",
        "min",
        30,
        ("balance.snapshot",),
        compute=lambda x: x.bal.min_30d,
    ),
    FeatureDefinition(
        "inflow_30d", "Credits, 30 days", "sum", 30, _TXN, compute=lambda x: x.sums30.get("inflow", 0.0) / 100
    ),
    FeatureDefinition(
        "outflow_30d", "Debits, 30 days", "sum", 30, _TXN, compute=lambda x: x.sums30.get("outflow", 0.0) / 100
    ),
    FeatureDefinition(
        "inflow_90d", "Credits, 90 days", "sum", 90, _TXN, compute=lambda x: x.sums90.get("inflow", 0.0) / 100
    ),
    FeatureDefinition(
        "outflow_90d", "Debits, 90 days", "sum", 90, _TXN, compute=lambda x: x.sums90.get("outflow", 0.0) / 100
    ),
    FeatureDefinition(
        "txn_count_30d", "Transactions, 30 days", "count", 30, _TXN, "int", compute=lambda x: x.sums30.get("count", 0.0)
    ),
    FeatureDefinition(
        "salary_30d", "Payroll credits, 30 days", "sum", 30, _TXN, compute=lambda x: x.sums30.get("salary", 0.0) / 100
    ),
    FeatureDefinition(
        "salary_months_90d",
        "Months with a payroll credit, 90 days",
        "distinct",
        90,
        _TXN,
        "int",
        compute=lambda x: float(len(x.salary_months)),
    ),
    FeatureDefinition(
        "days_since_last_txn",
        "Days since the latest transaction",
        "days_since",
        None,
        _TXN,
        "int",
        compute=lambda x: float((x.today - x.last_txn_day).days) if x.last_txn_day else 999.0,
    ),
    FeatureDefinition(
        "products_here",
        "Products held at this bank",
        "count",
        None,
        ("product.held",),
        "int",
        compute=lambda x: float(len(x.here)),
    ),
    FeatureDefinition(
        "products_elsewhere",
        "Products held at other institutions",
        "count",
        None,
        ("product.held",),
        "int",
        compute=lambda x: float(len(x.elsewhere)),
    ),
    FeatureDefinition(
        "tenure_days",
        "Days since the customer joined",
        "days_since",
        None,
        ("customer.profiled",),
        "int",
        compute=_tenure_days,
    ),
    FeatureDefinition(
        "age_band_index",
        "Age band, 0 = 18-24 … 5 = 65+",
        "last",
        None,
        ("customer.profiled",),
        "int",
        compute=_age_band_index,
    ),
)
_SPEND = tuple(
    FeatureDefinition(
        f"spend_{cat}_{days}d",
        f"Card and account spend on {cat}, {days} days",
        "sum",
        days,
        _TXN,
        compute=_spend(cat, days),
    )
    for days in (30, 90)
    for cat in CATEGORIES
)
_BAL = ("balance.snapshot", "account.opened")
_HELD = ("product.held",)
_DEEPER: tuple[FeatureDefinition, ...] = (
    # Detected salary
    FeatureDefinition(
        "salary_monthly_avg_90d",
        "Payroll credits per month, 90 days",
        "mean",
        90,
        _TXN,
        compute=lambda x: x.sums90.get("salary", 0.0) / 3 / 100,
    ),
    FeatureDefinition(
        "salary_raise_pct",
        "Latest detected salary credit vs the mean of the earlier ones in 90 days, %",
        "ratio",
        90,
        _TXN,
        compute=lambda x: x.salary_raise,
    ),
    FeatureDefinition(
        "salary_detected",
        "Payroll-flagged credits, or one regular largest credit a month, 90 days",
        "flag",
        90,
        _TXN,
        "bool",
        compute=lambda x: _flag(bool(x.salary_days)),
    ),
    # Credit card and overdraft (balance snapshots that carry a credit limit)
    FeatureDefinition(
        "card_utilisation_current",
        "Used share of credit-card limits, latest",
        "last",
        None,
        _BAL,
        compute=lambda x: x.bal.card_utilisation_current,
    ),
    FeatureDefinition(
        "card_utilisation_avg_30d",
        "Mean end-of-day credit-card utilisation, 30 days",
        "mean",
        30,
        _BAL,
        compute=lambda x: x.bal.card_utilisation_avg_30d,
    ),
    FeatureDefinition(
        "card_months_near_limit_90d",
        "30-day periods with a day at ≥ 90 % card utilisation, 90 days",
        "count",
        90,
        _BAL,
        "int",
        compute=lambda x: float(x.bal.card_periods_near_limit),
    ),
    FeatureDefinition(
        "overdraft_days_30d",
        "Days ending with a negative deposit balance, 30 days",
        "count",
        30,
        _BAL,
        "int",
        compute=lambda x: float(x.bal.overdraft_days_30d),
    ),
    FeatureDefinition(
        "overdraft_max_30d",
        "Deepest end-of-day overdraft (positive amount), 30 days",
        "max",
        30,
        _BAL,
        compute=lambda x: x.bal.overdraft_max_30d,
    ),
    # Products
    FeatureDefinition(
        "product_gaps_elsewhere",
        "Products held elsewhere but not here",
        "count",
        None,
        _HELD,
        "int",
        compute=lambda x: float(len(set(x.elsewhere) - set(x.here))),
    ),
    FeatureDefinition(
        "product_gaps_total",
        "Catalogue products not held here",
        "count",
        None,
        _HELD,
        "int",
        compute=lambda x: float(len(_PRODUCTS) - len(set(x.here) & _PRODUCTS)),
    ),
    FeatureDefinition(
        "accounts_open",
        "Accounts open here",
        "count",
        None,
        ("account.opened", "account.closed"),
        "int",
        compute=lambda x: float(x.bal.accounts_open),
    ),
    # Recency, frequency, engagement
    FeatureDefinition(
        "txn_count_90d", "Transactions, 90 days", "count", 90, _TXN, "int", compute=lambda x: x.sums90.get("count", 0.0)
    ),
    FeatureDefinition(
        "active_days_30d",
        "Days with at least one transaction, 30 days",
        "count",
        30,
        _TXN,
        "int",
        compute=lambda x: float(x.active_days_30),
    ),
    FeatureDefinition(
        "days_since_last_credit",
        "Days since the latest credit",
        "days_since",
        None,
        _TXN,
        "int",
        compute=lambda x: float((x.today - x.last_credit_day).days) if x.last_credit_day else 999.0,
    ),
    FeatureDefinition(
        "digital_archetype_index",
        "Digital engagement, 0 = nascent … 3 = activated (1 if unknown)",
        "last",
        None,
        ("customer.profiled",),
        "int",
        compute=_digital_archetype_index,
    ),
    # Life-event signals (0/1) and what they are read from
    FeatureDefinition(
        "balance_growth_pct_90d",
        "Mean balance of the last 30 days vs days 60-89, %",
        "ratio",
        90,
        ("balance.snapshot",),
        compute=lambda x: x.bal.growth_pct_90d,
    ),
    FeatureDefinition(
        "housing_payments_30d",
        "Rent and mortgage-like payments, 30 days",
        "sum",
        30,
        _TXN,
        compute=lambda x: x.sums30.get("housing", 0.0) / 100,
    ),
    FeatureDefinition(
        "life_salary_raise",
        "Payroll rose ≥ 10 % over a regular salary",
        "flag",
        90,
        _TXN,
        "bool",
        compute=lambda x: _flag(x.salary_raise >= 10 and len(x.salary_days) >= 2),
    ),
    FeatureDefinition(
        "life_new_housing_payment",
        "Housing payments began in the last 30 days",
        "flag",
        90,
        _TXN,
        "bool",
        compute=lambda x: _flag(x.sums30.get("housing", 0.0) > 0 and x.before30("housing") == 0),
    ),
    FeatureDefinition(
        "life_travel_spike",
        "Travel spend of 30 days ≥ 2× its monthly mean of days 30-89 and ≥ 30 % of monthly inflow",
        "flag",
        90,
        _TXN,
        "bool",
        compute=lambda x: _flag(x.travel30 >= max(100.0, 0.3 * x.monthly_inflow, 2 * x.before30("spend_travel"))),
    ),
    FeatureDefinition(
        "life_child_spend",
        "Monthly child-related spend of the last 60 days ≥ 2× days 60-89",
        "flag",
        90,
        _TXN,
        "bool",
        compute=lambda x: _flag(x.child60 >= 50 and x.child60 >= 2 * x.child_before),
    ),
    FeatureDefinition(
        "life_idle_balance_growth",
        "Balances grew ≥ 15 % and were never overdrawn, 90 days",
        "flag",
        90,
        ("balance.snapshot", *_TXN),
        "bool",
        compute=lambda x: _flag(x.bal.growth_pct_90d >= 15 and x.bal.min_90d > 0),
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
