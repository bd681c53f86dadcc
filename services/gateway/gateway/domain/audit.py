"""The audit trail's records: who (user and client), role, what, which customer, for what purpose,
with what result and when, hash-chained so that no record can be edited or removed unnoticed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class AuditedResource(StrEnum):
    RECOMMENDATIONS = "recommendations"
    FEATURES = "features"
    DATA_EXPORT = "data_export"
    CUSTOMER_360 = "customer_360"


class ReadPurpose(StrEnum):
    """Declared by the caller in `X-Purpose`; defaults to cross-sell analytics, the consented purpose."""

    CROSS_SELL_ANALYTICS = "cross_sell_analytics"
    CUSTOMER_SERVICE = "customer_service"
    COMPLIANCE_REVIEW = "compliance_review"


DEFAULT_PURPOSE = ReadPurpose.CROSS_SELL_ANALYTICS


class AuditAction(StrEnum):
    READ = "read"  # customer data disclosed
    CHANGE = "change"  # customer data or access changed (outcomes, erasure, clients, blocks)
    SECURITY = "security"  # a guard rule fired


class AuditResult(StrEnum):
    OK = "ok"
    BLOCKED = "blocked"


GENESIS = "0" * 64


class AuditEntry(BaseModel):
    """What happened, as a route states it; the store adds the sequence number, time and hashes."""

    model_config = ConfigDict(frozen=True)

    actor: str
    user_id: str | None = None
    client_id: str | None = None
    role: str
    action: AuditAction
    resource: str
    purpose: str | None = None
    customer_key: str | None = None
    result: AuditResult = AuditResult.OK
    detail: str | None = None


class AuditRecord(AuditEntry):
    seq: int
    at: datetime
    prev_hash: str
    hash: str


def chain_hash(prev_hash: str, seq: int, at: datetime, entry: AuditEntry) -> str:
    """SHA-256 over the previous hash and every field of this record, in canonical JSON: editing any
    field, or removing or reordering a record, breaks every hash after it."""
    fields = {**entry.model_dump(mode="json"), "seq": seq, "at": at.astimezone(UTC).isoformat()}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def seal(prev: AuditRecord | None, entry: AuditEntry, at: datetime) -> AuditRecord:
    seq, prev_hash = (prev.seq + 1, prev.hash) if prev else (1, GENESIS)
    at = at.astimezone(UTC)
    return AuditRecord(
        **entry.model_dump(), seq=seq, at=at, prev_hash=prev_hash, hash=chain_hash(prev_hash, seq, at, entry)
    )


class ChainBroken(ValueError):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"audit chain broken at record {seq}: {reason}")
        self.seq = seq


def verify_chain(records: Iterable[AuditRecord]) -> tuple[int, str]:
    """(records checked, head hash), or ChainBroken naming the first bad record."""
    expected_seq, prev_hash = 1, GENESIS
    for record in records:
        if record.seq != expected_seq:
            raise ChainBroken(expected_seq, f"record {expected_seq} is missing (next stored is {record.seq})")
        if record.prev_hash != prev_hash:
            raise ChainBroken(record.seq, "it does not follow the previous record")
        entry = AuditEntry.model_validate(record.model_dump(include=set(AuditEntry.model_fields)))
        if chain_hash(prev_hash, record.seq, record.at, entry) != record.hash:
            raise ChainBroken(record.seq, "its content does not match its hash (edited)")
        expected_seq, prev_hash = record.seq + 1, record.hash
    return expected_seq - 1, prev_hash
