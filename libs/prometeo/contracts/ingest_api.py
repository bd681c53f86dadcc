"""The ingest API's request bodies: ingest-openfinance validates them, the gateway relays and documents them.

Kept with the contracts (not in the service) so both services publish the same schemas in their OpenAPI;
the Open Finance resource documents themselves are free-form JSON validated by ingest's mappers.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from prometeo.contracts import Channel
from prometeo.contracts.events import ConsentStatus, DataScope, JurisdictionCode, MarketingPermission, Purpose


class ConsentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64, description="The source's identifier (CPF, bank id)")
    consent_id: str = Field(min_length=1, max_length=256)
    institution: str = Field(min_length=1, max_length=128)
    scopes: list[DataScope] = Field(min_length=1)
    purposes: list[Purpose] = [Purpose.CROSS_SELL_ANALYTICS]
    status: ConsentStatus = ConsentStatus.AUTHORISED
    expires_at: datetime | None = None
    marketing_channels: list[Channel] = []
    jurisdiction: JurisdictionCode | None = Field(
        default=None, description="The law the consent is given under (BR, MX, CO, AR, CL); BR when absent"
    )

    @model_validator(mode="before")
    @classmethod
    def _channels_imply_marketing(cls, data: object) -> object:
        """Marketing channels granted without naming purposes make it a marketing consent too (as the
        contract does); purposes named without `marketing` grant the channels for nothing."""
        if isinstance(data, dict) and data.get("marketing_channels") and "purposes" not in data:
            return {**data, "purposes": [Purpose.CROSS_SELL_ANALYTICS, Purpose.MARKETING]}
        return data


class ConsentStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ConsentStatus
    reason: str | None = Field(default=None, max_length=128)


class CanonicalEventCreate(BaseModel):
    """One canonical event as a bank core or aggregator sends it, before pseudonymisation."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    source_event_id: str = Field(min_length=1, max_length=256)
    type: str
    version: int = 1
    occurred_at: datetime
    source: str = Field(min_length=1, max_length=128)
    payload: dict[str, Any]


class MarketingPermissionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    channel: Channel
    permission: MarketingPermission


class DoNotContactEntry(BaseModel):
    """One registry line: the person's identifier and, optionally, only some channels (default: all)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    channels: list[Channel] = Field(default_factory=lambda: list(Channel))


class EventsBatchCreate(BaseModel):
    """`POST /v1/events:batch`: answered per item (accepted, duplicate, invalid, refused)."""

    events: list[CanonicalEventCreate] = Field(min_length=1)


class DoNotContactImport(BaseModel):
    """`POST /v1/marketing/do-not-contact:import`: one registry's entries, answered per entry."""

    registry: str = Field(min_length=1, max_length=64, description="The registry's name, e.g. 'REUS'")
    entries: list[DoNotContactEntry]


class BrasilResource(StrEnum):
    """Open Finance Brasil resources ingest maps (`POST /v1/openfinance/brasil/{resource}`)."""

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


class UkResource(StrEnum):
    """UK Open Banking resources ingest maps (`POST /v1/openbanking/uk/{resource}`)."""

    ACCOUNTS = "accounts"
    BALANCES = "balances"
    TRANSACTIONS = "transactions"
