"""A customer's online feature vector, for advisors and admins. Audited."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.deps import AuditDep, FeaturesReader, PurposeDep, ReadableCustomerKeyDep, UpstreamsDep
from gateway.domain.audit import AuditedResource
from gateway.upstream import Upstream
from prometeo.web import Problem

router = APIRouter(prefix="/v1/customers", tags=["features"])


class FeaturesPublic(BaseModel):
    model_config = ConfigDict(extra="ignore")

    customer_key: str
    feature_set_version: str
    as_of: datetime
    features: dict[str, float]
    held_products: list[str] = []
    held_elsewhere: list[str] = []


@router.get("/{customer_id}/features")
async def get_features(
    principal: FeaturesReader,
    customer_key: ReadableCustomerKeyDep,
    purpose: PurposeDep,
    upstreams: UpstreamsDep,
    audit: AuditDep,
) -> FeaturesPublic:
    response = await upstreams.call(Upstream.FEATURE_STORE, "GET", f"/v1/features/{customer_key}")
    try:
        features = FeaturesPublic.model_validate_json(response.content)
    except ValidationError as exc:
        raise Problem(502, "Upstream answered invalid features", "feature-store response unreadable") from exc
    await audit.record_read(principal, customer_key, AuditedResource.FEATURES, purpose)
    return features
