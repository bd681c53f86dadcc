"""Open Finance Brasil resources (accounts 2.x, credit-cards 2.x, loans/financings/overdraft, investments,
consents) → canonical items. One source record becomes exactly one canonical event, so per-item answers
line up with `data[i]`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import Field, ValidationError, model_validator

from ingest_openfinance.domain.mappers import brasil_codes as codes
from ingest_openfinance.domain.mappers.common import (
    Amount,
    DocumentError,
    ItemError,
    Mapped,
    SourceDate,
    SourceDateTime,
    SourceModel,
    as_datetime,
    canonical,
    field_errors,
    records,
)
from ingest_openfinance.domain.mappers.consents import BRASIL_REJECTION, BRASIL_STATUS, ConsentUpsert, brasil_scopes
from prometeo.contracts import ProductCode
from prometeo.contracts.envelope import EventPayload
from prometeo.contracts.events import (
    AccountOpenedV1,
    BalanceSnapshotV1,
    ConsentStatus,
    CustomerProfiledV1,
    Direction,
    ProductHeldV1,
    TransactionBookedV1,
    TransactionKind,
    TransactionPendingV1,
)
from prometeo.contracts.ingest_api import BrasilResource

SOURCE = "openfinance-brasil"


Resource = BrasilResource  # the contract's enum (prometeo.contracts.ingest_api), the gateway documents it too


NEEDS_PARENT = frozenset({Resource.BALANCES, Resource.ACCOUNT_TRANSACTIONS, Resource.CREDIT_CARD_TRANSACTIONS})


class _Money(SourceModel):
    amount: Amount
    currency: str = Field(default="BRL", min_length=3, max_length=3)


class _Account(SourceModel):
    accountId: str = Field(min_length=1, max_length=100)
    type: str
    brandName: str | None = None


class _Balance(SourceModel):
    availableAmount: _Money
    updateDateTime: SourceDateTime | None = None


class _AccountTransaction(SourceModel):
    transactionId: str = Field(min_length=1, max_length=100)
    creditDebitType: str
    type: str | None = None
    completedAuthorisedPaymentType: str | None = None  # absent in accounts 1.x: a completed entry
    transactionAmount: _Money | None = None
    amount: Amount | None = None  # accounts 1.x
    transactionCurrency: str | None = None
    transactionDateTime: SourceDateTime | None = None
    transactionDate: SourceDate | None = None

    @model_validator(mode="after")
    def _has_amount_and_date(self) -> _AccountTransaction:
        if self.transactionAmount is None and self.amount is None:
            raise ValueError("transactionAmount (or amount) is required")
        if self.transactionDateTime is None and self.transactionDate is None:
            raise ValueError("transactionDateTime (or transactionDate) is required")
        return self


class _CardAccount(SourceModel):
    creditCardAccountId: str = Field(min_length=1, max_length=100)
    brandName: str | None = None


class _CardTransaction(SourceModel):
    transactionId: str = Field(min_length=1, max_length=100)
    creditDebitType: str
    transactionType: str
    amount: _Money
    brazilianAmount: _Money | None = None
    transactionDate: SourceDate | None = None
    transactionDateTime: SourceDateTime | None = None
    payeeMCC: int | None = Field(default=None, ge=0, le=9999)

    @model_validator(mode="after")
    def _has_date(self) -> _CardTransaction:
        if self.transactionDateTime is None and self.transactionDate is None:
            raise ValueError("transactionDateTime (or transactionDate) is required")
        return self


class _Contract(SourceModel):
    contractId: str = Field(min_length=1, max_length=100)
    productType: str
    productSubType: str | None = None
    brandName: str | None = None


class _Investment(SourceModel):
    investmentId: str = Field(min_length=1, max_length=100)
    brandName: str | None = None


class _PersonalIdentification(SourceModel):
    # Only what a coarse profile needs: name, documents, filiation and contacts are dropped here.
    personalId: str = Field(min_length=1, max_length=100)
    birthDate: SourceDate


_AGE_BANDS = ((65, "65+"), (55, "55-64"), (45, "45-54"), (35, "35-44"), (25, "25-34"), (18, "18-24"))


def age_band(birth: date, today: date) -> str:
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    for floor, band in _AGE_BANDS:
        if age >= floor:
            return band
    raise ValueError("birthDate: customers under 18 are not profiled for cross-sell")


def _direction(value: str) -> Direction:
    codes.known(codes.CREDIT_DEBIT, value, "creditDebitType")
    return codes.CREDIT_DEBIT[value]


class _Unsupported(ValueError):
    """A known, well-formed record that Prometeo does not record: answered `unsupported`, not `invalid`."""


def _loan_product(contract: _Contract) -> ProductCode:
    codes.known(codes.CONTRACT_TYPES, contract.productType, "productType")
    if contract.productSubType is not None:
        codes.known(codes.CONTRACT_SUBTYPES, contract.productSubType, "productSubType")
        meaning = codes.CONTRACT_SUBTYPES[contract.productSubType]
    else:
        meaning = codes.CONTRACT_TYPES[contract.productType]
    if isinstance(meaning, codes.Unsupported):
        raise _Unsupported(f"productSubType: {meaning.reason}")
    return meaning


class _Context:
    def __init__(
        self,
        resource: Resource,
        customer_id: str,
        institution: str,
        parent_id: str | None,
        as_of: datetime | None,
        now: datetime,
    ) -> None:
        self.resource, self.customer_id, self.institution = resource, customer_id, institution
        self.parent_id, self.now = parent_id or "", now
        # The document's own time (meta.requestDateTime), None when absent or unreadable: never the clock
        # where a time is part of an event's identity.
        self.requested_at = as_of
        self.as_of = as_of or now

    def event(self, local_id: str, payload: EventPayload, occurred_at: datetime | None = None) -> dict[str, Any]:
        # Ids are unique per transmitting institution only; re-sent pages map to the same source_event_id.
        sid = f"{self.institution}|{self.resource.value}|{self.parent_id}|{local_id}"
        return canonical(self.customer_id, SOURCE, sid, payload, occurred_at or self.as_of)


def _account(ctx: _Context, raw: Any) -> dict[str, Any]:
    acc = _Account.model_validate(raw)
    codes.known(codes.ACCOUNT_TYPES, acc.type, "type")
    meaning = codes.ACCOUNT_TYPES[acc.type]
    if isinstance(meaning, ProductCode):
        payload: EventPayload = ProductHeldV1(product=meaning, at_other_institution=True, institution=ctx.institution)
    else:
        payload = AccountOpenedV1(account_id=acc.accountId, account_type=meaning)
    return ctx.event(acc.accountId, payload)


def _balance(ctx: _Context, raw: Any) -> dict[str, Any]:
    bal = _Balance.model_validate(raw)
    # The time is the balance's identity (dedupe key) and its age: accounts 1.x payloads without
    # updateDateTime fall back to the response's requestDateTime, never to the ingestion clock.
    if bal.updateDateTime is not None:
        as_of = as_datetime(bal.updateDateTime)
    elif ctx.requested_at is not None:
        as_of = ctx.requested_at
    else:
        raise ValueError("updateDateTime: required (and meta.requestDateTime is absent or not a date-time)")
    payload = BalanceSnapshotV1(
        account_id=ctx.parent_id,
        available=bal.availableAmount.amount,
        currency=bal.availableAmount.currency,
        as_of=as_of,
    )
    return ctx.event(as_of.isoformat(), payload, as_of)


def _account_transaction(ctx: _Context, raw: Any) -> dict[str, Any]:
    txn = _AccountTransaction.model_validate(raw)
    if txn.transactionAmount is not None:
        amount, currency = txn.transactionAmount.amount, txn.transactionAmount.currency
    elif txn.amount is not None:
        amount, currency = txn.amount, txn.transactionCurrency or "BRL"
    else:  # unreachable: the model's validator refuses a transaction without either
        raise ValueError("transactionAmount (or amount) is required")
    booked = _booked(txn.transactionDateTime, txn.transactionDate)
    direction = _direction(txn.creditDebitType)
    if txn.type is None:
        kind = TransactionKind.OTHER  # accounts 1.x entries may lack a type
    else:
        codes.known(codes.ACCOUNT_TRANSACTION_TYPES, txn.type, "type")
        kind = codes.ACCOUNT_TRANSACTION_TYPES[txn.type]
    settlement = "TRANSACAO_EFETIVADA"
    if txn.completedAuthorisedPaymentType is not None:
        settlement = txn.completedAuthorisedPaymentType
        codes.known(codes.SETTLEMENT, settlement, "completedAuthorisedPaymentType")
    body: dict[str, Any] = {
        "account_id": ctx.parent_id,
        "transaction_id": txn.transactionId,
        "direction": direction,
        "amount": abs(amount),
        "currency": currency,
        "booked_at": booked,
        "is_payroll": kind is TransactionKind.PAYROLL and direction is Direction.CREDIT,
        "kind": kind,
    }
    pending = codes.SETTLEMENT[settlement]
    if pending is not None:
        # Its own identity: when the entry settles (same id or a new one), the booking is new, not a duplicate.
        held = TransactionPendingV1(**body, status=pending)
        return ctx.event(f"{txn.transactionId}|pending|{pending}", held, booked)
    return ctx.event(txn.transactionId, TransactionBookedV1(**body), booked)


def _booked(at: datetime | None, on: date | None) -> datetime:
    """transactionDateTime, else transactionDate (the models' validators require one of them)."""
    when = at or on
    if when is None:
        raise ValueError("transactionDateTime (or transactionDate) is required")
    return as_datetime(when)


def _card_account(ctx: _Context, raw: Any) -> dict[str, Any]:
    card = _CardAccount.model_validate(raw)
    payload = ProductHeldV1(product=ProductCode.CREDIT_CARD, at_other_institution=True, institution=ctx.institution)
    return ctx.event(card.creditCardAccountId, payload)


def _card_transaction(ctx: _Context, raw: Any) -> dict[str, Any]:
    txn = _CardTransaction.model_validate(raw)
    money = txn.brazilianAmount or txn.amount
    booked = _booked(txn.transactionDateTime, txn.transactionDate)
    indicated = _direction(txn.creditDebitType)
    codes.known(codes.CARD_TRANSACTION_TYPES, txn.transactionType, "transactionType")
    meaning = codes.CARD_TRANSACTION_TYPES[txn.transactionType]
    kind = meaning.kind
    if kind is TransactionKind.PURCHASE and txn.payeeMCC is None and indicated is Direction.CREDIT:
        # A payment credited to the card with no merchant: the bill being paid, not a purchase.
        kind = TransactionKind.BILL_PAYMENT
    payload = TransactionBookedV1(
        account_id=ctx.parent_id,
        transaction_id=txn.transactionId,
        direction=indicated if meaning.direction is None or kind is TransactionKind.BILL_PAYMENT else meaning.direction,
        amount=abs(money.amount),
        currency=money.currency,
        booked_at=booked,
        mcc=f"{txn.payeeMCC:04d}" if txn.payeeMCC is not None else None,
        kind=kind,
    )
    return ctx.event(txn.transactionId, payload, booked)


def _contract(ctx: _Context, raw: Any) -> dict[str, Any]:
    contract = _Contract.model_validate(raw)
    payload = ProductHeldV1(product=_loan_product(contract), at_other_institution=True, institution=ctx.institution)
    return ctx.event(contract.contractId, payload)


def _investment(ctx: _Context, raw: Any) -> dict[str, Any]:
    inv = _Investment.model_validate(raw)
    payload = ProductHeldV1(product=ProductCode.INVESTMENT_FUND, at_other_institution=True, institution=ctx.institution)
    return ctx.event(inv.investmentId, payload)


def _personal_identification(ctx: _Context, raw: Any) -> dict[str, Any]:
    person = _PersonalIdentification.model_validate(raw)
    band = age_band(person.birthDate, ctx.now.date())
    payload = CustomerProfiledV1(age_band=band)
    # A new event only when the band changes: re-sent identifications are duplicates.
    return ctx.event(f"{person.personalId}|{band}", payload)


_MAPPERS: dict[Resource, Callable[[_Context, Any], dict[str, Any]]] = {
    Resource.ACCOUNTS: _account,
    Resource.BALANCES: _balance,
    Resource.ACCOUNT_TRANSACTIONS: _account_transaction,
    Resource.CREDIT_CARD_ACCOUNTS: _card_account,
    Resource.CREDIT_CARD_TRANSACTIONS: _card_transaction,
    Resource.LOANS: _contract,
    Resource.FINANCINGS: _contract,
    Resource.INVOICE_FINANCINGS: _contract,
    Resource.UNARRANGED_OVERDRAFT: _contract,
    Resource.INVESTMENTS: _investment,
    Resource.PERSONAL_IDENTIFICATIONS: _personal_identification,
}


def _request_time(document: Any) -> datetime | None:
    meta = document.get("meta") if isinstance(document, dict) else None
    raw = meta.get("requestDateTime") if isinstance(meta, dict) else None
    try:
        return as_datetime(datetime.fromisoformat(raw.strip())) if isinstance(raw, str) else None
    except ValueError:
        return None


def map_resource(
    resource: Resource,
    document: Any,
    *,
    customer_id: str | None,
    institution: str,
    parent_id: str | None,
    now: datetime,
) -> Mapped:
    """One GET response body of `resource` → a canonical item (or an error) per record in `data`."""
    if not customer_id:
        raise DocumentError("header.x-customer-id", "required: Open Finance Brasil resources do not carry the CPF")
    if resource in NEEDS_PARENT and not parent_id:
        raise DocumentError("header.x-account-id", f"required for {resource.value} (the accountId of the path)")
    ctx = _Context(resource, customer_id, institution, parent_id, _request_time(document), now)
    mapper = _MAPPERS[resource]
    mapped = Mapped(customer_id=customer_id)
    for index, raw in enumerate(records(document, ("data",))):
        try:
            mapped.items.append(mapper(ctx, raw))
        except ValidationError as exc:
            mapped.items.append(ItemError(field_errors(exc, f"data.{index}.")))
        except _Unsupported as exc:
            mapped.items.append(ItemError(f"data.{index}.{exc}", unsupported=True))
        except ValueError as exc:
            mapped.items.append(ItemError(f"data.{index}.{exc}"))
    return mapped


# ---- consents ------------------------------------------------------------------------------------


class _Rejection(SourceModel):
    rejectedBy: str | None = None
    code: str | None = None  # consents 1.x
    reason: dict[str, Any] | None = None  # consents 2.x/3.x: {code, additionalInformation}

    @property
    def reason_code(self) -> str | None:
        code = self.reason.get("code") if self.reason else None
        return code if isinstance(code, str) else self.code


class _Consent(SourceModel):
    consentId: str = Field(min_length=1, max_length=256)
    status: str
    permissions: list[str] = Field(min_length=1)
    expirationDateTime: datetime | None = None
    rejection: _Rejection | None = None


def consent_customer(document: Any) -> str | None:
    """The CPF/CNPJ of a consent request (`loggedUser.document.identification`), if the document has it."""
    data: Any = document.get("data") if isinstance(document, dict) else None
    try:
        ident = data["loggedUser"]["document"]["identification"]
    except (KeyError, TypeError):
        return None
    return ident if isinstance(ident, str) and ident else None


def map_consent(
    document: Any, *, customer_id: str | None, institution: str, now: datetime | None = None
) -> ConsentUpsert:
    """A consent as `GET /consents/{consentId}` returns it → the registry's view. Errors raise DocumentError.
    An AUTHORISED consent whose expirationDateTime is past `now` is expired, whatever its status says."""
    customer = customer_id or consent_customer(document)
    if not customer:
        raise DocumentError("header.x-customer-id", "required (or data.loggedUser.document.identification)")
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise DocumentError("data", "required object")
    try:
        consent = _Consent.model_validate(document["data"])
    except ValidationError as exc:
        raise DocumentError("data", field_errors(exc, "data.")) from None
    if consent.status not in BRASIL_STATUS:
        raise DocumentError("data.status", f"must be one of {', '.join(BRASIL_STATUS)}")
    status = BRASIL_STATUS[consent.status]
    reason = consent.rejection.reason_code if consent.rejection else None
    if status is ConsentStatus.REJECTED and reason is not None:
        if reason not in BRASIL_REJECTION:
            raise DocumentError("data.rejection.reason.code", f"must be one of {', '.join(BRASIL_REJECTION)}")
        status = BRASIL_REJECTION[reason]
    expires = as_datetime(consent.expirationDateTime) if consent.expirationDateTime else None
    if status is ConsentStatus.AUTHORISED and expires is not None and now is not None and expires <= now:
        status, reason = ConsentStatus.EXPIRED, "CONSENT_EXPIRED"
    scopes = brasil_scopes(consent.permissions)
    if not scopes:
        raise DocumentError("data.permissions", "grant no data scope Prometeo uses")
    return ConsentUpsert(
        customer_id=customer,
        consent_id=consent.consentId,
        institution=institution,
        scopes=scopes,
        status=status,
        reason=reason,
        expires_at=expires,
    )
