"""Consent expiry at pinned instants: 03:00 and 15:00 in São Paulo, and an expiry written in Santiago's
local time across its 2026 daylight-saving changes (the gate compares instants, never wall hours)."""

from datetime import datetime, timedelta

import pytest

from ingest_openfinance.domain.consent import ConsentRecord, Refusal, gate
from prometeo.contracts.events import AccountOpenedV1, ConsentStatus, DataScope, Purpose
from tests.instants import (
    SANTIAGO,
    SANTIAGO_FALLS_BACK,
    SANTIAGO_SPRINGS_FORWARD,
    SAO_PAULO,
    SAO_PAULO_HOURS,
    local_hour,
)

OPENED = AccountOpenedV1(account_id="a1", account_type="checking")


def consent(expires_at: datetime) -> ConsentRecord:
    return ConsentRecord(
        consent_id="urn:c1",
        institution="bank-x",
        scopes=frozenset({DataScope.ACCOUNTS}),
        purposes=frozenset({Purpose.CROSS_SELL_ANALYTICS}),
        status=ConsentStatus.AUTHORISED,
        expires_at=expires_at,
    )


@SAO_PAULO_HOURS
def test_a_consent_ending_at_eight_in_sao_paulo(at: datetime) -> None:
    ends = consent(datetime(2026, 12, 1, 8, tzinfo=SAO_PAULO))
    refusal = gate([ends], "account.opened", OPENED, at)
    assert refusal is (None if local_hour(at) == 3 else Refusal.CONSENT_EXPIRED)
    assert ends.active_at(at) is (local_hour(at) == 3)


@pytest.mark.parametrize("change", [SANTIAGO_FALLS_BACK, SANTIAGO_SPRINGS_FORWARD], ids=["april", "september"])
def test_an_expiry_in_santiago_local_time_across_the_daylight_saving_change(change: datetime) -> None:
    # Written as local 02:00 on the day after the change: in force (with that day's offset) 2 h later
    # in wall time, but not 2 h later in UTC — one hour more in April, one hour less in September.
    local_expiry = (change + timedelta(hours=6)).astimezone(SANTIAGO).replace(hour=2, minute=0)
    ends = consent(local_expiry)
    offset = local_expiry.utcoffset()
    assert offset is not None
    utc_offset_hours = -offset.total_seconds() / 3600
    assert utc_offset_hours == (4 if change == SANTIAGO_FALLS_BACK else 3)
    assert ends.active_at(local_expiry - timedelta(seconds=1))
    assert not ends.active_at(local_expiry)
    assert gate([ends], "account.opened", OPENED, local_expiry + timedelta(minutes=1)) is Refusal.CONSENT_EXPIRED
    before_change = change - timedelta(minutes=1)
    assert gate([ends], "account.opened", OPENED, before_change) is None
