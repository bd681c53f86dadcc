"""Marketing permissions per channel: the second gate (may we contact?), separate from data-sharing consent.

An opt-out that came from a do-not-contact registry (Mexico's REUS, ...) is not lifted by a later opt-in
through our channels: the person must leave the registry first, and the registry import says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from prometeo.contracts.events import MarketingPermission


class MarketingRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    permission: MarketingPermission
    source: Literal["customer", "do_not_contact_registry"] = "customer"
    registry: str | None = None
    updated_at: datetime


def opt_in_blocked(current: MarketingRecord | None) -> bool:
    return (
        current is not None
        and current.permission is MarketingPermission.OPTED_OUT
        and current.source == "do_not_contact_registry"
    )


def registry_opt_out_is_new(current: MarketingRecord | None, registry: str) -> bool:
    """Re-importing the same registry is idempotent: an entry already opted out by it is a duplicate."""
    return not (
        current is not None
        and current.permission is MarketingPermission.OPTED_OUT
        and current.source == "do_not_contact_registry"
        and current.registry == registry
    )
