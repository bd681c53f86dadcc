"""Pure feature arithmetic: events → mutations on day buckets, day buckets → feature values.

Money is kept in integer cents so that reversing a corrected or deleted transaction is exact.
Day buckets live in one hash per month (`…:days:YYYYMM`, field `DD|metric`), which bounds memory
with a TTL per month instead of a sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from prometeo.contracts import EventPayload
from prometeo.contracts.events import (
    BalanceSnapshotV1,
    CustomerProfiledV1,
    Direction,
    ProductHeldV1,
    TransactionBookedV1,
    TransactionDeletedV1,
    TransactionUpdatedV1,
)

from feature_store.domain.definitions import FEATURE_NAMES, MAX_WINDOW_DAYS
from feature_store.domain.mcc import CATEGORIES, category_for

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")

# (month "YYYYMM", field "DD|metric", integer delta)
Increment = tuple[str, str, int]


@dataclass(frozen=True)
class Mutation:
    """What one event does to a customer's aggregates. Transactions carry reversible increments."""

    transaction_id: str | None = None
    delete_transaction: bool = False
    increments: list[Increment] = field(default_factory=list)
    # (month, field, epoch seconds, value): keep the value with the newest timestamp (late events lose)
    newest: list[tuple[str, str, float, str]] = field(default_factory=list)
    profile: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.transaction_id or self.increments or self.newest or self.profile)


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _bucket(ts: datetime) -> tuple[str, str]:
    ts = ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)
    return ts.strftime("%Y%m"), ts.strftime("%d")


def mutation_for(payload: EventPayload) -> Mutation:
    match payload:
        case TransactionBookedV1() | TransactionUpdatedV1():
            month, day = _bucket(payload.booked_at)
            amount = cents(payload.amount)
            incs: list[Increment] = [(month, f"{day}|count", 1)]
            if payload.direction is Direction.CREDIT:
                incs.append((month, f"{day}|inflow", amount))
                if payload.is_payroll:
                    incs.append((month, f"{day}|salary", amount))
            else:
                incs.append((month, f"{day}|outflow", amount))
                if category := category_for(payload.mcc):
                    incs.append((month, f"{day}|spend_{category}", amount))
            return Mutation(transaction_id=payload.transaction_id, increments=incs)
        case TransactionDeletedV1():
            return Mutation(transaction_id=payload.transaction_id, delete_transaction=True)
        case BalanceSnapshotV1():
            month, day = _bucket(payload.as_of)
            ts = payload.as_of.timestamp()
            return Mutation(
                newest=[(month, f"{day}|bal|{payload.account_id}", ts, str(cents(payload.available)))],
            )
        case ProductHeldV1():
            where = "held_elsewhere" if payload.at_other_institution else "held_here"
            return Mutation(profile={f"{where}|{payload.product.value}": "1"})
        case CustomerProfiledV1():
            profile = {"age_band": payload.age_band, "timezone": payload.timezone}
            if payload.customer_since:
                profile["customer_since"] = payload.customer_since.isoformat()
            if payload.digital_archetype:
                profile["digital_archetype"] = payload.digital_archetype
            return Mutation(profile=profile)
        case _:
            return Mutation()


def months_covering(as_of: datetime, days: int = MAX_WINDOW_DAYS) -> list[str]:
    """Month keys a window of `days` ending at `as_of` touches, newest first."""
    months: list[str] = []
    cursor = as_of.date()
    first = cursor - timedelta(days=days)
    while True:
        key = cursor.strftime("%Y%m")
        if key not in months:
            months.append(key)
        if cursor.replace(day=1) <= first:
            break
        cursor = cursor.replace(day=1) - timedelta(days=1)
    return months


@dataclass(frozen=True)
class CustomerState:
    """Raw Redis contents for one customer, decoded to str."""

    months: dict[str, dict[str, str]]  # "YYYYMM" -> {"DD|metric": value}
    profile: dict[str, str]

    @property
    def is_empty(self) -> bool:
        return not self.profile and not any(self.months.values())


