"""Per-item outcomes of a batch. Nothing is silently dropped: the counts add up to the items received."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from pydantic import BaseModel


class ItemStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REFUSED_NO_CONSENT = "refused_no_consent"
    INVALID = "invalid"
    # The same source id twice in one request with different content: neither version is guessed at.
    CONFLICT = "conflict"
    # A well-formed record of a kind Prometeo does not record (e.g. an overdraft line); reason says which.
    UNSUPPORTED = "unsupported"


class ItemResult(BaseModel):
    index: int
    status: ItemStatus
    reason: str | None = None
    event_id: str | None = None


class BatchResultPublic(BaseModel):
    received: int
    counts: dict[ItemStatus, int]
    items: list[ItemResult]

    @classmethod
    def of(cls, items: list[ItemResult]) -> BatchResultPublic:
        counted = Counter(i.status for i in items)
        return cls(received=len(items), counts={s: counted.get(s, 0) for s in ItemStatus}, items=items)
