"""Pure feature arithmetic: events → mutations on day buckets, day buckets → feature values.

Money is kept in integer cents so that reversing a corrected or deleted transaction is exact.
Day buckets live in one hash per month (`…:days:YYYYMM`, field `DD|metric`), which bounds memory
with a TTL per month instead of a sweep.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from feature_store.domain.balances import ACCOUNT, CLOSED, WINDOW_DAYS, Snapshots, balance_series, snapshot_entry
from feature_store.domain.definitions import FEATURES, MAX_WINDOW_DAYS
from feature_store.domain.inputs import FeatureInputs
from feature_store.domain.mcc import transaction_metrics
from prometeo.contracts import EventPayload, InvalidEvent
from prometeo.contracts.events import (
    AccountClosedV1,
    AccountOpenedV1,
    BalanceSnapshotV1,
    CustomerProfiledV1,
    CustomerRectifiedV1,
    Direction,
    ProductHeldV1,
    TransactionBookedV1,
    TransactionDeletedV1,
    TransactionKind,
    TransactionUpdatedV1,
)

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
    # When the event happened (epoch s): the freshness the read API reports; the newest one wins.
    occurred_at: float | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.transaction_id or self.increments or self.newest or self.profile)


# Lua numbers are doubles: integers stay exact up to 2**53. No retail amount comes near it; one that
# does is a data error, and it must be dead-lettered rather than corrupt a sum.
MAX_CENTS = 2**53 // 1000


def cents(amount: Decimal) -> int:
    value = int((amount * 100).to_integral_value())
    if abs(value) > MAX_CENTS:
        raise InvalidEvent(f"amount {amount} is beyond what aggregates can hold exactly")
    return value


def _bucket(ts: datetime) -> tuple[str, str]:
    ts = ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)
    # strftime("%Y%m"), strftime("%d") at a third of the cost (it runs for every event).
    return f"{ts.year:04d}{ts.month:02d}", f"{ts.day:02d}"


# typed: a plain "credit" and Direction.CREDIT hash alike, but transaction_metrics tests identity.
@functools.lru_cache(maxsize=8192, typed=True)
def _metrics(
    direction: Direction, kind: TransactionKind | None, mcc: str | None, is_payroll: bool
) -> tuple[tuple[str, int], ...]:
    """`transaction_metrics`, once per distinct (direction, kind, MCC, payroll): a few hundred in practice."""
    return tuple(transaction_metrics(direction, kind, mcc, is_payroll))


def mutation_for(payload: EventPayload, occurred_at: datetime | None = None) -> Mutation:
    """What `payload` does to the aggregates; `occurred_at` (the envelope's) stamps their freshness."""
    at = None if occurred_at is None else occurred_at.timestamp()
    match payload:
        case TransactionBookedV1() | TransactionUpdatedV1():
            month, day = _bucket(payload.booked_at)
            amount = cents(payload.amount)
            incs: list[Increment] = [(month, f"{day}|count", 1)]
            metrics = _metrics(payload.direction, payload.kind, payload.mcc, payload.is_payroll)
            incs += [(month, f"{day}|{metric}", sign * amount) for metric, sign in metrics]
            return Mutation(transaction_id=payload.transaction_id, increments=incs, occurred_at=at)
        case TransactionDeletedV1():
            return Mutation(transaction_id=payload.transaction_id, delete_transaction=True, occurred_at=at)
        case BalanceSnapshotV1():
            month, day = _bucket(payload.as_of)
            ts = payload.as_of.timestamp()
            newest = [(month, f"{day}|bal|{payload.account_id}", ts, str(cents(payload.available)))]
            if payload.credit_limit is not None:
                newest.append((month, f"{day}|lim|{payload.account_id}", ts, str(cents(payload.credit_limit))))
            return Mutation(newest=newest, occurred_at=at)
        case AccountOpenedV1():
            return Mutation(profile={f"{ACCOUNT}{payload.account_id}": payload.account_type}, occurred_at=at)
        case AccountClosedV1():
            return Mutation(profile={f"{CLOSED}{payload.account_id}": "1"}, occurred_at=at)
        case ProductHeldV1():
            where = "held_elsewhere" if payload.at_other_institution else "held_here"
            return Mutation(profile={f"{where}|{payload.product.value}": "1"}, occurred_at=at)
        case CustomerProfiledV1():
            profile = {"age_band": payload.age_band, "timezone": payload.timezone}
            if payload.customer_since:
                profile["customer_since"] = payload.customer_since.isoformat()
            if payload.digital_archetype:
                profile["digital_archetype"] = payload.digital_archetype
            if payload.preferred_channel:
                profile["preferred_channel"] = payload.preferred_channel.value
            if payload.jurisdiction:
                profile["jurisdiction"] = payload.jurisdiction
            return Mutation(profile=profile, occurred_at=at)
        case CustomerRectifiedV1():
            # Rectification: only the corrected fields change. Branch and advisor are the gateway's.
            changes = payload.changes()
            changes.pop("branch_id", None)
            changes.pop("advisor_id", None)
            return Mutation(profile=changes, occurred_at=at)
        case _:
            return Mutation(occurred_at=at)


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


def held_products(profile: dict[str, str]) -> tuple[list[str], list[str]]:
    here = sorted(k.split("|", 1)[1] for k in profile if k.startswith("held_here|"))
    elsewhere = sorted(k.split("|", 1)[1] for k in profile if k.startswith("held_elsewhere|"))
    return here, elsewhere


SEGMENT_FIELDS = ("digital_archetype", "age_band", "timezone", "preferred_channel", "jurisdiction")
LAST_EVENT_AT = "last_event_at"


def last_event_at(profile: dict[str, str]) -> datetime | None:
    """When the newest event reflected in these aggregates happened (the freshness of the vector)."""
    raw = profile.get(LAST_EVENT_AT)
    return datetime.fromtimestamp(float(raw), UTC) if raw else None


def segments(profile: dict[str, str]) -> dict[str, str]:
    """The coarse, non-identifying attributes passed downstream for eligibility and channel choice."""
    return {k: profile[k] for k in SEGMENT_FIELDS if k in profile}


def compute_features(state: CustomerState, as_of: datetime) -> dict[str, float]:
    """The feature vector as of `as_of`, in FEATURES order: nothing dated after it counts (point-in-time safe)."""
    inputs = feature_inputs(state, as_of)
    return {definition.name: definition.compute(inputs) for definition in FEATURES}


def feature_inputs(state: CustomerState, as_of: datetime) -> FeatureInputs:
    """One pass over the customer's day buckets up to `as_of`: what the definitions compute from."""
    today = as_of.astimezone(UTC).date() if as_of.tzinfo else as_of.date()
    # Sums per 30-day period: 0 = the last 30 days, 1 = days 30-59, 2 = days 60-89.
    periods: list[dict[str, float]] = [{}, {}, {}]
    payroll_days: dict[date, float] = {}
    inflow_days: dict[date, float] = {}
    snapshots: Snapshots = {}
    active_days_30 = 0
    last_txn_day: date | None = None
    last_credit_day: date | None = None

    # One pass over the fields as Redis holds them (it runs for every published vector): each day's
    # date and age computed once. Bucket values are integer cents and counts, exact as floats, so the
    # order the sums are taken in does not change them.
    for month, fields in state.months.items():
        year, mon = int(month[:4]), int(month[4:])
        ages: dict[str, tuple[date, int]] = {}
        for key, raw in fields.items():
            day_s, metric = key.split("|", 1)
            dated = ages.get(day_s)
            if dated is None:
                day = date(year, mon, int(day_s))
                dated = ages[day_s] = (day, (today - day).days)
            day, age = dated
            if age < 0:  # dated after as_of
                continue
            if metric.startswith(("bal|", "lim|")):
                if age <= WINDOW_DAYS:
                    snapshots.setdefault(day, []).append(snapshot_entry(metric, raw))
                continue
            value = float(raw)
            if age < 90:
                bucket = periods[age // 30]
                bucket[metric] = bucket.get(metric, 0.0) + value
            if value <= 0:
                continue
            if metric == "count":
                if last_txn_day is None or day > last_txn_day:
                    last_txn_day = day
                active_days_30 += age < 30
            elif metric == "inflow":
                if last_credit_day is None or day > last_credit_day:
                    last_credit_day = day
                if age < 90:
                    inflow_days[day] = value
            elif metric == "salary" and age < 90:
                payroll_days[day] = value

    sums30 = periods[0]
    sums90: dict[str, float] = {}
    for bucket in periods:
        for metric, value in bucket.items():
            sums90[metric] = sums90.get(metric, 0.0) + value

    here, elsewhere = held_products(state.profile)
    salary_months = {(d.year, d.month) for d in payroll_days}
    salary_days = payroll_days or _regular_credits(inflow_days, today)
    return FeatureInputs(
        today=today,
        periods=periods,
        sums30=sums30,
        sums90=sums90,
        bal=balance_series(state.profile, snapshots, today),
        here=here,
        elsewhere=elsewhere,
        profile=state.profile,
        salary_months=salary_months,
        salary_days=salary_days,
        salary_raise=_raise_pct(salary_days),
        active_days_30=active_days_30,
        last_txn_day=last_txn_day,
        last_credit_day=last_credit_day,
    )


def _regular_credits(inflow_days: dict[date, float], today: date) -> dict[date, float]:
    """Salary detected without a payroll flag: the largest credit of each 30-day period, when all
    three periods have one and the two earlier ones agree within 10 % (a regular income)."""
    largest: dict[int, tuple[float, date]] = {}
    for day, value in inflow_days.items():
        period = (today - day).days // 30
        if value > largest.get(period, (0.0, day))[0]:
            largest[period] = (value, day)
    if len(largest) < 3:
        return {}
    (old, _), (mid, _) = largest[2], largest[1]
    if abs(old - mid) > 0.1 * max(old, mid):
        return {}
    return {day: value for value, day in largest.values()}


def _raise_pct(payroll_days: dict[date, float]) -> float:
    """The latest payroll credit against the mean of the earlier ones: robust to pay days drifting
    across 30-day window edges, which a window-vs-window comparison is not."""
    if len(payroll_days) < 2:
        return 0.0
    ordered = [payroll_days[d] for d in sorted(payroll_days)]
    earlier = sum(ordered[:-1]) / (len(ordered) - 1)
    return round((ordered[-1] / earlier - 1) * 100, 4) if earlier > 0 else 0.0
