"""The active decision policy, and whether the last edit of its file was refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from next_best_action.deps import PolicySourceDep

router = APIRouter(prefix="/v1", tags=["policy"])


class PolicyPublic(BaseModel):
    path: str
    version: str
    loaded_at: datetime
    last_reload_error: str | None
    policy: dict[str, Any]


@router.get("/policy")
def active_policy(policies: PolicySourceDep) -> PolicyPublic:
    policy = policies.current()
    return PolicyPublic(
        path=str(policies.path),
        version=policy.version,
        loaded_at=policies.loaded_at,
        last_reload_error=policies.last_error,
        policy=policy.model_dump(mode="json"),
    )
