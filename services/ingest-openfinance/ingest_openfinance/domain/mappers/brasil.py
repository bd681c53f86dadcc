"""Open Finance Brasil resources (accounts 2.x, credit-cards 2.x, loans/financings/overdraft, investments,
consents) → canonical items. One source record becomes exactly one canonical event, so per-item answers
line up with `data[i]`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationError, model_validator

from ingest_openfinance.domain.mappers.common import (
    Amount,
    DocumentError,
    ItemError,
    Mapped,
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
)

SOURCE = "openfinance-brasil"


class Resource(StrEnum):
    ACCOUNTS = "accounts"
    BALANCES = "balances"
    ACCOUNT_TRANSACTIONS = "account-transactions"
    CREDIT_CARD_ACCOUNTS = "credit-card-accounts"
    CREDIT_CARD_TRANSACTIONS = "credit-card-transactions"
    LOANS = "loans"
    FINANCINGS = "financings"
    INVOICE_FINANCINGS = "invoice-financings"
    UNARRANGED_OVERDRAFT = "unarranged-accounts-overdraft"
    INVESTMENTS = "investments"
    PERSONAL_IDENTIFICATIONS = "personal-identifications"


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
    updateDateTime: datetime | None = None


class _AccountTransaction(SourceModel):
    transactionId: str = Field(min_length=1, max_length=100)
    creditDebitType: str
    type: str | None = None
    transactionAmount: _Money | None = None
    amount: Amount | None = None  # accounts 1.x
    transactionCurrency: str | None = None
    transactionDateTime: datetime | None = None
    transactionDate: date | None = None

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
    amount: _Money
    brazilianAmount: _Money | None = None
    transactionDate: date | None = None
    transactionDateTime: datetime | None = None
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
    birthDate: date


_AGE_BANDS = ((65, "65+"), (55, "55-64"), (45, "45-54"), (35, "35-44"), (25, "25-34"), (18, "18-24"))


def age_band(birth: date, today: date) -> str:
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    for floor, band in _AGE_BANDS:
        if age >= floor:
            return band
    raise ValueError("birthDate: customers under 18 are not profiled for cross-sell")


_DIRECTION = {"CREDITO": Direction.CREDIT, "DEBITO": Direction.DEBIT}
_ACCOUNT_TYPE = {"CONTA_DEPOSITO_A_VISTA": "checking", "CONTA_PAGAMENTO_PRE_PAGA": "prepaid"}
_PAYROLL_TYPES = frozenset({"FOLHA_PAGAMENTO", "PORTABILIDADE_SALARIO"})
_MORTGAGE = ("FINANCIAMENTO_HABITACIONAL", "HOME_EQUITY")


def _direction(value: str) -> Direction:
    try:
        return _DIRECTION[value]
    except KeyError:
        raise ValueError("creditDebitType must be CREDITO or DEBITO") from None


def _loan_product(contract: _Contract) -> ProductCode:
    sub = contract.productSubType or ""
    if contract.productType == "FINANCIAMENTOS_IMOBILIARIOS" or sub.startswith(_MORTGAGE):
        return ProductCode.MORTGAGE
    if "VEICULOS" in sub:
        return ProductCode.AUTO_LOAN
    return ProductCode.PERSONAL_LOAN


class _Context:
    def __init__(
        self,
        resource: Resource,
        customer_id: str,
        institution: str,
        parent_id: str | None,
        as_of: datetime,
        now: datetime,
    ) -> None:
        self.resource, self.customer_id, self.institution = resource, customer_id, institution
        self.parent_id, self.as_of, self.now = parent_id or "", as_of, now

    def event(self, local_id: str, payload: EventPayload, occurred_at: datetime | None = None) -> dict[str, Any]:
        # Ids are unique per transmitting institution only; re-sent pages map to the same source_event_id.
        sid = f"{self.institution}|{self.resource.value}|{self.parent_id}|{local_id}"
        return canonical(self.customer_id, SOURCE, sid, payload, occurred_at or self.as_of)


def _account(ctx: _Context, raw: Any) -> dict[str, Any]:
    acc = _Account.model_validate(raw)
    if acc.type == "CONTA_POUPANCA":
        payload: EventPayload = ProductHeldV1(
            product=ProductCode.SAVINGS, at_other_institution=True, institution=ctx.institution
        )
    elif acc.type in _ACCOUNT_TYPE:
        kind = _ACCOUNT_TYPE[acc.type]
        payload = AccountOpenedV1(account_id=acc.accountId, account_type=kind)
    else:
        raise ValueError(f"type: unknown account type (expected one of CONTA_POUPANCA, {', '.join(_ACCOUNT_TYPE)})")
    return ctx.event(acc.accountId, payload)


def _balance(ctx: _Context, raw: Any) -> dict[str, Any]:
    bal = _Balance.model_validate(raw)
    as_of = as_datetime(bal.updateDateTime) if bal.updateDateTime else ctx.as_of
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
    payload = TransactionBookedV1(
        account_id=ctx.parent_id,
        transaction_id=txn.transactionId,
        direction=_direction(txn.creditDebitType),
        amount=amount,
        currency=currency,
        booked_at=booked,
        is_payroll=txn.type in _PAYROLL_TYPES,
    )
    return ctx.event(txn.transactionId, payload, booked)


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
    payload = TransactionBookedV1(
        account_id=ctx.parent_id,
        transaction_id=txn.transactionId,
        direction=_direction(txn.creditDebitType),
        amount=abs(money.amount),
        currency=money.currency,
        booked_at=booked,
        mcc=f"{txn.payeeMCC:04d}" if txn.payeeMCC is not None else None,
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


def _request_time(document: Any, fallback: datetime) -> datetime:
    meta = document.get("meta") if isinstance(document, dict) else None
    raw = meta.get("requestDateTime") if isinstance(meta, dict) else None
    try:
        return as_datetime(datetime.fromisoformat(raw)) if isinstance(raw, str) else fallback
    except ValueError:
        return fallback


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
    ctx = _Context(resource, customer_id, institution, parent_id, _request_time(document, now), now)
    mapper = _MAPPERS[resource]
    mapped = Mapped(customer_id=customer_id)
    for index, raw in enumerate(records(document, ("data",))):
        try:
            mapped.items.append(mapper(ctx, raw))
        except ValidationError as exc:
            mapped.items.append(ItemError(field_errors(exc, f"data.{index}.")))
        except ValueError as exc:
            mapped.items.append(ItemError(f"data.{index}: {exc}"))
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


def map_consent(document: Any, *, customer_id: str | None, institution: str) -> ConsentUpsert:
    """A consent as `GET /consents/{consentId}` returns it → the registry's view. Errors raise DocumentError."""
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
    if status is ConsentStatus.REJECTED and reason in BRASIL_REJECTION:
        status = BRASIL_REJECTION[reason]
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
        expires_at=as_datetime(consent.expirationDateTime) if consent.expirationDateTime else None,
    )