def _daily(state: CustomerState) -> dict[date, dict[str, str]]:
    days: dict[date, dict[str, str]] = {}
    for month, fields in state.months.items():
        year, mon = int(month[:4]), int(month[4:])
        for key, value in fields.items():
            day_s, metric = key.split("|", 1)
            days.setdefault(date(year, mon, int(day_s)), {})[metric] = value
    return days


def held_products(profile: dict[str, str]) -> tuple[list[str], list[str]]:
    here = sorted(k.split("|", 1)[1] for k in profile if k.startswith("held_here|"))
    elsewhere = sorted(k.split("|", 1)[1] for k in profile if k.startswith("held_elsewhere|"))
    return here, elsewhere


SEGMENT_FIELDS = ("digital_archetype", "age_band", "timezone")


def segments(profile: dict[str, str]) -> dict[str, str]:
    """The coarse, non-identifying attributes passed downstream for eligibility and channel choice."""
    return {k: profile[k] for k in SEGMENT_FIELDS if k in profile}


def compute_features(state: CustomerState, as_of: datetime) -> dict[str, float]:
    """The feature vector as of `as_of`: nothing dated after it counts (point-in-time safe)."""
    today = as_of.astimezone(UTC).date() if as_of.tzinfo else as_of.date()
    days = _daily(state)
    sums30: dict[str, float] = {}
    sums90: dict[str, float] = {}
    salary_months: set[tuple[int, int]] = set()
    last_txn_day: date | None = None
    balances_by_day: dict[date, dict[str, float]] = {}

    for day, metrics in days.items():
        if day > today:
            continue
        age = (today - day).days
        for metric, raw in metrics.items():
            if metric.startswith("bal|"):
                if age <= MAX_WINDOW_DAYS:
                    balances_by_day.setdefault(day, {})[metric[4:]] = int(raw.split("|", 1)[1]) / 100
                continue
            value = float(raw)
            if age < 90:
                sums90[metric] = sums90.get(metric, 0.0) + value
                if age < 30:
                    sums30[metric] = sums30.get(metric, 0.0) + value
                if metric == "salary" and value > 0:
                    salary_months.add((day.year, day.month))
            if metric == "count" and value > 0 and (last_txn_day is None or day > last_txn_day):
                last_txn_day = day

    # End-of-day total balance, carrying each account's last known balance forward.
    last_per_account: dict[str, float] = {}
    window_totals: list[float] = []
    for offset in range(MAX_WINDOW_DAYS, -1, -1):
        day = today - timedelta(days=offset)
        last_per_account.update(balances_by_day.get(day, {}))
        if offset < 30 and last_per_account:
            window_totals.append(sum(last_per_account.values()))

    here, elsewhere = held_products(state.profile)
    since = state.profile.get("customer_since")
    band = state.profile.get("age_band")

    features = {
        "balance_current": sum(last_per_account.values()),
        "balance_avg_30d": sum(window_totals) / len(window_totals) if window_totals else 0.0,
        "balance_min_30d": min(window_totals) if window_totals else 0.0,
        "inflow_30d": sums30.get("inflow", 0.0) / 100,
        "outflow_30d": sums30.get("outflow", 0.0) / 100,
        "inflow_90d": sums90.get("inflow", 0.0) / 100,
        "outflow_90d": sums90.get("outflow", 0.0) / 100,
        "txn_count_30d": sums30.get("count", 0.0),
        "salary_30d": sums30.get("salary", 0.0) / 100,
        "salary_months_90d": float(len(salary_months)),
        "days_since_last_txn": float((today - last_txn_day).days) if last_txn_day else 999.0,
        "products_here": float(len(here)),
        "products_elsewhere": float(len(elsewhere)),
        "tenure_days": float(max(0, (today - date.fromisoformat(since)).days)) if since else 0.0,
        "age_band_index": float(AGE_BANDS.index(band)) if band in AGE_BANDS else 2.0,
    }
    for category in CATEGORIES:
        features[f"spend_{category}_30d"] = sums30.get(f"spend_{category}", 0.0) / 100
    assert tuple(features) == FEATURE_NAMES, "feature registry and computation disagree"
    return features
