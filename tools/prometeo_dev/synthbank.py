"""A synthetic Latin-American retail bank, deterministic by seed, generated column-wise with numpy.

Every customer has observable traits (age, income, digital archetype, holdings here and at other
institutions, months of payroll, card spend by merchant category, balance snapshots, life events)
and a HIDDEN propensity per product: a logistic function of what those traits make visible in the
customer's events (ticket counts in the feature windows, income landing here, balance levels, recent
life events, holdings). `labels` are Bernoulli draws of that propensity — "acquired the product
within the horizon after as_of" — for the products the customer does not already hold here.

The world is stationary: life events happen at the same rate in every month of the window, and the
propensity is read by one rule from what is visible at a snapshot date. So the period before as_of
(`earlier_labels`, drawn from `earlier_propensity`, read as of `earlier_as_of`) behaves like the one
after it, and a model trained on the one transfers to the other, as it would in a real bank.

Scale: the customer table, holdings and oracle are column-wise arrays (1M customers in seconds and
a few hundred MB); the dated events are rendered lazily, `CHUNK` customers at a time, from per-month
counts drawn up front, so iterating a million customers' events keeps memory flat.

The bank speaks the ingest service's HTTP shapes: `consent_requests()` for POST /v1/consents and
`event_items()` for POST /v1/events:batch. `customer_id` is a CPF, i.e. personal data: it only ever
goes to ingest, which pseudonymises it.

    bank = generate_bank(5_000, seed=7)
    bank.oracle_auc()  # the best AUC any model could reach on these labels
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from prometeo import clock
from prometeo.contracts import RETAIL_PRODUCTS, Channel, ProductCode

SOURCE = "synthbank"
INSTITUTION = "synthbank"
PRODUCTS: tuple[ProductCode, ...] = RETAIL_PRODUCTS
_P = {p: i for i, p in enumerate(PRODUCTS)}

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
INCOME_BANDS = ("low", "middle", "upper_middle", "high")
ARCHETYPES = ("nascent", "experimenting", "emerging", "activated")
OCCUPATIONS = ("employee", "public_servant", "self_employed", "retired", "student")
REGIONS = ("SP", "RJ", "MG", "RS", "PR", "BA", "PE", "CE", "PA", "DF", "GO", "AM")
_REGION_P = (0.24, 0.1, 0.11, 0.06, 0.06, 0.08, 0.06, 0.06, 0.06, 0.06, 0.06, 0.05)
OTHER_INSTITUTIONS = ("itau", "bradesco", "nubank", "caixa", "santander", "inter", "banco-do-brasil")
SCOPES = ["accounts", "balances", "transactions", "credit_cards", "loans", "investments", "customers"]
PURPOSES = ["cross_sell_analytics", "marketing"]

# Spend categories (feature_store.domain.mcc), one representative MCC set each, mean ticket in BRL
# for a customer earning the median salary.
CATEGORY_MCCS: dict[str, tuple[str, ...]] = {
    "groceries": ("5411", "5499", "5422"),
    "restaurants": ("5812", "5814"),
    "travel": ("4511", "7011", "4722", "3010"),
    "fuel": ("5541", "5542"),
    "health": ("5912", "8011"),
    "education": ("8211", "8299"),
    "sports": ("5941", "7997"),
    "home": ("5211", "5712"),
    "children": ("5641", "5945", "8351"),
    "entertainment": ("7832", "5815"),
    "utilities": ("4900", "4814"),
}
CATEGORIES = tuple(CATEGORY_MCCS)
_C = {c: i for i, c in enumerate(CATEGORIES)}
_TICKET = np.array([110, 55, 850, 180, 140, 420, 110, 320, 130, 45, 170], dtype=float)
_MCC_TABLE = tuple(m for mccs in CATEGORY_MCCS.values() for m in mccs)
_MCC_OFFSET = np.cumsum([0] + [len(v) for v in CATEGORY_MCCS.values()])[:-1]
_MCC_COUNT = np.array([len(v) for v in CATEGORY_MCCS.values()])

# The label horizon: acquisitions within this many days after a snapshot date.
HORIZON_DAYS = 30

# Acquisition rate per product within the horizon, among customers not holding it here.
TARGET_RATES: dict[ProductCode, float] = {
    ProductCode.PAYROLL_ACCOUNT: 0.10,
    ProductCode.SAVINGS: 0.12,
    ProductCode.CREDIT_CARD: 0.15,
    ProductCode.PERSONAL_LOAN: 0.09,
    ProductCode.AUTO_LOAN: 0.08,
    ProductCode.MORTGAGE: 0.07,
    ProductCode.AUTO_INSURANCE: 0.10,
    ProductCode.LIFE_INSURANCE: 0.09,
    ProductCode.HOME_INSURANCE: 0.10,
    ProductCode.INVESTMENT_FUND: 0.12,
}

_ACCOUNT_TYPE: dict[ProductCode, str] = {
    ProductCode.SAVINGS: "savings",
    ProductCode.CREDIT_CARD: "credit_card",
    ProductCode.PERSONAL_LOAN: "loan",
    ProductCode.AUTO_LOAN: "loan",
    ProductCode.MORTGAGE: "loan",
    ProductCode.INVESTMENT_FUND: "investment",
}
_CHANNELS_BY_ARCHETYPE: tuple[tuple[Channel, ...], ...] = (
    (Channel.SMS, Channel.ADVISOR, Channel.EMAIL),
    (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP),
    (Channel.EMAIL, Channel.WHATSAPP, Channel.APP_PUSH),
    (Channel.APP_PUSH, Channel.IN_APP, Channel.WHATSAPP, Channel.EMAIL),
)
# Hidden response behaviour by channel, per archetype (rows as ARCHETYPES, columns as RESPONSE_CHANNELS):
# the share of a customer's propensity that turns into an acceptance when the offer arrives that way.
# A nascent customer answers a person, an activated one the app; the policy's channel response
# factors are the bank's estimate of this, and the campaign simulator draws acceptances from it.
RESPONSE_CHANNELS: tuple[Channel, ...] = (
    Channel.ADVISOR,
    Channel.SMS,
    Channel.WHATSAPP,
    Channel.EMAIL,
    Channel.APP_PUSH,
    Channel.IN_APP,
)
CHANNEL_RESPONSE = np.array(
    [
        [0.90, 0.35, 0.40, 0.20, 0.10, 0.10],  # nascent
        [0.80, 0.60, 0.65, 0.35, 0.30, 0.40],  # experimenting
        [0.70, 0.45, 0.70, 0.45, 0.60, 0.70],  # emerging
        [0.60, 0.35, 0.60, 0.55, 0.65, 0.85],  # activated
    ]
)

DAY = 86_400
MONTH_DAYS = 30
SNAPSHOT_EVERY_DAYS = 7


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 0 else x * 0.0


ADVISORS_PER_BRANCH = 4


def branch_and_portfolio(i: int, region: str) -> dict[str, str]:
    """One branch per region and a few advisors' portfolios in each (no random draw: a seed's bank is unchanged).

    The gateway's demo people are cut to fit: ana.advisor holds portfolio adv-sp-01, bruno.manager runs br-sp."""
    branch = f"br-{region.lower()}"
    return {"branch_id": branch, "advisor_id": f"adv-{region.lower()}-{i % ADVISORS_PER_BRANCH + 1:02d}"}


