"""UK Open Banking and Belvo-style webhook mapping, from the examples written from their specs."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingest_openfinance.domain.mappers import belvo, uk
from ingest_openfinance.domain.mappers.common import DocumentError, ItemError
from ingest_openfinance.models import CanonicalEventCreate
from prometeo.contracts import payload_model
from prometeo.contracts.events import ConsentStatus, DataScope

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest_openfinance"
NOW = datetime.fromisoformat("2026-11-23T12:00:00+00:00")


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def _events(items: list) -> list[dict]:
    out = []
    for item in items:
        assert not isinstance(item, ItemError), item
        event = CanonicalEventCreate.model_validate(item)
        payload_model(event.type, event.version).model_validate(event.payload)
        out.append(item)
    return out


def test_uk_accounts_split_into_opened_and_held_elsewhere() -> None:
    mapped = uk.map_resource(
        uk.Resource.ACCOUNTS, _load("uk/accounts.json"), customer_id="c", institution="alpha", now=NOW
    )
    events = _events(mapped.items)
    assert [e["type"] for e in events] == ["account.opened", "product.held", "product.held"]
    assert [e["payload"].get("product") for e in events[1:]] == ["savings", "credit_card"]
    assert "Kevin" not in json.dumps(events) and "80200110203345" not in json.dumps(events)


def test_uk_balances_are_signed_decimals() -> None:
    mapped = uk.map_resource(
        uk.Resource.BALANCES, _load("uk/balances.json"), customer_id="c", institution="alpha", now=NOW
    )
    assert [e["payload"]["available"] for e in _events(mapped.items)] == ["1230.00", "-310.55"]


def test_uk_transactions_map_mcc_payroll_and_rejections() -> None:
    mapped = uk.map_resource(
        uk.Resource.TRANSACTIONS, _load("uk/transactions.json"), customer_id="c", institution="alpha", now=NOW
    )
    events = _events(mapped.items)
    # The Pending one is held apart (its own id), so its later booking is not a duplicate.
    assert [e["type"] for e in events] == ["transaction.booked"] * 2 + ["transaction.pending", "transaction.deleted"]
    assert events[0]["payload"]["is_payroll"] is True and events[1]["payload"]["mcc"] == "5411"
    assert "Tesco" not in json.dumps(events) and "Acme" not in json.dumps(events)


def test_uk_malformed_records_get_field_paths() -> None:
    mapped = uk.map_resource(
        uk.Resource.TRANSACTIONS, _load("uk/malformed-transactions.json"), customer_id="c", institution="alpha", now=NOW
    )
    errors = [i.reason if isinstance(i, ItemError) else None for i in mapped.items]
    assert errors[0] is None
    assert errors[1] is not None and "Data.Transaction.1.Amount.Amount" in errors[1]
    assert errors[2] is not None and all(
        f in errors[2] for f in ("CreditDebitIndicator", "BookingDateTime", "Amount.Amount")
    )
    assert errors[3] is not None and "MerchantDetails.MerchantCategoryCode" in errors[3]
    assert "Kevin" not in " ".join(e for e in errors if e)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("Authorised", ConsentStatus.AUTHORISED),
        ("Revoked", ConsentStatus.REVOKED),
        ("Rejected", ConsentStatus.REJECTED),
        ("AUTH", ConsentStatus.AUTHORISED),
        ("EXPD", ConsentStatus.EXPIRED),
        ("CANC", ConsentStatus.REVOKED),
        ("AWAU", ConsentStatus.AWAITING_AUTHORISATION),
    ],
)
def test_uk_consent_statuses(code: str, expected: ConsentStatus) -> None:
    doc = _load("uk/account-access-consent.json")
    doc["Data"]["Status"] = code
    upsert = uk.map_consent(doc, customer_id="c", institution="alpha")
    assert upsert.status is expected
    assert upsert.scopes == sorted(
        [DataScope.ACCOUNTS, DataScope.CREDIT_CARDS, DataScope.LOANS, DataScope.BALANCES, DataScope.TRANSACTIONS]
    )


def test_uk_v4_consent_keeps_its_reason() -> None:
    upsert = uk.map_consent(_load("uk/account-access-consent-v4-cancelled.json"), customer_id="c", institution="a")
    assert upsert.status is ConsentStatus.REVOKED and upsert.reason == "U004"


def test_belvo_new_transactions() -> None:
    mapped = belvo.map_webhook(_load("belvo/new-transactions-mx.json"), now=NOW)
    events = _events(mapped.items)
    assert mapped.customer_id == "CURP-GOMA850101HDFRRN09"
    assert [e["payload"]["direction"] for e in events] == ["credit", "debit", "debit"]
    assert events[0]["payload"]["amount"] == "28500.00" and events[0]["payload"]["is_payroll"] is True
    assert events[1]["payload"]["mcc"] == "5411"
    text = json.dumps(events)
    assert "Mariana" not in text and "OXXO" not in text and "4057068115181" not in text


def test_belvo_updates_are_new_versions_and_deletions_remove() -> None:
    updated = _events(belvo.map_webhook(_load("belvo/transactions-updated-co.json"), now=NOW).items)
    assert updated[0]["type"] == "transaction.updated"
    assert updated[0]["source_event_id"].endswith("|updated|b71c2d0e9f5a4b8c9d2e1f3a4b5c6d7e")
    deleted = _events(belvo.map_webhook(_load("belvo/transactions-deleted-cl.json"), now=NOW).items)
    assert [(e["type"], e["payload"]["transaction_id"]) for e in deleted] == [
        ("transaction.deleted", "cl-txn-1"),
        ("transaction.deleted", "cl-txn-2"),
    ]


def test_belvo_malformed_records_and_other_webhook_types() -> None:
    mapped = belvo.map_webhook(_load("belvo/malformed-transactions-mx.json"), now=NOW)
    kinds = [isinstance(i, ItemError) for i in mapped.items]
    assert kinds == [False, True, True, True]
    errors = [i for i in mapped.items if isinstance(i, ItemError)]
    assert "data.transactions.1.amount" in errors[0].reason
    assert "Mariana" not in errors[1].reason
    assert belvo.map_webhook(_load("belvo/accounts-webhook.json"), now=NOW).items == []
    with pytest.raises(DocumentError, match="webhook_code"):
        belvo.map_webhook({**_load("belvo/new-transactions-mx.json"), "webhook_code": "exploded"}, now=NOW)
