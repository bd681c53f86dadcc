"""Belvo-style aggregator webhooks (Mexico, Colombia, Chile) → canonical transaction events.

Belvo's own TRANSACTIONS webhooks announce counts; the aggregator connector inlines the transactions it
fetched (`data.transactions`, the `GET /api/transactions/` objects) and, for deletions, the ids
(`data.deleted_transactions`). The customer is the link's `external_id` (the bank's customer id).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field, ValidationError

from ingest_openfinance.domain.mappers.aggregator_codes import BELVO_CATEGORIES
from ingest_openfinance.domain.mappers.common import (
    Amount,
    DocumentError,
    ItemError,
    Mapped,
    SourceModel,
    as_datetime,
    canonical,
    field_errors,
)
from prometeo.contracts.envelope import EventPayload
from prometeo.contracts.events import (
    Direction,
    TransactionBookedV1,
    TransactionDeletedV1,
    TransactionKind,
    TransactionPendingV1,
    TransactionUpdatedV1,
)

SOURCE = "belvo"
NEW_CODES = frozenset({"historical_update", "new_transactions_available"})
UPDATED, DELETED = "transactions_updated", "transactions_deleted"


class _Envelope(SourceModel):
    webhook_id: str = Field(min_length=1, max_length=128)
    webhook_type: str
    webhook_code: str
    link_id: str = Field(min_length=1, max_length=128)
    external_id: str | None = Field(default=None, max_length=64)
    data: dict[str, Any]


class _AccountRef(SourceModel):
    id: str = Field(min_length=1, max_length=128)


class _Transaction(SourceModel):
    id: str = Field(min_length=1, max_length=128)
    account: _AccountRef
    amount: Amount = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    type: str = Field(pattern=r"^(INFLOW|OUTFLOW)$")
    value_date: date
    category: str | None = None
    mcc: str | None = Field(default=None, pattern=r"^\d{4}$")
    status: str | None = Field(default=None, pattern=r"^(PENDING|PROCESSED|UNCATEGORIZED)$")


class _Deleted(SourceModel):
    id: str = Field(min_length=1, max_length=128)
    account_id: str = Field(min_length=1, max_length=128)


_PAYROLL_CATEGORIES = frozenset({"Income & Payments", "Salary", "Payroll"})


def _transaction(envelope: _Envelope, customer: str, raw: Any) -> dict[str, Any]:
    txn = _Transaction.model_validate(raw)
    booked = as_datetime(txn.value_date)
    direction = Direction.CREDIT if txn.type == "INFLOW" else Direction.DEBIT
    kind = None
    if txn.category is not None:
        if txn.category not in BELVO_CATEGORIES:
            raise ValueError(f"category: not a Belvo category (expected one of {', '.join(BELVO_CATEGORIES)})")
        kind = BELVO_CATEGORIES[txn.category]
        if kind is TransactionKind.PAYROLL and direction is Direction.DEBIT:
            kind = TransactionKind.TRANSFER
    fields: dict[str, Any] = {
        "account_id": txn.account.id,
        "transaction_id": txn.id,
        "direction": direction,
        "amount": txn.amount,
        "currency": txn.currency,
        "booked_at": booked,
        "mcc": txn.mcc,
        "is_payroll": txn.type == "INFLOW" and txn.category in _PAYROLL_CATEGORIES,
        "kind": kind,
    }
    sid = f"{envelope.link_id}|{txn.id}"
    payload: EventPayload
    if txn.status == "PENDING":
        held = TransactionPendingV1(**fields, status="processing")
        return canonical(customer, SOURCE, f"{sid}|pending", held, booked)
    if envelope.webhook_code == UPDATED:
        # Each update is a new version: the webhook id tells a retried delivery from a later correction.
        payload, sid = TransactionUpdatedV1(**fields), f"{sid}|updated|{envelope.webhook_id}"
    else:
        payload = TransactionBookedV1(**fields)
    return canonical(customer, SOURCE, sid, payload, booked)


def _deleted(envelope: _Envelope, customer: str, raw: Any, account_id: Any, now: datetime) -> dict[str, Any]:
    if isinstance(raw, str):
        raw = {"id": raw, "account_id": account_id}
    gone = _Deleted.model_validate(raw)
    payload = TransactionDeletedV1(account_id=gone.account_id, transaction_id=gone.id)
    return canonical(customer, SOURCE, f"{envelope.link_id}|{gone.id}|deleted", payload, now)


def map_webhook(document: Any, *, now: datetime) -> Mapped:
    """One webhook delivery → one item per transaction; other webhook types carry nothing to ingest."""
    try:
        envelope = _Envelope.model_validate(document)
    except ValidationError as exc:
        raise DocumentError("body", field_errors(exc, "")) from None
    if envelope.webhook_type != "TRANSACTIONS":
        return Mapped(customer_id=envelope.external_id or "")
    if not envelope.external_id:
        raise DocumentError("external_id", "required: it names the customer the link belongs to")
    customer = envelope.external_id
    if envelope.webhook_code in NEW_CODES or envelope.webhook_code == UPDATED:
        key = "transactions"
    elif envelope.webhook_code == DELETED:
        key = "deleted_transactions"
    else:
        raise DocumentError(
            "webhook_code",
            f"unsupported for TRANSACTIONS: expected one of {', '.join(sorted(NEW_CODES | {UPDATED, DELETED}))}",
        )
    raws = envelope.data.get(key)
    if not isinstance(raws, list):
        raise DocumentError(f"data.{key}", "required array")
    mapped = Mapped(customer_id=customer)
    for index, raw in enumerate(raws):
        try:
            if key == "transactions":
                mapped.items.append(_transaction(envelope, customer, raw))
            else:
                mapped.items.append(_deleted(envelope, customer, raw, envelope.data.get("account_id"), now))
        except ValidationError as exc:
            mapped.items.append(ItemError(field_errors(exc, f"data.{key}.{index}.")))
        except ValueError as exc:
            mapped.items.append(ItemError(f"data.{key}.{index}.{exc}"))
    return mapped
