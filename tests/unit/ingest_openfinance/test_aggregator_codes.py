"""UK bank transaction codes and Belvo categories: every named value has a meaning, an unnamed one is refused
per item with a reason, and pending entries are held apart from bookings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from feature_store.domain.mcc import transaction_metrics
from ingest_openfinance.domain.mappers import belvo, uk
from ingest_openfinance.domain.mappers.aggregator_codes import BELVO_CATEGORIES, UK_SUBFAMILIES
from ingest_openfinance.domain.mappers.common import ItemError
from prometeo.contracts.events import Direction, TransactionKind

NOW = datetime.fromisoformat("2026-11-23T12:00:00+00:00")


def _uk(**fields: Any) -> list[dict[str, Any] | ItemError]:
    record = {
        "AccountId": "a1",
        "TransactionId": "t1",
        "CreditDebitIndicator": "Debit",
        "Status": "Booked",
        "BookingDateTime": "2026-11-01T10:00:00+00:00",
        "Amount": {"Amount": "10.00", "Currency": "GBP"},
        **fields,
    }
    document = {"Data": {"Transaction": [record]}}
    return uk.map_resource(uk.Resource.TRANSACTIONS, document, customer_id="c", institution="x", now=NOW).items


def _belvo(**fields: Any) -> list[dict[str, Any] | ItemError]:
    record = {
        "id": "b1",
        "account": {"id": "acc"},
        "amount": "10.00",
        "currency": "MXN",
        "type": "OUTFLOW",
        "value_date": "2026-11-01",
        **fields,
    }
    document = {
        "webhook_id": "w1",
        "webhook_type": "TRANSACTIONS",
        "webhook_code": "new_transactions_available",
        "link_id": "l1",
        "external_id": "cust",
        "data": {"transactions": [record]},
    }
    return belvo.map_webhook(document, now=NOW).items


@pytest.mark.parametrize(("table", "name"), [(UK_SUBFAMILIES, "uk"), (BELVO_CATEGORIES, "belvo")])
def test_every_named_value_has_a_meaning_the_feature_store_aggregates(table: dict, name: str) -> None:
    for value, kind in table.items():
        assert isinstance(kind, TransactionKind), (name, value)
        # Every kind lands somewhere in the aggregates, in either direction.
        assert transaction_metrics(Direction.DEBIT, kind, None, False), (name, value)
        assert transaction_metrics(Direction.CREDIT, kind, None, False), (name, value)


@pytest.mark.parametrize(
    ("sub", "kind"),
    [("RRTN", "reversal"), ("CHRG", "fee"), ("INTR", "interest"), ("SALA", "payroll"), ("POSD", "purchase")],
)
def test_uk_sub_families_classify(sub: str, kind: str) -> None:
    [item] = _uk(BankTransactionCode={"Code": "ICDT", "SubCode": sub})
    assert isinstance(item, dict) and item["payload"]["kind"] == kind


def test_uk_unknown_sub_family_is_refused_by_name() -> None:
    [item] = _uk(BankTransactionCode={"Code": "ICDT", "SubCode": "ZZZZ"})
    assert isinstance(item, ItemError) and "BankTransactionCode.SubCode" in item.reason


def test_uk_pending_is_held_apart_and_its_booking_is_not_a_duplicate() -> None:
    [pending] = _uk(Status="Pending")
    [booked] = _uk(Status="Booked")
    assert isinstance(pending, dict) and isinstance(booked, dict)
    assert pending["type"] == "transaction.pending" and booked["type"] == "transaction.booked"
    assert pending["source_event_id"] != booked["source_event_id"]


def test_belvo_categories_classify_and_unknown_ones_are_refused() -> None:
    [shopping] = _belvo(category="Personal Shopping")
    [paid_out] = _belvo(category="Income & Payments")  # an outflow of this category is a payment, not payroll
    [unknown] = _belvo(category="Astrology")
    assert isinstance(shopping, dict) and shopping["payload"]["kind"] == "purchase"
    assert isinstance(paid_out, dict) and paid_out["payload"]["kind"] == "transfer"
    assert isinstance(unknown, ItemError) and "category" in unknown.reason and "Astrology" not in unknown.reason


def test_belvo_pending_is_held_apart() -> None:
    [item] = _belvo(status="PENDING", category="Food & Groceries")
    assert isinstance(item, dict) and item["type"] == "transaction.pending"
    assert item["source_event_id"].endswith("|pending")
