"""HTTP models of the ingest API (canonical Prometeo input)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from prometeo.contracts import Channel
from prometeo.contracts.events import ConsentStatus, DataScope, MarketingPermission, Purpose


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


class CustomerExportPublic(BaseModel):
    """Held under the pseudonymous key only: ingest stores no name or document number to export."""

    customer_key: str
    exported_at: datetime
    consents: list[ConsentExport]
    marketing: dict[str, str] = {}
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


class ErasurePublic(BaseModel):
    customer_key: str
    erasure_event_id: str
