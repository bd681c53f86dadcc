"""A customer's online feature vector, for advisors and admins. Audited."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.deps import AuditDep, FeaturesReader, PurposeDep, ReadableCustomerKeyDep, UpstreamsDep
from gateway.domain.audit import AuditedResource
from gateway.domain.visibility import Resource, balance_band, visible
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
    # The 30-day mean balance as a band, for roles that may not see amounts (domain/visibility.py).
    balance_band: str | None = None


@router.get("/{customer_id}/features", response_model=FeaturesPublic, response_class=JSONResponse)
async def get_features(
    principal: FeaturesReader,
    customer_key: ReadableCustomerKeyDep,
    purpose: PurposeDep,
    upstreams: UpstreamsDep,
    audit: AuditDep,
) -> JSONResponse:
    response = await upstreams.call(Upstream.FEATURE_STORE, "GET", f"/v1/features/{customer_key}")
    try:
        features = FeaturesPublic.model_validate_json(response.content)
    except ValidationError as exc:
        raise Problem(502, "Upstream answered invalid features", "feature-store response unreadable") from exc
    features.balance_band = balance_band(features.features.get("balance_avg_30d"))
    await audit.record_read(principal, customer_key, AuditedResource.FEATURES, purpose)
    return JSONResponse(visible(Resource.FEATURES, principal.role, features.model_dump(mode="json")))