def cpf_numbers(n: int, seed: int) -> list[str]:
    """n distinct, check-digit-valid CPFs: an affine walk over 9-digit bases (step coprime to 10⁹)."""
    start = (seed * 2_654_435_761 + 12_345_678) % 1_000_000_000
    base = (start + np.arange(n, dtype=np.int64) * 982_451_653) % 1_000_000_000
    digits = np.stack([(base // 10 ** (8 - k)) % 10 for k in range(9)], axis=1)
    d1 = (digits * np.arange(10, 1, -1)).sum(axis=1) * 10 % 11 % 10
    d2 = ((digits * np.arange(11, 2, -1)).sum(axis=1) + d1 * 2) * 10 % 11 % 10
    out = []
    for b, x, y in zip(base.tolist(), d1.tolist(), d2.tolist(), strict=True):
        s = f"{b:09d}"
        out.append(f"{s[:3]}.{s[3:6]}.{s[6:]}-{x}{y}")
    return out


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


@dataclass
class _Activity:
    """Dated activity of one chunk of customers, one row per event, sorted by (customer, time)."""

    customer: np.ndarray  # int64, the bank's customer index
    ts: np.ndarray  # epoch seconds
    kind: np.ndarray  # 0 transaction, 1 balance snapshot
    credit: np.ndarray  # bool (transactions)
    payroll: np.ndarray  # bool
    cents: np.ndarray  # int64
    mcc: np.ndarray  # index into _MCC_TABLE, -1 = none
    account: np.ndarray  # 0 checking, 1 savings
    starts: np.ndarray  # slice starts per customer of the chunk, length chunk size + 1
    _text: tuple[list[str], list[str]] | None = field(default=None, init=False)

    def text(self) -> tuple[list[str], list[str]]:
        """ISO timestamps and decimal amounts for every row, formatted once, vectorised."""
        if self._text is None:
            iso = np.char.add(np.datetime_as_string(self.ts.astype("datetime64[s]"), unit="s"), "+00:00")
            whole, frac = np.divmod(self.cents, 100)
            money = np.char.add(np.char.add(whole.astype(str), "."), np.char.zfill(frac.astype(str), 2))
            self._text = (iso.tolist(), money.tolist())
        return self._text


@dataclass
class _Plan:
    """What each customer's events will show, drawn up front: counts per month and category, income
    and balance levels — a few bytes per customer, so a million customers fit comfortably. The hidden
    propensity is computed from these realised quantities (what the events reveal), and the dated
    rows are rendered from them lazily, CHUNK customers at a time."""

    salary: np.ndarray  # monthly, BRL
    salaried: np.ndarray  # bool
    occupation: np.ndarray
    payroll_here: np.ndarray  # bool: payroll credits land here flagged as payroll
    share: np.ndarray  # share of the salary credited here (1 with the payroll here)
    raise_factor: np.ndarray  # salary multiplier from the raise's month on (1 without a raise)
    raise_month: np.ndarray  # month of the raise, 0 = the latest 30 days; -1 = none in the window
    category_counts: np.ndarray  # uint16 (customers × months × categories), month 0 = the latest 30 days
    travel_spike: np.ndarray  # bool (customers × months): a trip that month, its tickets larger too
    client_payments: np.ndarray  # self-employed credits over the window
    other_debits: np.ndarray  # uncategorised debits over the window
    growth: np.ndarray  # balance growth over the window
    base_checking: np.ndarray
    base_savings: np.ndarray
    holds_savings: np.ndarray  # bool


# Customers rendered together; part of the seed of their rows, so it is fixed.
CHUNK = 2_048


def _plan(
    rng: np.random.Generator,
    n: int,
    months: int,
    salary: np.ndarray,
    salaried: np.ndarray,
    occupation: np.ndarray,
    here: np.ndarray,
    raise_month: np.ndarray,
    travel_spike: np.ndarray,
    child_month: np.ndarray,
    has_children: np.ndarray,
    has_car: np.ndarray,
    idle_z: np.ndarray,
    idle_growth: np.ndarray,
    travel_aff: np.ndarray,
    dining_aff: np.ndarray,
    home_aff: np.ndarray,
    sport_aff: np.ndarray,
    age: np.ndarray,
) -> _Plan:
    payroll_here = here[:, _P[ProductCode.PAYROLL_ACCOUNT]]
    rate = np.zeros((n, len(CATEGORIES)))
    rate[:, _C["groceries"]] = 4
    rate[:, _C["restaurants"]] = np.exp(0.9 + 0.5 * dining_aff)
    rate[:, _C["travel"]] = np.exp(-1.0 + 0.8 * travel_aff)
    rate[:, _C["fuel"]] = np.where(has_car, 3.5, 0.1)
    rate[:, _C["health"]] = 0.8 + 0.3 * (age >= 4)
    rate[:, _C["education"]] = np.where(has_children, 0.9, 0.15)
    rate[:, _C["sports"]] = np.exp(-1.0 + 0.8 * sport_aff)
    rate[:, _C["home"]] = np.exp(-0.6 + 0.7 * home_aff)
    rate[:, _C["children"]] = np.where(has_children, 1.5, 0.05)
    rate[:, _C["entertainment"]] = np.exp(0.2 + 0.4 * dining_aff)
    rate[:, _C["utilities"]] = 2.0
    counts = np.empty((n, months, len(CATEGORIES)), dtype=np.uint16)
    for m in range(months):
        counts[:, m, :] = rng.poisson(rate)
    # Life events add a fixed number of visible tickets in their month, not just a higher rate: they
    # must show. A trip shows in its month; a child from its birth month on, with a month of setting
    # up (health, home) after the birth.
    counts[:, :, _C["travel"]] += (3 * travel_spike).astype(np.uint16)
    for m in range(months):
        born = child_month >= m
        counts[:, m, _C["children"]] += (4 * born).astype(np.uint16)
        settling = born & (child_month <= m + 1)
        counts[:, m, _C["health"]] += settling.astype(np.uint16)
        counts[:, m, _C["home"]] += settling.astype(np.uint16)
    return _Plan(
        salary=salary,
        salaried=salaried,
        occupation=occupation,
        payroll_here=payroll_here,
        share=np.where(payroll_here, 1.0, rng.uniform(0.5, 0.8, n)),
        raise_factor=np.where(raise_month >= 0, 1.12 + 0.08 * rng.random(n), 1.0),
        raise_month=raise_month,
        category_counts=counts,
        travel_spike=travel_spike,
        client_payments=np.where(occupation == 2, rng.poisson(3, n) * months // 2 + months, 0),
        other_debits=rng.poisson(1.5 * months, n),
        growth=np.where(idle_growth, rng.uniform(0.4, 1.2, n), rng.normal(0, 0.05, n)),
        base_checking=salary * np.exp(-0.4 + 0.6 * idle_z + rng.normal(0, 0.3, n)),
        base_savings=salary * np.exp(0.5 + 0.8 * idle_z + rng.normal(0, 0.4, n)),
        holds_savings=here[:, _P[ProductCode.SAVINGS]],
    )


def _render(plan: _Plan, lo: int, hi: int, seed: int, as_of: datetime, months: int) -> _Activity:
    """The dated rows of customers [lo, hi): timestamps, tickets and MCCs drawn from the plan with a
    generator seeded by (seed, chunk), so any chunk renders the same rows alone or in sequence."""
    rng = np.random.default_rng([seed, 313, lo // CHUNK])
    n = hi - lo
    ids = np.arange(lo, hi)
    end = int(as_of.timestamp())
    span = months * MONTH_DAYS * DAY
    salary, salaried = plan.salary[lo:hi], plan.salaried[lo:hi]
    wealth = np.sqrt(salary / 3_000)
    parts: list[dict[str, np.ndarray]] = []

    # Credits: a payroll (or pension) each month, flagged as payroll only with a payroll account here.
    payroll_here = plan.payroll_here[lo:hi]
    cust = np.repeat(np.arange(n), months)
    m = np.tile(np.arange(months), n)
    factor = np.where(m <= plan.raise_month[lo:hi][cust], plan.raise_factor[lo:hi][cust], 1.0)
    ts = end - m * MONTH_DAYS * DAY - rng.integers(DAY, 28 * DAY, n * months)
    keep = salaried[cust].astype(bool)
    parts.append(
        {
            "customer": cust[keep],
            "ts": ts[keep],
            "kind": np.zeros(keep.sum(), np.int8),
            "credit": np.ones(keep.sum(), bool),
            "payroll": payroll_here[cust][keep],
            "cents": (salary[cust] * factor * plan.share[lo:hi][cust] * 100).astype(np.int64)[keep],
            "mcc": np.full(keep.sum(), -1),
            "account": np.zeros(keep.sum(), np.int8),
        }
    )
    # Self-employed: a few irregular client payments a month.
    counts = plan.client_payments[lo:hi]
    cust = np.repeat(np.arange(n), counts)
    k = len(cust)
    parts.append(
        {
            "customer": cust,
            "ts": end - rng.integers(DAY // 2, span, k),
            "kind": np.zeros(k, np.int8),
            "credit": np.ones(k, bool),
            "payroll": np.zeros(k, bool),
            "cents": (salary[cust] * months / np.maximum(counts[cust], 1) * rng.lognormal(0, 0.4, k) * 100).astype(
                np.int64
            ),
            "mcc": np.full(k, -1),
            "account": np.zeros(k, np.int8),
        }
    )
    # Debits by merchant category, as many per month and category as the plan says.
    cell = np.repeat(np.arange(n * months * len(CATEGORIES)), plan.category_counts[lo:hi].reshape(-1))
    k = len(cell)
    cust, rest = np.divmod(cell, months * len(CATEGORIES))
    m, cat = np.divmod(rest, len(CATEGORIES))
    ticket = _TICKET[cat] * wealth[cust] * rng.lognormal(0, 0.5, k)
    ticket = np.where((cat == _C["travel"]) & plan.travel_spike[lo:hi][cust, m], ticket * 1.8, ticket)
    parts.append(
        {
            "customer": cust,
            "ts": end - m * MONTH_DAYS * DAY - rng.integers(60, MONTH_DAYS * DAY, k),
            "kind": np.zeros(k, np.int8),
            "credit": np.zeros(k, bool),
            "payroll": np.zeros(k, bool),
            "cents": np.maximum(100, ticket * 100).astype(np.int64),
            "mcc": _MCC_OFFSET[cat] + rng.integers(0, 1 << 30, k) % _MCC_COUNT[cat],
            "account": np.zeros(k, np.int8),
        }
    )
    # Uncategorised debits (bills, transfers out).
    cust = np.repeat(np.arange(n), plan.other_debits[lo:hi])
    k = len(cust)
    parts.append(
        {
            "customer": cust,
            "ts": end - rng.integers(60, span, k),
            "kind": np.zeros(k, np.int8),
            "credit": np.zeros(k, bool),
            "payroll": np.zeros(k, bool),
            "cents": (salary[cust] * rng.uniform(0.03, 0.12, k) * 100).astype(np.int64),
            "mcc": np.full(k, -1),
            "account": np.zeros(k, np.int8),
        }
    )

    # Balance snapshots every week: checking always, savings when held here. Idle balances grow.
    snaps = np.arange(0, months * MONTH_DAYS, SNAPSHOT_EVERY_DAYS)  # days before as_of
    s = len(snaps)
    growth = plan.growth[lo:hi]
    progress = 1.0 - snaps / (months * MONTH_DAYS)  # 0 at the start of the window, ~1 at as_of
    for account, base, holds in (
        (0, plan.base_checking[lo:hi], np.ones(n, bool)),
        (1, plan.base_savings[lo:hi], plan.holds_savings[lo:hi]),
    ):
        level = base[:, None] * (1 + growth[:, None] * progress[None, :]) * rng.lognormal(0, 0.08, (n, s))
        cust = np.repeat(np.arange(n), s)
        keep = holds[cust]
        k = int(keep.sum())
        parts.append(
            {
                "customer": cust[keep],
                "ts": (end - np.tile(snaps, n) * DAY - 3_600)[keep],
                "kind": np.ones(k, np.int8),
                "credit": np.zeros(k, bool),
                "payroll": np.zeros(k, bool),
                "cents": (level.reshape(-1) * 100).astype(np.int64)[keep],
                "mcc": np.full(k, -1),
                "account": np.full(k, account, np.int8),
            }
        )

    cols = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.lexsort((cols["ts"], cols["customer"]))
    cols = {key: v[order] for key, v in cols.items()}
    starts = np.searchsorted(cols["customer"], np.arange(n + 1))
    cols["customer"] = ids[cols["customer"]]
    return _Activity(**cols, starts=starts)


@dataclass
class SyntheticBank:
    seed: int
    as_of: datetime
    months: int
    customers: pd.DataFrame  # one row per customer, in index order; `customer_id` is a CPF
    held_here: np.ndarray  # bool (customers × products)
    held_elsewhere: np.ndarray  # bool (customers × products)
    held_elsewhere_at: np.ndarray  # institution index (customers × products)
    oracle_propensity: np.ndarray  # the hidden truth (customers × products)
    labels: np.ndarray  # float: 1/0 acquired within the horizon, NaN where already held here
    _plan: _Plan
    products: tuple[ProductCode, ...] = PRODUCTS
    _rendered: tuple[int, _Activity] | None = field(default=None, repr=False)
    # The same question one horizon earlier ("acquired within (as_of − horizon, as_of]"), for a
    # time-based split: train on the earlier period, evaluate on `labels`. None on hand-built banks.
    # Drawn from `earlier_propensity`: the same rule read from what was visible at earlier_as_of.
    earlier_labels: np.ndarray | None = field(default=None, repr=False)
    earlier_propensity: np.ndarray | None = field(default=None, repr=False)
    horizon_days: int = HORIZON_DAYS

    @property
    def earlier_as_of(self) -> datetime:
        """The snapshot date whose horizon ends at as_of: features for `earlier_labels` are read here."""
        return self.as_of - timedelta(days=self.horizon_days)

    @property
    def n_customers(self) -> int:
        return len(self.customers)

    # ---- ingest HTTP shapes ----------------------------------------------------------------------
    def response_rate(self, customers: np.ndarray, channels: list[Channel]) -> np.ndarray:
        """The hidden share of propensity that converts when customer i is contacted on channels[i]."""
        archetypes = self.customers["digital_archetype"].to_numpy()[customers]
        rows = np.array([ARCHETYPES.index(a) for a in archetypes], dtype=int)
        columns = np.array([RESPONSE_CHANNELS.index(c) for c in channels], dtype=int)
        return CHANNEL_RESPONSE[rows, columns] if len(rows) else np.zeros(0)

    def acceptance_chance(self, customers: np.ndarray, products: np.ndarray, channels: list[Channel]) -> np.ndarray:
        """The hidden chance that customer i takes products[i] when offered it on channels[i]: the oracle
        propensity × the archetype's response to that channel (what the simulators and the living demo draw)."""
        return self.oracle_propensity[customers, products] * self.response_rate(customers, channels)

    def consent_requests(self) -> list[dict[str, Any]]:
        rng = np.random.default_rng([self.seed, 101])
        expiring = rng.random(self.n_customers) < 0.3
        expires = (self.as_of + timedelta(days=365)).isoformat()
        archetypes = self.customers["digital_archetype"].map(ARCHETYPES.index).to_numpy()
        out = []
        for i, cpf in enumerate(self.customers["customer_id"].tolist()):
            channels = _CHANNELS_BY_ARCHETYPE[archetypes[i]]
            out.append(
                {
                    "customer_id": cpf,
                    "consent_id": f"urn:synthbank:consent:{self.seed}-{i}",
                    "institution": INSTITUTION,
                    "scopes": list(SCOPES),
                    "purposes": list(PURPOSES),
                    "expires_at": expires if expiring[i] else None,
                    "marketing_channels": [c.value for c in channels],
                }
            )
        return out

    def event_items(self) -> list[dict[str, Any]]:
        return [item for _, items in self.iter_customer_events() for item in items]

    def iter_customer_events(self) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """(customer index, that customer's event items in time order), customer after customer."""
        for i in range(self.n_customers):
            yield i, self.customer_events(i)

    def customer_events(self, i: int) -> list[dict[str, Any]]:
        row = self.customers.iloc[i]
        cpf = row["customer_id"]
        prefix = f"synthbank-{self.seed}-{i}"
        items: list[dict[str, Any]] = []

        def add(event_type: str, ts: int, payload: dict[str, Any]) -> None:
            items.append(
                {
                    "customer_id": cpf,
                    "source_event_id": f"{prefix}-{len(items)}",
                    "type": event_type,
                    "version": 1,
                    "occurred_at": _iso(ts),
                    "source": SOURCE,
                    "payload": payload,
                }
            )

        since: date = row["customer_since"]
        since_ts = int(datetime(since.year, since.month, since.day, 12, tzinfo=UTC).timestamp())
        add(
            "customer.profiled",
            since_ts,
            {
                "age_band": row["age_band"],
                "region": row["region"],
                "income_band": row["income_band"],
                "digital_archetype": row["digital_archetype"],
                "customer_since": since.isoformat(),
                "timezone": "America/Sao_Paulo",
                **branch_and_portfolio(i, row["region"]),
            },
        )
        checking = f"acc-{i}-chk"
        add(
            "account.opened",
            since_ts,
            {"account_id": checking, "account_type": "checking", "currency": "BRL", "opened_on": since.isoformat()},
        )
        for p in np.flatnonzero(self.held_here[i]).tolist():
            product = PRODUCTS[p]
            if account_type := _ACCOUNT_TYPE.get(product):
                add(
                    "account.opened",
                    since_ts,
                    {
                        "account_id": f"acc-{i}-{product.value}",
                        "account_type": account_type,
                        "currency": "BRL",
                        "opened_on": since.isoformat(),
                    },
                )
            add(
                "product.held",
                since_ts,
                {
                    "product": product.value,
                    "at_other_institution": False,
                    "institution": INSTITUTION,
                    "since": since.isoformat(),
                },
            )
        first_ts = int(self.as_of.timestamp()) - self.months * MONTH_DAYS * DAY
        for p in np.flatnonzero(self.held_elsewhere[i]).tolist():
            add(
                "product.held",
                first_ts,
                {
                    "product": PRODUCTS[p].value,
                    "at_other_institution": True,
                    "institution": OTHER_INSTITUTIONS[self.held_elsewhere_at[i, p]],
                },
            )

        a = self._chunk(i // CHUNK)
        iso, money = a.text()
        accounts = (checking, f"acc-{i}-savings")
        lo, hi = int(a.starts[i % CHUNK]), int(a.starts[i % CHUNK + 1])
        kinds, credits, payrolls = a.kind[lo:hi].tolist(), a.credit[lo:hi].tolist(), a.payroll[lo:hi].tolist()
        mccs, account_ix = a.mcc[lo:hi].tolist(), a.account[lo:hi].tolist()
        for r in range(hi - lo):
            at = iso[lo + r]
            if kinds[r] == 0:
                payload = {
                    "account_id": checking,
                    "transaction_id": f"tx-{i}-{r}",
                    "direction": "credit" if credits[r] else "debit",
                    "amount": money[lo + r],
                    "currency": "BRL",
                    "booked_at": at,
                    "mcc": _MCC_TABLE[mccs[r]] if mccs[r] >= 0 else None,
                    "is_payroll": payrolls[r],
                }
                event_type = "transaction.booked"
            else:
                payload = {
                    "account_id": accounts[account_ix[r]],
                    "available": money[lo + r],
                    "currency": "BRL",
                    "as_of": at,
                }
                event_type = "balance.snapshot"
            items.append(
                {
                    "customer_id": cpf,
                    "source_event_id": f"{prefix}-{len(items)}",
                    "type": event_type,
                    "version": 1,
                    "occurred_at": at,
                    "source": SOURCE,
                    "payload": payload,
                }
            )
        return items

    def _chunk(self, chunk: int) -> _Activity:
        """The dated rows of customers [chunk × CHUNK, …), rendered on first use; one chunk is kept,
        so iterating customers in order renders each chunk once and memory stays flat at any size."""
        if self._rendered is None or self._rendered[0] != chunk:
            lo = chunk * CHUNK
            self._rendered = (
                chunk,
                _render(self._plan, lo, min(lo + CHUNK, self.n_customers), self.seed, self.as_of, self.months),
            )
        return self._rendered[1]

    # ---- ground truth ----------------------------------------------------------------------------
    def oracle_auc(self, rows: np.ndarray | None = None, earlier: bool = False) -> dict[str, float]:
        return oracle_auc(self, rows, earlier)


def oracle_auc(bank: SyntheticBank, rows: np.ndarray | None = None, earlier: bool = False) -> dict[str, float]:
    """AUC of the hidden propensity against the drawn labels, per product: the ceiling for any model.
    `rows` (a boolean mask) restricts it to e.g. a model's holdout, so the two are comparable;
    `earlier` scores the earlier period (earlier_propensity against earlier_labels)."""
    from sklearn.metrics import roc_auc_score

    if earlier and (bank.earlier_labels is None or bank.earlier_propensity is None):
        raise ValueError("this bank has no earlier period")
    labels = bank.earlier_labels if earlier else bank.labels
    truth = bank.earlier_propensity if earlier else bank.oracle_propensity
    assert labels is not None and truth is not None
    out: dict[str, float] = {}
    for p, product in enumerate(bank.products):
        mask = ~np.isnan(labels[:, p])
        if rows is not None:
            mask &= rows
        y = labels[mask, p]
        if 0 < y.sum() < len(y):
            out[product.value] = float(roc_auc_score(y, truth[mask, p]))
    return out


def _intercept_for(logit: np.ndarray, eligible: np.ndarray, rate: float) -> float:
    """Bisection: the intercept that makes the mean propensity among eligible customers `rate`."""
    lo, hi = -15.0, 15.0
    x = logit[eligible] if eligible.any() else logit
    for _ in range(60):
        mid = (lo + hi) / 2
        if _sigmoid(x + mid).mean() < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# How many of a snapshot's latest months a life event stays "recent" in, as the propensity reads it:
# what a bank can tell from the 90-day window (a raise of 12-20 % puts the latest payroll ≥ 10 % above
# the mean of the earlier ones only on its first pay day; child-related spend is compared over 60
# days; a trip is the latest 30 days').
RAISE_RECENT_MONTHS = 1
TRAVEL_RECENT_MONTHS = 1
CHILD_RECENT_MONTHS = 2


def _event_month(rng: np.random.Generator, n: int, months: int, per_month: np.ndarray | float) -> np.ndarray:
    """The month (0 = latest) of a once-in-a-while event with `per_month` odds each month of the
    window, at most once in it; -1 where it did not happen. One draw per customer."""
    u = rng.random(n)
    p = np.broadcast_to(np.asarray(per_month, dtype=float), (n,))
    month = np.floor(u / np.where(p > 0, p, 1.0)).astype(np.int64)
    return np.where((p > 0) & (month < months), month, -1)


def _recent(month: np.ndarray, offset: int, span: int) -> np.ndarray:
    """The event fell in the `span` latest months of the snapshot `offset` months before as_of."""
    return (month >= offset) & (month < offset + span)


@dataclass
class _Traits:
    """What the propensity is read from: the customer's traits and the months of its life events."""

    salary: np.ndarray
    share: np.ndarray
    base_checking: np.ndarray
    age: np.ndarray
    archetype: np.ndarray
    salaried: np.ndarray
    has_car: np.ndarray
    has_children: np.ndarray
    idle_growth: np.ndarray
    here: np.ndarray
    elsewhere: np.ndarray
    mortgage_any: np.ndarray
    auto_loan_any: np.ndarray
    raise_month: np.ndarray
    travel_spike: np.ndarray  # (customers × months)
    child_month: np.ndarray
    counts: np.ndarray  # category counts (customers × months × categories)


_Scale = dict[str, tuple[float, float]]


def _logits(t: _Traits, offset: int, scale: _Scale | None) -> tuple[np.ndarray, _Scale]:
    """Each product's logit (before its intercept) at the snapshot `offset` months before as_of,
    from what is visible then: its 90-day window of tickets and the life events recent at that date.
    `scale` fixes how ticket counts are standardised (the as_of snapshot's), so the rule is the same
    at every date; the scale used is returned."""
    scale = {} if scale is None else scale

    def z(name: str, x: np.ndarray) -> np.ndarray:
        if name not in scale:
            sd = float(x.std())
            scale[name] = (float(x.mean()), sd if sd > 0 else 1.0)
        mean, sd = scale[name]
        return (x - mean) / sd

    seen = t.counts[:, offset : offset + 3, :].sum(axis=1, dtype=np.int64)  # the 90-day feature window
    travel_sig = z("travel", np.log1p(seen[:, _C["travel"]]))
    dining_sig = z("dining", np.log1p(seen[:, _C["restaurants"]] + seen[:, _C["entertainment"]]))
    home_sig = z("home", np.log1p(seen[:, _C["home"]]))
    idle_sig = z("idle", np.log(t.base_checking))
    income_sig = z("income", np.log(t.salary * t.share))
    salary_raise = t.salaried & _recent(t.raise_month, offset, RAISE_RECENT_MONTHS)
    travel_spike = t.travel_spike[:, offset : offset + TRAVEL_RECENT_MONTHS].any(axis=1)
    new_child = _recent(t.child_month, offset, CHILD_RECENT_MONTHS)
    has_children = t.has_children | (t.child_month >= offset)  # a child born by then
    idle_growth, age, archetype, here = t.idle_growth, t.age, t.archetype, t.here
    mortgage_any, auto_loan_any = t.mortgage_any, t.auto_loan_any
    held_any = here | t.elsewhere
    young = (age <= 1).astype(float)
    prime = ((age >= 1) & (age <= 3)).astype(float)
    low_income = (income_sig < -0.8).astype(float)
    mortgage_no_home_ins = mortgage_any & ~held_any[:, _P[ProductCode.HOME_INSURANCE]]
    drivers: dict[ProductCode, np.ndarray] = {
        ProductCode.PAYROLL_ACCOUNT: 1.1 * salary_raise
        + 0.6 * (archetype / 3)
        + 0.5 * t.salaried
        + 0.4 * here[:, _P[ProductCode.CREDIT_CARD]]
        - 0.3 * (age / 5),
        ProductCode.SAVINGS: 1.4 * idle_growth + 0.7 * idle_sig + 0.3 * (archetype / 3),
        ProductCode.CREDIT_CARD: 0.8 * travel_sig
        + 1.6 * travel_spike
        + 0.4 * dining_sig
        + 0.5 * young
        - 0.6 * low_income,
        ProductCode.PERSONAL_LOAN: -0.8 * idle_sig + 1.0 * new_child + 0.6 * low_income + 0.3 * home_sig,
        ProductCode.AUTO_LOAN: 1.6 * t.has_car - 1.2 * auto_loan_any + 0.4 * income_sig + 0.4 * prime,
        ProductCode.MORTGAGE: 1.2 * new_child + 0.7 * home_sig + 0.5 * prime + 0.5 * income_sig - 2.0 * mortgage_any,
        ProductCode.AUTO_INSURANCE: 2.2 * t.has_car
        + 0.8 * auto_loan_any
        - 1.5 * held_any[:, _P[ProductCode.AUTO_INSURANCE]],
        ProductCode.LIFE_INSURANCE: 1.8 * new_child
        + 0.8 * has_children
        + 0.4 * ((age >= 2) & (age <= 3))
        + 0.5 * mortgage_any,
        ProductCode.HOME_INSURANCE: 2.4 * (mortgage_no_home_ins & ~here[:, _P[ProductCode.MORTGAGE]])
        + 1.4 * (mortgage_no_home_ins & here[:, _P[ProductCode.MORTGAGE]])
        + 0.5 * home_sig,
        ProductCode.INVESTMENT_FUND: 1.1 * income_sig
        + 1.0 * salary_raise
        + 0.8 * idle_sig
        + 0.7 * idle_growth
        + 0.3 * (age / 5),
    }
    logits = np.zeros((len(age), len(PRODUCTS)))
    for product, driver in drivers.items():
        logits[:, _P[product]] = driver.astype(float)
    return logits, scale


def generate_bank(n_customers: int, seed: int = 7, as_of: datetime | None = None, months: int = 4) -> SyntheticBank:
    """A bank of `n_customers`. as_of defaults to the start of today (UTC) so a live feature store's
    windows, which end now, see the activity; pass it explicitly for reproducible datasets."""
    if as_of is None:
        now = clock.now()  # the seam: a pinned test clock and the live services agree on "today"
        as_of = datetime(now.year, now.month, now.day, tzinfo=UTC)
    elif as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    n = n_customers
    rng = np.random.default_rng(seed)
    B = lambda p: rng.random(n) < p  # noqa: E731 - one Bernoulli draw per customer

    # ---- traits ----------------------------------------------------------------------------------
    age = rng.choice(6, size=n, p=[0.13, 0.26, 0.23, 0.17, 0.12, 0.09])
    occupation = np.where(
        age == 0,
        rng.choice([0, 2, 4], size=n, p=[0.45, 0.15, 0.4]),
        np.where(
            age >= 4,
            rng.choice([0, 1, 2, 3], size=n, p=[0.25, 0.1, 0.15, 0.5]),
            rng.choice([0, 1, 2], size=n, p=[0.65, 0.15, 0.2]),
        ),
    )
    age_income = np.array([-0.6, -0.1, 0.2, 0.3, 0.2, -0.1])[age]
    income_z = rng.normal(0, 1, n)
    salary = np.exp(8.05 + 0.62 * income_z + age_income + np.where(occupation == 4, -0.8, 0.0))
    log_salary_z = _zscore(np.log(salary))
    income_band = np.digitize(salary, [2_500, 6_000, 15_000])
    digital = rng.normal(0, 1, n) - 0.4 * (age - 2)
    archetype = np.digitize(digital, np.quantile(digital, [0.2, 0.45, 0.7]))
    tenure_days = (30 + rng.exponential(4 * 365, n)).astype(int)
    region = rng.choice(len(REGIONS), size=n, p=_REGION_P)
    salaried = occupation != 2  # self-employed get irregular credits instead

    has_car = B(_sigmoid(-0.4 + 0.9 * log_salary_z + np.where((age >= 1) & (age <= 4), 0.5, -0.5)))
    has_children = B(np.array([0.08, 0.4, 0.6, 0.45, 0.15, 0.05])[age])
    travel_aff = rng.normal(0, 1, n) + 0.5 * log_salary_z
    dining_aff = rng.normal(0, 1, n) + np.where(age <= 1, 0.5, 0.0)
    home_aff = rng.normal(0, 1, n)
    sport_aff = rng.normal(0, 1, n)
    idle_z = rng.normal(0, 1, n)  # appetite for keeping money idle, relative to salary
    mortgage_any = B(_sigmoid(-2.3 + 0.8 * log_salary_z + np.where((age >= 2) & (age <= 4), 1.0, 0.0)))

    # Life events, each in a month of the rendered window (0 = the 30 days before as_of) or in none,
    # at the same rate every month: any snapshot date finds some customers just after one. A trip is
    # drawn for every month on its own; a raise or a birth happens at most once in the window.
    raise_month = np.where(salaried, _event_month(rng, n, months, 0.12), -1)
    travel_spike = rng.random((n, months)) < (0.10 + 0.05 * (travel_aff > 1))[:, None]
    child_month = _event_month(rng, n, months, np.array([0.015, 0.06, 0.04, 0.01, 0.0, 0.0])[age])
    idle_growth = B(0.15)  # a habit, not an event: the balances grow over the whole window

    # ---- holdings --------------------------------------------------------------------------------
    here = np.zeros((n, len(PRODUCTS)), dtype=bool)
    elsewhere = np.zeros_like(here)
    here[:, _P[ProductCode.PAYROLL_ACCOUNT]] = salaried & B(0.5)
    elsewhere[:, _P[ProductCode.PAYROLL_ACCOUNT]] = salaried & ~here[:, _P[ProductCode.PAYROLL_ACCOUNT]]
    here[:, _P[ProductCode.SAVINGS]] = B(_sigmoid(-0.8 + 0.5 * idle_z))
    elsewhere[:, _P[ProductCode.SAVINGS]] = B(0.25)
    here[:, _P[ProductCode.CREDIT_CARD]] = B(_sigmoid(-0.7 + 0.5 * log_salary_z))
    elsewhere[:, _P[ProductCode.CREDIT_CARD]] = B(0.45)
    here[:, _P[ProductCode.PERSONAL_LOAN]] = B(0.07)
    elsewhere[:, _P[ProductCode.PERSONAL_LOAN]] = B(0.12)
    auto_loan_any = has_car & B(0.35)
    in_here = B(0.35)
    here[:, _P[ProductCode.AUTO_LOAN]] = auto_loan_any & in_here
    elsewhere[:, _P[ProductCode.AUTO_LOAN]] = auto_loan_any & ~in_here
    in_here = B(0.35)
    here[:, _P[ProductCode.MORTGAGE]] = mortgage_any & in_here
    elsewhere[:, _P[ProductCode.MORTGAGE]] = mortgage_any & ~in_here
    here[:, _P[ProductCode.AUTO_INSURANCE]] = has_car & B(0.2)
    elsewhere[:, _P[ProductCode.AUTO_INSURANCE]] = has_car & ~here[:, _P[ProductCode.AUTO_INSURANCE]] & B(0.3)
    here[:, _P[ProductCode.LIFE_INSURANCE]] = B(0.07 + 0.08 * has_children)
    elsewhere[:, _P[ProductCode.LIFE_INSURANCE]] = B(0.08)
    here[:, _P[ProductCode.HOME_INSURANCE]] = here[:, _P[ProductCode.MORTGAGE]] & B(0.4)
    elsewhere[:, _P[ProductCode.HOME_INSURANCE]] = mortgage_any & ~here[:, _P[ProductCode.HOME_INSURANCE]] & B(0.2)
    here[:, _P[ProductCode.INVESTMENT_FUND]] = B(_sigmoid(-2.6 + 1.0 * log_salary_z + 0.4 * idle_z))
    elsewhere[:, _P[ProductCode.INVESTMENT_FUND]] = B(_sigmoid(-2.0 + 0.8 * log_salary_z))
    elsewhere_at = rng.integers(0, len(OTHER_INSTITUTIONS), size=(n, len(PRODUCTS)))

    # ---- what the events will show, and the hidden propensity read from it ------------------------
    plan = _plan(
        rng,
        n,
        months,
        salary,
        salaried,
        occupation,
        here,
        raise_month,
        travel_spike,
        child_month,
        has_children,
        has_car,
        idle_z,
        idle_growth,
        travel_aff,
        dining_aff,
        home_aff,
        sport_aff,
        age,
    )
    # The propensity depends on traits the events reveal — counts of tickets in the feature windows,
    # the income that lands here, the balance level, recent life events — not on the latent tastes
    # behind them, so a model fed the feature store's numbers can approach the oracle. It is read at
    # each snapshot date from what is visible then, by the same rule in both periods (a stationary
    # world: customers respond to what has already happened). The randomness nobody can observe is
    # the Bernoulli draw of the label itself.
    traits = _Traits(
        salary=salary,
        share=plan.share,
        base_checking=plan.base_checking,
        age=age,
        archetype=archetype,
        salaried=salaried,
        has_car=has_car,
        has_children=has_children,
        idle_growth=idle_growth,
        here=here,
        elsewhere=elsewhere,
        mortgage_any=mortgage_any,
        auto_loan_any=auto_loan_any,
        raise_month=raise_month,
        travel_spike=travel_spike,
        child_month=child_month,
        counts=plan.category_counts,
    )
    step = HORIZON_DAYS // MONTH_DAYS  # months between the two snapshot dates
    later_logits, scale = _logits(traits, 0, None)
    earlier_logits, _ = _logits(traits, step, scale)
    propensity = np.zeros((n, len(PRODUCTS)))
    earlier_propensity = np.zeros_like(propensity)
    for product, p in _P.items():
        # One intercept for both periods: the same response, only what is visible differs.
        intercept = _intercept_for(later_logits[:, p], ~here[:, p], TARGET_RATES[product])
        propensity[:, p] = _sigmoid(later_logits[:, p] + intercept)
        earlier_propensity[:, p] = _sigmoid(earlier_logits[:, p] + intercept)
    labels = (rng.random((n, len(PRODUCTS))) < propensity).astype(float)
    labels[here] = np.nan
    # Its own stream, so `labels` (and everything drawn before) stay what they were for a seed.
    earlier = (np.random.default_rng([seed, 43]).random((n, len(PRODUCTS))) < earlier_propensity).astype(float)
    earlier[here] = np.nan

    # datetime.date objects, computed as one array (a Python loop is a second per million customers).
    since = (np.datetime64(as_of.date(), "D") - tenure_days.astype("timedelta64[D]")).astype(object)
    customers = pd.DataFrame(
        {
            "customer_id": cpf_numbers(n, seed),
            "age_band": np.array(AGE_BANDS, dtype=object)[age],
            "region": np.array(REGIONS, dtype=object)[region],
            "income_band": np.array(INCOME_BANDS, dtype=object)[income_band],
            "occupation": np.array(OCCUPATIONS, dtype=object)[occupation],
            "digital_archetype": np.array(ARCHETYPES, dtype=object)[archetype],
            "customer_since": since,
            "monthly_income": np.round(salary, 2),
            "has_car": has_car,
            "has_children": has_children,
            # Life events recent as of as_of, as the propensity reads them (see _logits), and their months.
            "salary_raise": _recent(raise_month, 0, RAISE_RECENT_MONTHS),
            "travel_spike": travel_spike[:, :TRAVEL_RECENT_MONTHS].any(axis=1),
            "new_child": _recent(child_month, 0, CHILD_RECENT_MONTHS),
            "idle_balance_growth": idle_growth,
            "salary_raise_month": raise_month,
            "new_child_month": child_month,
        }
    )
    return SyntheticBank(
        seed=seed,
        as_of=as_of,
        months=months,
        customers=customers,
        held_here=here,
        held_elsewhere=elsewhere,
        held_elsewhere_at=elsewhere_at,
        oracle_propensity=propensity,
        labels=labels,
        _plan=plan,
        earlier_labels=earlier,
        earlier_propensity=earlier_propensity,
    )
