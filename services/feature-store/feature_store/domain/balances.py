"""End-of-day balance series from balance snapshots: deposits (balances, overdraft, growth) and
credit cards (utilisation against the limit the snapshots carry).

Each account's latest snapshot is carried forward day by day, so weekly snapshots still give a
value for every day. An account's type comes from its `account.opened` event (profile field
`account|{id}`); an account never opened in the stream counts as a deposit account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

ACCOUNT = "account|"
CLOSED = "closed|"
NEAR_LIMIT = 0.9
# Not deposits: their `available` is unused credit, which must not inflate the customer's balance.
_CREDIT_TYPES = frozenset({"credit_card", "loan"})
WINDOW_DAYS = 90


@dataclass(frozen=True)
class BalanceSeries:
    current: float = 0.0
    avg_30d: float = 0.0
    min_30d: float = 0.0
    min_90d: float = 0.0
    growth_pct_90d: float = 0.0
    overdraft_days_30d: int = 0
    overdraft_max_30d: float = 0.0
    card_utilisation_current: float = 0.0
    card_utilisation_avg_30d: float = 0.0
    card_periods_near_limit: int = 0
    accounts_open: int = 0


def _value(raw: str) -> float:
    return int(raw.split("|", 1)[1]) / 100


# (kind "bal" | "lim", account id, value in currency units) per day: a day's balance snapshots.
Snapshots = dict[date, list[tuple[str, str, float]]]


def snapshot_entry(metric: str, raw: str) -> tuple[str, str, float]:
    """A day bucket's `bal|{account}` / `lim|{account}` field and its "ts|cents" value."""
    kind, account = metric.split("|", 1)
    return kind, account, _value(raw)


def daily_balances(profile: dict[str, str], days: dict[date, dict[str, str]], today: date) -> BalanceSeries:
    first = today - timedelta(days=WINDOW_DAYS)
    by_day: Snapshots = {}
    for day, metrics in days.items():
        if first <= day <= today:
            for metric, raw in metrics.items():
                if metric.startswith(("bal|", "lim|")):
                    by_day.setdefault(day, []).append(snapshot_entry(metric, raw))
    return balance_series(profile, by_day, today)


def balance_series(profile: dict[str, str], by_day: Snapshots, today: date) -> BalanceSeries:
    """The series from the snapshots of days `today - WINDOW_DAYS` … `today` (none outside them)."""
    types = {k.removeprefix(ACCOUNT): v for k, v in profile.items() if k.startswith(ACCOUNT)}
    closed = {k.removeprefix(CLOSED) for k in profile if k.startswith(CLOSED)}
    accounts_open = len(set(types) - closed)
    if not by_day:
        return BalanceSeries(accounts_open=accounts_open)
    balance: dict[str, float] = {}
    limit: dict[str, float] = {}
    deposits: list[float | None] = []  # per day, oldest first; None before any snapshot
    overdrawn: list[float] = []
    utilisation: list[float | None] = []
    day_total: float | None = None
    day_overdrawn, day_utilisation = 0.0, None
    for offset in range(WINDOW_DAYS, -1, -1):
        changes = by_day.get(today - timedelta(days=offset))
        if changes:  # otherwise yesterday's end-of-day values carry forward unchanged
            for kind, account, value in changes:
                (balance if kind == "bal" else limit)[account] = value
            deposit = [v for a, v in balance.items() if types.get(a) not in _CREDIT_TYPES]
            day_total = sum(deposit) if deposit else None
            day_overdrawn = -sum(v for v in deposit if v < 0)
            cards = [a for a in balance if types.get(a) == "credit_card" and limit.get(a, 0) > 0]
            total_limit = sum(limit[a] for a in cards)
            used = sum(max(0.0, limit[a] - balance[a]) for a in cards)
            day_utilisation = min(1.0, used / total_limit) if cards else None
        deposits.append(day_total)
        overdrawn.append(day_overdrawn)
        utilisation.append(day_utilisation)

    recent = [d for d in deposits[-30:] if d is not None]
    earlier = [d for d in deposits[1:31] if d is not None]  # days 89..60 before today
    known = [d for d in deposits if d is not None]
    util30 = [u for u in utilisation[-30:] if u is not None]
    near = {(WINDOW_DAYS - i) // 30 for i, u in enumerate(utilisation) if u is not None and u >= NEAR_LIMIT}
    growth = 0.0
    if recent and earlier and sum(earlier) > 0:
        growth = round((sum(recent) / len(recent)) / (sum(earlier) / len(earlier)) * 100 - 100, 4)
    return BalanceSeries(
        current=deposits[-1] or 0.0,
        avg_30d=sum(recent) / len(recent) if recent else 0.0,
        min_30d=min(recent) if recent else 0.0,
        min_90d=min(known) if known else 0.0,
        growth_pct_90d=growth,
        overdraft_days_30d=sum(1 for o in overdrawn[-30:] if o > 0),
        overdraft_max_30d=max(overdrawn[-30:]),
        card_utilisation_current=utilisation[-1] or 0.0,
        card_utilisation_avg_30d=sum(util30) / len(util30) if util30 else 0.0,
        card_periods_near_limit=len(near - {3}),
        accounts_open=accounts_open,
    )
