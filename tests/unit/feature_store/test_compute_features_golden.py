"""`compute_features` keeps its output: vectors of seeded synthetic customers against a golden file.

The file was computed before the features were tied to their definitions, so a refactor that changes
any value, or the order of the names, fails here. A deliberate change of a feature's meaning bumps
FEATURE_SET_VERSION and regenerates the file:

    .venv/bin/python -m tests.unit.feature_store.test_compute_features_golden
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from feature_store.domain.aggregation import compute_features, mutation_for
from feature_store.domain.definitions import FEATURE_NAMES
from feature_store.domain.mcc import category_for
from feature_store.domain.replay import MemoryCustomer
from prometeo.contracts import EventPayload
from prometeo.contracts.events import (
    AccountClosedV1,
    AccountOpenedV1,
    BalanceSnapshotV1,
    CustomerProfiledV1,
    Direction,
    ProductHeldV1,
    TransactionBookedV1,
    TransactionDeletedV1,
    TransactionUpdatedV1,
)
from prometeo.contracts.products import RETAIL_PRODUCTS

GOLDEN = Path(__file__).parent / "golden" / "compute_features.json"
SEED, CUSTOMERS = 20261201, 120
_MCCS = [m for m in (f"{n:04d}" for n in range(3000, 10000)) if category_for(m)] + ["6513", "6513", None]
_ACCOUNTS = {"dep": "checking", "sav": "savings", "card": "credit_card", "loan": "loan", "inv": "investment"}
_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_ARCHETYPES = ("nascent", "experimenting", "emerging", "activated")


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(f"{rng.uniform(low, high):.2f}")


def _events(rng: random.Random, as_of: datetime) -> list[EventPayload]:
    """A customer's history around `as_of`: salaries (flagged or not, sometimes raised), spend on every
    category, corrections and deletions, balance snapshots (overdrafts, cards near their limit),
    accounts opened and closed, products held, a profile — and a few events after `as_of`."""
    events: list[EventPayload] = []
    txn_ids: list[str] = []

    def at(days_ago: float) -> datetime:
        return as_of - timedelta(days=days_ago)

    def txn(direction: Direction, amount: Decimal, when: datetime, mcc: str | None, payroll: bool = False) -> None:
        txn_ids.append(f"t{len(txn_ids)}")
        events.append(
            TransactionBookedV1(
                account_id="dep",
                transaction_id=txn_ids[-1],
                direction=direction,
                amount=amount,
                booked_at=when,
                mcc=mcc,
                is_payroll=payroll,
            )
        )

    salary, flagged, raise_at = _money(rng, 1500, 9000), rng.random() < 0.5, rng.choice([None, 0, 1, 2])
    if rng.random() < 0.7:
        for month in range(4):
            amount = salary * (Decimal("1.2") if raise_at is not None and month <= raise_at else 1)
            txn(Direction.CREDIT, amount + _money(rng, -30, 30), at(month * 30 + rng.uniform(2, 8)), None, flagged)
    for _ in range(rng.randrange(0, 60)):
        txn(
            rng.choice([Direction.DEBIT] * 4 + [Direction.CREDIT]),
            _money(rng, 1, 900),
            at(rng.uniform(-5, 120)),
            rng.choice(_MCCS),
        )
    for _ in range(rng.randrange(0, 4)):
        if txn_ids:
            txn_id = rng.choice(txn_ids)
            if rng.random() < 0.5:
                events.append(TransactionDeletedV1(account_id="dep", transaction_id=txn_id))
            else:
                events.append(
                    TransactionUpdatedV1(
                        account_id="dep",
                        transaction_id=txn_id,
                        direction=Direction.DEBIT,
                        amount=_money(rng, 1, 500),
                        booked_at=at(rng.uniform(0, 100)),
                        mcc=rng.choice(_MCCS),
                    )
                )
    accounts = rng.sample(sorted(_ACCOUNTS), rng.randrange(0, len(_ACCOUNTS) + 1))
    for account in accounts:
        events.append(AccountOpenedV1(account_id=account, account_type=_ACCOUNTS[account]))
        if rng.random() < 0.15:
            events.append(AccountClosedV1(account_id=account))
    for account in [*accounts, "unopened"]:
        level, limit = _money(rng, -800, 20000), _money(rng, 500, 8000)
        for _ in range(rng.randrange(0, 25)):
            level += _money(rng, -1500, 1500)
            card = account == "card"
            available = max(Decimal(0), min(limit, level)) if card else level
            events.append(
                BalanceSnapshotV1(
                    account_id=account,
                    available=available,
                    as_of=at(rng.uniform(-3, 100)),
                    credit_limit=limit if card else None,
                )
            )
    for product in rng.sample(list(RETAIL_PRODUCTS), rng.randrange(0, 5)):  # the ten the golden file was drawn from
        events.append(ProductHeldV1(product=product, at_other_institution=rng.random() < 0.5))
    if rng.random() < 0.85:
        events.append(
            CustomerProfiledV1(
                age_band=rng.choice(_BANDS),
                digital_archetype=rng.choice([None, *_ARCHETYPES]),
                customer_since=rng.choice([None, date(2020, 1, 1) + timedelta(days=rng.randrange(0, 2500))]),
            )
        )
    rng.shuffle(events)  # arrival order differs from booking order, as in the stream
    return events


def vectors() -> list[list[float]]:
    rng = random.Random(SEED)
    out = []
    for i in range(CUSTOMERS):
        as_of = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=rng.uniform(0, 330))
        customer = MemoryCustomer()
        for n, payload in enumerate(_events(rng, as_of)):
            customer.apply(f"{i}-{n}", mutation_for(payload))
        state = customer.state()
        for instant in (as_of, as_of - timedelta(days=17), as_of.replace(tzinfo=None)):
            features = compute_features(state, instant)
            assert tuple(features) == FEATURE_NAMES
            out.append(list(features.values()))
    return out


def test_vectors_match_the_golden_file() -> None:
    golden = json.loads(GOLDEN.read_text())
    assert golden["names"] == list(FEATURE_NAMES)
    computed = vectors()
    assert len(computed) == len(golden["vectors"])
    for index, (new, old) in enumerate(zip(computed, golden["vectors"], strict=True)):
        differing = {n: (a, b) for n, a, b in zip(FEATURE_NAMES, new, old, strict=True) if a != b}
        assert not differing, f"vector {index}: {differing}"


def test_the_synthetic_customers_exercise_every_feature() -> None:
    golden = json.loads(GOLDEN.read_text())
    columns = list(zip(*golden["vectors"], strict=True))
    flat = [name for name, column in zip(golden["names"], columns, strict=True) if len(set(column)) < 2]
    assert not flat, f"features that never vary in the golden inputs: {flat}"


if __name__ == "__main__":
    rows = ",\n".join(f"    {json.dumps(v)}" for v in vectors())
    GOLDEN.write_text(f'{{\n  "names": {json.dumps(list(FEATURE_NAMES))},\n  "vectors": [\n{rows}\n  ]\n}}\n')
    print(f"wrote {GOLDEN}")
