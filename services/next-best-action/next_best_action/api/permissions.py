"""The channels a customer has allowed marketing contact on (from consent and marketing-permission events),
so an advisor sees why some channels are never offered. Read-only; the gateway scopes and audits it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from next_best_action.deps import StoreDep

router = APIRouter(prefix="/v1", tags=["next-best-action"])


class PermissionsPublic(BaseModel):
    customer_key: str
    channels: list[str]  # channels with an outbound marketing permission


@router.get("/nba/{customer_key}/permissions")
def channel_permissions(customer_key: str, store: StoreDep) -> PermissionsPublic:
    return PermissionsPublic(
        customer_key=customer_key, channels=sorted(c.value for c in store.permissions(customer_key))
    )
