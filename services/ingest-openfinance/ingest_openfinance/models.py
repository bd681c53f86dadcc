"""HTTP models of the ingest API (canonical Prometeo input)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from prometeo.contracts import Channel
from prometeo.contracts.events import ConsentStatus, DataScope, MarketingPermission, ProfileCorrection, Purpose

# The request bodies live with the contracts: the gateway relays them and publishes the same schemas.
from prometeo.contracts.ingest_api import (
    CanonicalEventCreate,
    ConsentCreate,
    ConsentStatusChange,
    DoNotContactEntry,
    MarketingPermissionCreate,
)

__all__ = [
    "CanonicalEventCreate",
    "ConsentCreate",
    "ConsentExport",
    "ConsentPublic",
    "ConsentStatusChange",
    "CustomerExportPublic",
    "CustomerRef",
    "DataSubjectEventPublic",
    "DoNotContactEntry",
    "ErasurePublic",
    "MarketingPermissionCreate",
    "MarketingPermissionPublic",
    "ObjectionCreate",
    "RectificationCreate",
]


class ConsentPublic(BaseModel):
    customer_key: str
    consent_id: str
    status: ConsentStatus
    erasure_requested: bool = False


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


class MarketingPermissionPublic(BaseModel):
    customer_key: str
    channel: Channel
    permission: MarketingPermission
    source: str


class RectificationCreate(ProfileCorrection):
    """Right of rectification: the profile fields the customer corrected (only those given change)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)


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
