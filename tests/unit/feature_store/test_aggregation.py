from datetime import timedelta

from feature_store.domain.aggregation import compute_features, months_covering, mutation_for
from feature_store.domain.definitions import FEATURE_NAMES
from feature_store.domain.replay import MemoryCustomer
from prometeo.contracts import Envelope
from prometeo.contracts.events import Direction, TransactionDeletedV1, TransactionUpdatedV1
from prometeo.contracts.products import ProductCode
from tests.factories import NOW, balance, booked, held


def _apply(customer: MemoryCustomer, *events: Envelope) -> None:
    for e in events:
        customer.apply(str(e.event_id), mutation_for(e.typed()))


def test_windows_count_only_their_days() -> None:
    c = MemoryCustomer()
    _apply(
        c,
        booked("ck_window", "10.00", at=NOW - timedelta(days=1)),
        booked("ck_window", "20.00", at=NOW - timedelta(days=29)),
        booked("ck_window", "40.00", at=NOW - timedelta(days=31)),
        booked("ck_window", "80.00", at=NOW - timedelta(days=89)),
        booked("ck_window", "160.00", at=NOW - timedelta(days=91)),
        booked("ck_window", "5000.00", at=NOW + timedelta(days=1)),  # after as_of: never counts
    )
    f = compute_features(c.state(), NOW)
    assert f["outflow_30d"] == 30.0
    assert f["outflow_90d"] == 150.0
    assert f["txn_count_30d"] == 2
    assert f["spend_groceries_30d"] == 30.0
    assert f["days_since_last_txn"] == 1
    assert tuple(f) == FEATURE_NAMES


def test_updates_and_deletes_correct_aggregates_exactly() -> None:
    c = MemoryCustomer()
    original = booked("ck_update", "100.10", txn_id="t1")
    _apply(c, original, booked("ck_update", "0.20", txn_id="t2"))
    update = TransactionUpdatedV1(**{**original.typed().model_dump(), "amount": "70.05", "mcc": "5812"})
    c.apply("upd-1", mutation_for(update))
    c.apply("del-1", mutation_for(TransactionDeletedV1(account_id="acc-1", transaction_id="t2")))
    f = compute_features(c.state(), NOW)
    assert f["outflow_30d"] == 70.05
    assert f["spend_groceries_30d"] == 0.0
    assert f["spend_restaurants_30d"] == 70.05
    assert f["txn_count_30d"] == 1


def test_redelivered_event_changes_nothing() -> None:
    c = MemoryCustomer()
    event = booked("ck_redeliver", "10.00")
    assert c.apply(str(event.event_id), mutation_for(event.typed()))
    assert not c.apply(str(event.event_id), mutation_for(event.typed()))
    assert compute_features(c.state(), NOW)["outflow_30d"] == 10.0


def test_balances_carry_forward_and_late_snapshots_lose() -> None:
    c = MemoryCustomer()
    _apply(
        c,
        balance("ck_balance", "100.00", at=NOW - timedelta(days=10)),
        balance("ck_balance", "300.00", at=NOW - timedelta(days=5), account="acc-2"),
        balance("ck_balance", "50.00", at=NOW - timedelta(days=5, hours=-1)),
        balance("ck_balance", "999.00", at=NOW - timedelta(days=5, hours=1)),  # older on the same day: ignored
    )
    f = compute_features(c.state(), NOW)
    assert f["balance_current"] == 350.0
    assert f["balance_min_30d"] == 100.0
    # days 10..6 before: 100; days 5..0: 350 → over 30 days only 11 days have any balance
    assert round(f["balance_avg_30d"], 4) == round((5 * 100 + 6 * 350) / 11, 4)


def test_salary_and_holdings() -> None:
    c = MemoryCustomer()
    _apply(
        c,
        booked("ck_salary", "5000.00", direction=Direction.CREDIT, payroll=True, mcc=None, at=NOW - timedelta(days=3)),
        booked("ck_salary", "5000.00", direction=Direction.CREDIT, payroll=True, mcc=None, at=NOW - timedelta(days=33)),
        held("ck_salary", ProductCode.MORTGAGE, elsewhere=True),
        held("ck_salary", ProductCode.CREDIT_CARD),
    )
    f = compute_features(c.state(), NOW)
    assert f["salary_30d"] == 5000.0 and f["salary_months_90d"] == 2
    assert f["products_here"] == 1 and f["products_elsewhere"] == 1


def test_months_covering_spans_the_longest_window() -> None:
    assert months_covering(NOW) == ["202611", "202610", "202609", "202608"]


def test_an_amount_beyond_exact_arithmetic_is_an_invalid_event() -> None:
    import pytest

    from prometeo.contracts import InvalidEvent

    with pytest.raises(InvalidEvent, match="beyond"):
        mutation_for(booked("ck_toolarge", "99999999999999999.00").typed())
