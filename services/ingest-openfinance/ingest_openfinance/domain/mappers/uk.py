"""UK Open Banking Read/Write account information (v3.1; v4 consent codes) → canonical items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field, ValidationError

from ingest_openfinance.domain.mappers.aggregator_codes import UK_SUBFAMILIES
from ingest_openfinance.domain.mappers.common import Amount as DecimalAmount
from ingest_openfinance.domain.mappers.common import (
    DocumentError,
    ItemError,
    Mapped,
    SourceModel,
    as_datetime,
    canonical,
    field_errors,
    records,
)
from ingest_openfinance.domain.mappers.consents import UK_STATUS, ConsentUpsert, uk_scopes
from prometeo.contracts import ProductCode
from prometeo.contracts.envelope import EventPayload
from prometeo.contracts.events import (
    AccountOpenedV1,
    BalanceSnapshotV1,
    ConsentStatus,
    Direction,
    ProductHeldV1,
    TransactionBookedV1,
    TransactionDeletedV1,
    TransactionKind,
    TransactionPendingV1,
)
from prometeo.contracts.ingest_api import UkResource

SOURCE = "openbanking-uk"


Resource = UkResource  # the contract's enum (prometeo.contracts.ingest_api)


class _Amount(SourceModel):
    Amount: DecimalAmount = Field(ge=0)
    Currency: str = Field(pattern=r"^[A-Z]{3}$")


class _Account(SourceModel):
    AccountId: str = Field(min_length=1, max_length=40)
    Currency: str = Field(pattern=r"^[A-Z]{3}$")
    AccountSubType: str | None = None
    OpeningDate: datetime | None = None


class _Balance(SourceModel):
    AccountId: str = Field(min_length=1, max_length=40)
    CreditDebitIndicator: str = Field(pattern=r"^(Credit|Debit)$")
    Type: str
    DateTime: datetime
    Amount: _Amount


class _BankTransactionCode(SourceModel):
    Code: str = Field(min_length=1, max_length=70)
    SubCode: str = Field(min_length=1, max_length=70)


class _Merchant(SourceModel):
    MerchantCategoryCode: str | None = Field(default=None, pattern=r"^\d{4}$")


class _Transaction(SourceModel):
    AccountId: str = Field(min_length=1, max_length=40)
    TransactionId: str = Field(min_length=1, max_length=210)
    CreditDebitIndicator: str = Field(pattern=r"^(Credit|Debit)$")
    Status: str = Field(pattern=r"^(Booked|Pending|Rejected)$")
    BookingDateTime: datetime
    Amount: _Amount
    ProprietaryBankTransactionCode: dict[str, Any] | None = None
    BankTransactionCode: _BankTransactionCode | None = None
    MerchantDetails: _Merchant | None = None


# Savings, cards and credit held at another UK institution are products held elsewhere.
_HELD: dict[str, ProductCode] = {
    "Savings": ProductCode.SAVINGS,
    "CreditCard": ProductCode.CREDIT_CARD,
    "Loan": ProductCode.PERSONAL_LOAN,
    "Mortgage": ProductCode.MORTGAGE,
}
_OPENED = {"CurrentAccount": "checking", "ChargeCard": "credit_card", "EMoney": "prepaid", "PrePaidCard": "prepaid"}


def _direction(indicator: str) -> Direction:
    return Direction.CREDIT if indicator == "Credit" else Direction.DEBIT


def _account(customer: str, inst: str, now: datetime, raw: Any) -> dict[str, Any]:
    acc = _Account.model_validate(raw)
    sub = acc.AccountSubType or "CurrentAccount"
    payload: EventPayload
    if sub in _HELD:
        payload = ProductHeldV1(
            product=_HELD[sub],
            at_other_institution=True,
            institution=inst,
            since=acc.OpeningDate.date() if acc.OpeningDate else None,
        )
    elif sub in _OPENED:
        payload = AccountOpenedV1(
            account_id=acc.AccountId,
            account_type=_OPENED[sub],
            currency=acc.Currency,
            opened_on=acc.OpeningDate.date() if acc.OpeningDate else None,
        )
    else:
        raise ValueError("AccountSubType: unknown sub-type")
    return canonical(customer, SOURCE, f"{inst}|account|{acc.AccountId}", payload, now)


def _balance(customer: str, inst: str, now: datetime, raw: Any) -> dict[str, Any]:
    bal = _Balance.model_validate(raw)
    signed = bal.Amount.Amount if bal.CreditDebitIndicator == "Credit" else -bal.Amount.Amount
    as_of = as_datetime(bal.DateTime)
    payload = BalanceSnapshotV1(account_id=bal.AccountId, available=signed, currency=bal.Amount.Currency, as_of=as_of)
    sid = f"{inst}|balance|{bal.AccountId}|{bal.Type}|{as_of.isoformat()}"
    return canonical(customer, SOURCE, sid, payload, as_of)


def _transaction(customer: str, inst: str, now: datetime, raw: Any) -> dict[str, Any]:
    txn = _Transaction.model_validate(raw)
    booked = as_datetime(txn.BookingDateTime)
    sid = f"{inst}|transaction|{txn.AccountId}|{txn.TransactionId}"
    payload: EventPayload
    if txn.Status == "Rejected":
        # A pending transaction that is later rejected never happened: remove it from the features.
        payload = TransactionDeletedV1(account_id=txn.AccountId, transaction_id=txn.TransactionId)
        return canonical(customer, SOURCE, f"{sid}|rejected", payload, booked)
    code = (txn.ProprietaryBankTransactionCode or {}).get("Code")
    kind = None
    if txn.BankTransactionCode is not None:
        sub = txn.BankTransactionCode.SubCode
        if sub not in UK_SUBFAMILIES:
            raise ValueError("BankTransactionCode.SubCode: not an ISO 20022 sub-family Prometeo maps")
        kind = UK_SUBFAMILIES[sub]
    direction = _direction(txn.CreditDebitIndicator)
    payroll = kind is TransactionKind.PAYROLL or (isinstance(code, str) and code.lower() in ("salary", "payroll"))
    body: dict[str, Any] = {
        "account_id": txn.AccountId,
        "transaction_id": txn.TransactionId,
        "direction": direction,
        "amount": txn.Amount.Amount,
        "currency": txn.Amount.Currency,
        "booked_at": booked,
        "mcc": txn.MerchantDetails.MerchantCategoryCode if txn.MerchantDetails else None,
        "is_payroll": payroll and direction is Direction.CREDIT,
        "kind": kind,
    }
    if txn.Status == "Pending":
        # Held apart under its own id: the Booked version that follows is new, not its duplicate.
        held = TransactionPendingV1(**body, status="processing")
        return canonical(customer, SOURCE, f"{sid}|pending", held, booked)
    return canonical(customer, SOURCE, sid, TransactionBookedV1(**body), booked)


_MAPPERS: dict[Resource, tuple[str, Callable[[str, str, datetime, Any], dict[str, Any]]]] = {
    Resource.ACCOUNTS: ("Account", _account),
    Resource.BALANCES: ("Balance", _balance),
    Resource.TRANSACTIONS: ("Transaction", _transaction),
}


def map_resource(
    resource: Resource, document: Any, *, customer_id: str | None, institution: str, now: datetime
) -> Mapped:
    """One read response (`{Data: {Account|Balance|Transaction: [...]}, Links, Meta}`) → one item per record."""
    if not customer_id:
        raise DocumentError("header.x-customer-id", "required: UK account information carries no customer id")
    key, mapper = _MAPPERS[resource]
    mapped = Mapped(customer_id=customer_id)
    for index, raw in enumerate(records(document, ("Data", key))):
        try:
            mapped.items.append(mapper(customer_id, institution, now, raw))
        except ValidationError as exc:
            mapped.items.append(ItemError(field_errors(exc, f"Data.{key}.{index}.")))
        except ValueError as exc:
            mapped.items.append(ItemError(f"Data.{key}.{index}.{exc}"))
    return mapped


class _Consent(SourceModel):
    ConsentId: str = Field(min_length=1, max_length=128)
    Status: str
    StatusReason: list[dict[str, Any]] | dict[str, Any] | None = None
    Permissions: list[str] = Field(min_length=1)
    ExpirationDateTime: datetime | None = None


def _reason(consent: _Consent) -> str | None:
    reasons = consent.StatusReason if isinstance(consent.StatusReason, list) else [consent.StatusReason or {}]
    code = next((r.get("StatusReasonCode") for r in reasons if isinstance(r, dict)), None)
    return code if isinstance(code, str) else None


def map_consent(document: Any, *, customer_id: str | None, institution: str) -> ConsentUpsert:
    """An `account-access-consents` response (v3.1 names or v4 codes) → the registry's view."""
    if not customer_id:
        raise DocumentError("header.x-customer-id", "required")
    if not isinstance(document, dict) or not isinstance(document.get("Data"), dict):
        raise DocumentError("Data", "required object")
    try:
        consent = _Consent.model_validate(document["Data"])
    except ValidationError as exc:
        raise DocumentError("Data", field_errors(exc, "Data.")) from None
    if consent.Status not in UK_STATUS:
        raise DocumentError("Data.Status", f"must be one of {', '.join(UK_STATUS)}")
    scopes = uk_scopes(consent.Permissions)
    if not scopes:
        raise DocumentError("Data.Permissions", "grant no data scope Prometeo uses")
    status: ConsentStatus = UK_STATUS[consent.Status]
    return ConsentUpsert(
        customer_id=customer_id,
        consent_id=consent.ConsentId,
        institution=institution,
        scopes=scopes,
        status=status,
        reason=_reason(consent),
        expires_at=as_datetime(consent.ExpirationDateTime) if consent.ExpirationDateTime else None,
    )
