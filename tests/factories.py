"""Factories of valid events for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from prometeo.contracts import Envelope, new_event
from prometeo.contracts.events import (
    BalanceSnapshotV1,
    ConsentGrantedV1,
    DataScope,
    Direction,
    ProductHeldV1,
    Purpose,
    TransactionBookedV1,
)
from prometeo.contracts.products import ProductCode

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def booked(
    ck: str,
    amount: str = "100.00",
    *,
    direction: Direction = Direction.DEBIT,
    at: datetime = NOW - timedelta(days=1),
    mcc: str | None = "5411",
    txn_id: str | None = None,
    payroll: bool = False,
) -> Envelope:
    payload = TransactionBookedV1(
        account_id="acc-1",
        transaction_id=txn_id or uuid.uuid4().hex,
        direction=direction,
        amount=Decimal(amount),
        booked_at=at,
        mcc=mcc,
        is_payroll=payroll,
    )
    return new_event(payload, customer_key=ck, source="tests", occurred_at=at)


def balance(ck: str, available: str, at: datetime = NOW - timedelta(days=1), account: str = "acc-1") -> Envelope:
    payload = BalanceSnapshotV1(account_id=account, available=Decimal(available), as_of=at)
    return new_event(payload, customer_key=ck, source="tests", occurred_at=at)


def held(ck: str, product: ProductCode, elsewhere: bool = False) -> Envelope:
    return new_event(ProductHeldV1(product=product, at_other_institution=elsewhere), customer_key=ck, source="tests")


def consent_granted(ck: str) -> Envelope:
    payload = ConsentGrantedV1(
        consent_id=f"urn:test:{uuid.uuid4().hex[:8]}",
        institution="test-bank",
        scopes=list(DataScope),
        purposes=[Purpose.CROSS_SELL_ANALYTICS],
    )
    return new_event(payload, customer_key=ck, source="tests")
