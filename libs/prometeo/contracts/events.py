"""Versioned event payloads. Named by what happened; one registry resolves (type, version) → model.

Amounts are Decimal (decimal strings on the wire). No payload carries names or document numbers:
the ingest edge pseudonymises identities into `customer_key` before anything reaches Kafka.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from prometeo.contracts.envelope import EventPayload, register
from prometeo.contracts.products import Channel, Objective, ProductCode

Money = Decimal


class DataScope(StrEnum):
    """What a data-sharing consent lets us read (mapped from each standard's permissions)."""

    ACCOUNTS = "accounts"
    BALANCES = "balances"
    TRANSACTIONS = "transactions"
    CREDIT_CARDS = "credit_cards"
    LOANS = "loans"
    INVESTMENTS = "investments"
    CUSTOMERS = "customers"


class ConsentStatus(StrEnum):
    AWAITING_AUTHORISATION = "awaiting_authorisation"
    AUTHORISED = "authorised"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"


class Purpose(StrEnum):
    """What processing a consent allows; every processing step declares the one it serves (docs/privacy.md)."""

    CROSS_SELL_ANALYTICS = "cross_sell_analytics"  # features, scores, offers (profiling)
    MARKETING = "marketing"  # contacting the customer with offers on a channel
    SENSITIVE_DATA = "sensitive_data"  # sensitive categories (health, religion, …) where a country's law allows


# The customer's jurisdiction (prometeo.privacy.jurisdictions): the law their data is processed under.
JurisdictionCode = Literal["BR", "MX", "CO", "AR", "CL"]


# ---- account-events.v1 ---------------------------------------------------------------------------


@register
class AccountOpenedV1(EventPayload):
    event_type = "account.opened"
    account_id: str
    account_type: Literal["checking", "savings", "prepaid", "credit_card", "loan", "investment"]
    currency: str = Field(default="BRL", min_length=3, max_length=3)
    opened_on: date | None = None


@register
class AccountClosedV1(EventPayload):
    event_type = "account.closed"
    account_id: str


@register
class BalanceSnapshotV1(EventPayload):
    event_type = "balance.snapshot"
    account_id: str
    available: Money
    currency: str = Field(default="BRL", min_length=3, max_length=3)
    as_of: datetime
    # Credit cards and overdraft lines: the total limit (then `available` is the unused part).
    credit_limit: Money | None = Field(default=None, ge=0)


class Direction(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


class TransactionKind(StrEnum):
    """What a money movement is, as the source standard classifies it. Only `purchase` is spend;
    `reversal` cancels spend; `cashback` and `bill_payment` (settling a card bill) are neither spend
    nor income. The payment rails (pix, ted, doc, boleto, transfer) are flows of their own."""

    PURCHASE = "purchase"
    REVERSAL = "reversal"
    CASHBACK = "cashback"
    BILL_PAYMENT = "bill_payment"
    FEE = "fee"
    INTEREST = "interest"
    CREDIT_OPERATION = "credit_operation"
    PIX = "pix"
    TED = "ted"
    DOC = "doc"
    BOLETO = "boleto"
    UTILITY_COLLECTION = "utility_collection"
    TRANSFER = "transfer"
    CARD = "card"
    PAYROLL = "payroll"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    INVESTMENT_INCOME = "investment_income"
    INVESTMENT_REDEMPTION = "investment_redemption"
    OTHER = "other"


class _TransactionBody(EventPayload):
    """The fields a booking and its corrections share (a correction carries the whole new version)."""

    account_id: str
    transaction_id: str
    direction: Direction
    amount: Money = Field(ge=0)
    currency: str = Field(default="BRL", min_length=3, max_length=3)
    booked_at: datetime
    mcc: str | None = Field(default=None, pattern=r"^\d{4}$")
    is_payroll: bool = False
    # None: a producer that does not classify (older events); aggregated by direction and MCC as before.
    kind: TransactionKind | None = None


@register
class TransactionBookedV1(_TransactionBody):
    event_type = "transaction.booked"


@register
class TransactionUpdatedV1(_TransactionBody):
    """A correction of an earlier booking."""

    event_type = "transaction.updated"


@register
class TransactionPendingV1(_TransactionBody):
    """An entry the source reports as not yet settled (future-dated or still processing). Held apart:
    aggregates ignore it, and the settled booking that follows is a new event, never its duplicate."""

    event_type = "transaction.pending"
    status: Literal["future", "processing"]


@register
class TransactionDeletedV1(EventPayload):
    event_type = "transaction.deleted"
    account_id: str
    transaction_id: str


@register
class ProductHeldV1(EventPayload):
    """The customer holds a product, here (`at_other_institution` false) or elsewhere (Open Finance)."""

    event_type = "product.held"
    product: ProductCode
    at_other_institution: bool = False
    institution: str | None = None
    since: date | None = None


@register
class ContractMaturingV1(EventPayload):
    """A fixed-term contract (a deposit, an insurance policy, a loan) reaches its maturity or renewal date."""

    event_type = "contract.maturing"
    account_id: str
    product: ProductCode
    matures_on: date
    kind: Literal["maturity", "renewal"] = "maturity"


@register
class PaymentReturnedV1(EventPayload):
    """A debit the customer ordered was rejected or returned (e.g. insufficient funds)."""

    event_type = "payment.returned"
    account_id: str
    transaction_id: str
    amount: Money = Field(ge=0)
    reason: str | None = None


@register
class CustomerProfiledV1(EventPayload):
    """Coarse, non-identifying attributes used for eligibility and channel choice."""

    event_type = "customer.profiled"
    age_band: Literal["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
    region: str | None = None
    income_band: Literal["low", "middle", "upper_middle", "high"] | None = None
    digital_archetype: Literal["nascent", "experimenting", "emerging", "activated"] | None = None
    customer_since: date | None = None
    timezone: str = "America/Sao_Paulo"
    preferred_channel: Channel | None = None  # the customer's stated preference, honoured when permitted
    # The bank's own organisation: which branch serves the customer and whose portfolio they are in.
    # The gateway scopes advisors' and branch managers' reads by them (object-level authorisation).
    branch_id: str | None = Field(default=None, max_length=64)
    advisor_id: str | None = Field(default=None, max_length=64)
    jurisdiction: JurisdictionCode | None = None


class ProfileCorrection(BaseModel):
    """The profile fields a customer may correct (right of rectification): the event below and ingest's
    request body share them, so the two never drift apart."""

    age_band: Literal["18-24", "25-34", "35-44", "45-54", "55-64", "65+"] | None = None
    region: str | None = Field(default=None, max_length=64)
    income_band: Literal["low", "middle", "upper_middle", "high"] | None = None
    timezone: str | None = Field(default=None, max_length=64)
    preferred_channel: Channel | None = None
    branch_id: str | None = Field(default=None, max_length=64)
    advisor_id: str | None = Field(default=None, max_length=64)
    jurisdiction: JurisdictionCode | None = None


@register
class CustomerRectifiedV1(EventPayload, ProfileCorrection):
    """The customer corrected their profile: only the fields given change, in every service that holds
    profile data (feature-store's profile, the gateway's scope)."""

    event_type = "customer.rectified"

    def changes(self) -> dict[str, str]:
        """The corrected fields as text (what a profile hash stores)."""
        return {k: str(v) for k, v in self.model_dump(mode="json", exclude_none=True).items()}


# ---- consent-events.v1 (compacted) ---------------------------------------------------------------


@register
class ConsentGrantedV1(EventPayload):
    event_type = "consent.granted"
    compaction_field = "consent_id"
    consent_id: str
    institution: str
    scopes: list[DataScope]
    purposes: list[Purpose] = Field(default_factory=lambda: [Purpose.CROSS_SELL_ANALYTICS])
    expires_at: datetime | None = None
    marketing_channels: list[Channel] = Field(default_factory=list)
    jurisdiction: JurisdictionCode | None = None

    @model_validator(mode="before")
    @classmethod
    def _channels_imply_marketing(cls, data: object) -> object:
        """A consent that grants marketing channels without naming its purposes is a marketing consent
        too; one that names its purposes without `marketing` grants its channels for nothing."""
        if isinstance(data, dict) and data.get("marketing_channels") and "purposes" not in data:
            return {**data, "purposes": [Purpose.CROSS_SELL_ANALYTICS, Purpose.MARKETING]}
        return data


@register
class ConsentChangedV1(EventPayload):
    event_type = "consent.changed"
    compaction_field = "consent_id"
    consent_id: str
    status: ConsentStatus
    reason: str | None = None


@register
class ProfilingObjectionChangedV1(EventPayload):
    """The customer objected to profiling (or withdrew the objection): while `objected`, no features are
    published, no scores computed and no offers made or sent; consents for other purposes stand."""

    event_type = "privacy.profiling_objection_changed"
    objected: bool


# ---- customer-erasure.v1 -------------------------------------------------------------------------


@register
class CustomerErasureRequestedV1(EventPayload):
    event_type = "customer.erasure_requested"
    reason: Literal["consent_revoked", "consent_expired", "data_subject_request"]


# ---- features-updated.v1 -------------------------------------------------------------------------


@register
class FeaturesUpdatedV1(EventPayload):
    event_type = "features.updated"
    feature_set_version: str
    as_of: datetime
    features: dict[str, float]
    held_products: list[ProductCode] = Field(default_factory=list)
    held_elsewhere: list[ProductCode] = Field(default_factory=list)
    # Coarse segments for eligibility and channel choice: digital_archetype, age_band, timezone.
    profile: dict[str, str] = Field(default_factory=dict)


# ---- scores.v1 -----------------------------------------------------------------------------------


class ReasonCode(EventPayload):
    code: str
    text_en: str
    text_es: str
    weight: float


class ProductScore(EventPayload):
    product: ProductCode
    propensity: float = Field(ge=0, le=1)
    reasons: list[ReasonCode] = Field(default_factory=list)


@register
class ScoresComputedV1(EventPayload):
    event_type = "scores.computed"
    model_name: str
    model_version: str
    feature_set_version: str
    scores: list[ProductScore]
    held_products: list[ProductCode] = Field(default_factory=list)
    held_elsewhere: list[ProductCode] = Field(default_factory=list)
    profile: dict[str, str] = Field(default_factory=dict)
    features: dict[str, float] = Field(default_factory=dict)


# ---- offers.v1 -----------------------------------------------------------------------------------


class RankedOffer(EventPayload):
    offer_id: str
    product: ProductCode
    channel: Channel
    propensity: float
    expected_value: float
    reasons: list[ReasonCode]
    rules_passed: list[str] = Field(default_factory=list)
    # What arbitration ranked on (objective × business lever) and the response factor it used.
    priority: float | None = None
    response_factor: float | None = None


@register
class OfferDecidedV1(EventPayload):
    """The next-best-action decision: ranked eligible offers (empty = no action) and what was blocked."""

    event_type = "offer.decided"
    decision_id: str
    model_version: str
    offers: list[RankedOffer]
    blocked: dict[str, list[str]] = Field(default_factory=dict)
    objective: Objective = "expected_value"  # what the ranking maximised
    # The customer's digital archetype (coarse, non-identifying): KPIs by segment.
    segment: str | None = None
    # An inbound presentation shown to an advisor through the gateway: their portfolio id (the same id
    # outcomes carry as `advisor_id`), so adherence per advisor has its denominator. None otherwise.
    presented_to: str | None = Field(default=None, max_length=64)


class ActionKind(StrEnum):
    OFFER = "offer"  # a product offer (cross-sell at the moment that matters)
    RETENTION = "retention"  # keep the customer: a call or message before they drift away
    SERVICE = "service"  # help the customer: e.g. a returned payment's options


@register
class ActionTriggeredV1(EventPayload):
    """A moment that matters produced an action, exactly once per trigger key."""

    event_type = "action.triggered"
    action_id: str
    trigger: str  # contract_maturing | payment_returned | activity_drop | post_acquisition
    trigger_key: str
    kind: ActionKind
    action: str  # what to do: a product code for offers, else the action's name (e.g. retention_call)
    product: ProductCode | None = None
    channel: Channel
    detail: dict[str, str] = Field(default_factory=dict)


# ---- outcomes.v1 ---------------------------------------------------------------------------------


class OutcomeKind(StrEnum):
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    ACCEPTED = "accepted"
    DECLINED = "declined"


@register
class OutcomeRecordedV1(EventPayload):
    event_type = "outcome.recorded"
    offer_id: str
    product: ProductCode
    outcome: OutcomeKind
    channel: Channel | None = None
    revenue: Money | None = None
    # Who reported it through the gateway (user or client id) and, for an advisor, their portfolio id:
    # adherence and success per advisor. None for channel callbacks and automatic outcomes.
    actor: str | None = Field(default=None, max_length=128)
    advisor_id: str | None = Field(default=None, max_length=64)


# ---- audit.v1 ------------------------------------------------------------------------------------


@register
class CustomerDataReadV1(EventPayload):
    event_type = "audit.customer_data_read"
    actor: str
    role: str
    resource: str
    purpose: str


@register
class BusinessLeverChangedV1(EventPayload):
    """Marketing moved a product's business lever in next-best-action (None: back to the policy's)."""

    event_type = "audit.business_lever_changed"
    actor: str
    product: ProductCode
    previous: float | None = None
    lever: float | None = None
    reason: str = ""


# ---- consent-events.v1: marketing permissions (ingest-openfinance) -------------------------------


class MarketingPermission(StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"


@register
class MarketingPermissionChangedV1(EventPayload):
    """Per-channel permission to contact the customer with offers (the second gate, separate from data consent).
    `source` = do_not_contact_registry when it comes from an opt-out registry import (e.g. Mexico's REUS)."""

    event_type = "marketing.permission_changed"
    compaction_field = "channel"
    channel: Channel
    permission: MarketingPermission
    source: Literal["customer", "do_not_contact_registry"] = "customer"
    registry: str | None = None
