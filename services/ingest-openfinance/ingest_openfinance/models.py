"""HTTP models of the ingest API (canonical Prometeo input)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

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


class ConsentPublic(BaseModel):
    customer_key: str
    consent_id: str
    status: ConsentStatus
    erasure_requested: bool = False


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


class CustomerRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)


class ConsentExport(BaseModel):
    consent_id: str
    institution: str
    scopes: list[DataScope]
    purposes: list[Purpose]
    status: ConsentStatus
    expires_at: datetime | None = None
    jurisdiction: str | None = None


class CustomerExportPublic(BaseModel):
    """Held under the pseudonymous key only: ingest stores no name or document number to export."""

    customer_key: str
    exported_at: datetime
    consents: list[ConsentExport]
    marketing: dict[str, str] = {}
    profiling_objected: bool = False
    note: str = (
        "Transactions, balances and products are not stored by ingest: they are published once to "
        "account-events.v1 and aggregated by feature-store (GET /v1/features/{customer_key})."
    )


class MarketingPermissionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    channel: Channel
    permission: MarketingPermission


class MarketingPermissionPublic(BaseModel):
    customer_key: str
    channel: Channel
    permission: MarketingPermission
    source: str


class DoNotContactEntry(BaseModel):
    """One registry line: the person's identifier and, optionally, only some channels (default: all)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    channels: list[Channel] = Field(default_factory=lambda: list(Channel))


class RectificationCreate(BaseModel):
    """Right of rectification: the profile fields the customer corrected (only those given change)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    age_band: Literal["18-24", "25-34", "35-44", "45-54", "55-64", "65+"] | None = None
    region: str | None = Field(default=None, max_length=64)
    income_band: Literal["low", "middle", "upper_middle", "high"] | None = None
    timezone: str | None = Field(default=None, max_length=64)
    preferred_channel: Channel | None = None
    branch_id: str | None = Field(default=None, max_length=64)
    advisor_id: str | None = Field(default=None, max_length=64)
    jurisdiction: JurisdictionCode | None = None


class ObjectionCreate(BaseModel):
    """Right to object to profiling (LGPD art. 18 §2, LFPDPPP oposición, Ley 1581 art. 8)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    objected: bool = True


class DataSubjectEventPublic(BaseModel):
    customer_key: str
    event_id: str
    topic: str


class ErasurePublic(BaseModel):
    customer_key: str
    erasure_event_id: str
