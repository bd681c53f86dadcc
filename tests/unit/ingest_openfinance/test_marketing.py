"""The marketing gate's rules: registry opt-outs stick, re-imports are idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest_openfinance.domain.marketing import MarketingRecord, opt_in_blocked, registry_opt_out_is_new
from prometeo.contracts.events import MarketingPermission

AT = datetime(2026, 11, 23, tzinfo=UTC)
REGISTRY_OUT = MarketingRecord(
    permission=MarketingPermission.OPTED_OUT, source="do_not_contact_registry", registry="REUS", updated_at=AT
)
CUSTOMER_OUT = MarketingRecord(permission=MarketingPermission.OPTED_OUT, updated_at=AT)


def test_only_a_registry_opt_out_blocks_an_opt_in() -> None:
    assert opt_in_blocked(REGISTRY_OUT)
    assert not opt_in_blocked(CUSTOMER_OUT) and not opt_in_blocked(None)


def test_re_importing_the_same_registry_is_a_duplicate() -> None:
    assert not registry_opt_out_is_new(REGISTRY_OUT, "REUS")
    assert registry_opt_out_is_new(REGISTRY_OUT, "REPEP")
    assert registry_opt_out_is_new(CUSTOMER_OUT, "REUS") and registry_opt_out_is_new(None, "REUS")
