"""Consent records and the gate: may this event be processed for cross-sell analytics?"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from prometeo.contracts import ProductCode
from prometeo.contracts.envelope import EventPayload
from prometeo.contracts.events import ConsentStatus, DataScope, ProductHeldV1, Purpose

ENDED_STATUSES = frozenset({ConsentStatus.REJECTED, ConsentStatus.REVOKED, ConsentStatus.EXPIRED})


class ConsentRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    consent_id: str
    institution: str
    scopes: frozenset[DataScope]
    purposes: frozenset[Purpose]
    status: ConsentStatus
    expires_at: datetime | None = None
    marketing_channels: tuple[str, ...] = ()
    jurisdiction: str | None = None
    # When this state was written (the event's time for a replayed event): a lagging replay of an older
    # consent event must not overwrite a newer state (an extension registered since, say).
    updated_at: datetime | None = None

    def active_at(self, now: datetime) -> bool:
        return self.status is ConsentStatus.AUTHORISED and (self.expires_at is None or self.expires_at > now)


class Refusal(StrEnum):
    NO_CONSENT = "no_consent"
    CONSENT_EXPIRED = "consent_expired"
    CONSENT_NOT_AUTHORISED = "consent_not_authorised"
    SCOPE_NOT_GRANTED = "scope_not_granted"
    PURPOSE_NOT_GRANTED = "purpose_not_granted"


_SCOPE_BY_TYPE: dict[str, DataScope] = {
    "account.opened": DataScope.ACCOUNTS,
    "account.closed": DataScope.ACCOUNTS,
    "balance.snapshot": DataScope.BALANCES,
    "transaction.booked": DataScope.TRANSACTIONS,
    "transaction.updated": DataScope.TRANSACTIONS,
    "transaction.deleted": DataScope.TRANSACTIONS,
    "transaction.pending": DataScope.TRANSACTIONS,
    "customer.profiled": DataScope.CUSTOMERS,
}

_SCOPE_BY_PRODUCT: dict[ProductCode, DataScope] = {
    ProductCode.CREDIT_CARD: DataScope.CREDIT_CARDS,
    ProductCode.PERSONAL_LOAN: DataScope.LOANS,
    ProductCode.AUTO_LOAN: DataScope.LOANS,
    ProductCode.MORTGAGE: DataScope.LOANS,
    ProductCode.INVESTMENT_FUND: DataScope.INVESTMENTS,
    ProductCode.SAVINGS: DataScope.ACCOUNTS,
    ProductCode.PAYROLL_ACCOUNT: DataScope.ACCOUNTS,
    ProductCode.BUSINESS_WORKING_CAPITAL: DataScope.LOANS,
    ProductCode.BUSINESS_OVERDRAFT: DataScope.LOANS,
    ProductCode.BUSINESS_RECEIVABLES_DISCOUNT: DataScope.LOANS,
    ProductCode.RURAL_CREDIT: DataScope.LOANS,
    ProductCode.MICROCREDIT: DataScope.LOANS,
}


def required_scope(event_type: str, payload: EventPayload) -> DataScope:
    if isinstance(payload, ProductHeldV1):
        return _SCOPE_BY_PRODUCT.get(payload.product, DataScope.CUSTOMERS)
    return _SCOPE_BY_TYPE.get(event_type, DataScope.CUSTOMERS)


def gate(consents: list[ConsentRecord], event_type: str, payload: EventPayload, now: datetime) -> Refusal | None:
    """None when some consent allows the event; otherwise the most specific reason it is refused."""
    if not consents:
        return Refusal.NO_CONSENT
    scope = required_scope(event_type, payload)
    reasons: list[Refusal] = []
    for consent in consents:
        if consent.status is not ConsentStatus.AUTHORISED:
            reasons.append(Refusal.CONSENT_NOT_AUTHORISED)
        elif not consent.active_at(now):
            reasons.append(Refusal.CONSENT_EXPIRED)
        elif Purpose.CROSS_SELL_ANALYTICS not in consent.purposes:
            reasons.append(Refusal.PURPOSE_NOT_GRANTED)
        elif scope not in consent.scopes:
            reasons.append(Refusal.SCOPE_NOT_GRANTED)
        else:
            return None
    # The reason nearest to success is the most useful to the caller.
    order = [
        Refusal.SCOPE_NOT_GRANTED,
        Refusal.PURPOSE_NOT_GRANTED,
        Refusal.CONSENT_EXPIRED,
        Refusal.CONSENT_NOT_AUTHORISED,
    ]
    return next(r for r in order if r in reasons)
