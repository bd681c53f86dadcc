"""The contact policy at pinned instants: 03:00 and 15:00 in São Paulo, and across Santiago's 2026
daylight-saving changes (the local hour moves by one while UTC does not)."""

from datetime import datetime, timedelta

import pytest

from next_best_action.domain.decision import ContactHistory, decide
from next_best_action.domain.rules import Rule
from prometeo.contracts import Channel, ProductCode
from tests.instants import SANTIAGO_FALLS_BACK, SANTIAGO_SPRINGS_FORWARD, SAO_PAULO_HOURS, local_hour
from tests.unit.next_best_action.factories import default_policy, scores

POLICY = default_policy()  # quiet hours 21:00–08:00 for sms, whatsapp, app_push and advisor
CC = ProductCode.CREDIT_CARD


def sms_decision(at: datetime, timezone: str, channels: frozenset[Channel] = frozenset({Channel.SMS})):
    profile = {"digital_archetype": "experimenting", "age_band": "35-44", "timezone": timezone}
    return decide(scores(profile=profile), channels, ContactHistory(), at, POLICY, decision_id="d")


@SAO_PAULO_HOURS
def test_sms_waits_at_night_and_goes_by_day_in_sao_paulo(at: datetime) -> None:
    decision = sms_decision(at, "America/Sao_Paulo")
    if local_hour(at) == 3:
        assert decision.no_action and decision.blocked[CC] == [Rule.QUIET_HOURS]
    else:
        assert decision.offers[0].channel is Channel.SMS
        assert Rule.QUIET_HOURS in decision.offers[0].rules_passed


@SAO_PAULO_HOURS
def test_email_is_never_silenced(at: datetime) -> None:
    decision = sms_decision(at, "America/Sao_Paulo", frozenset({Channel.SMS, Channel.EMAIL}))
    assert decision.offers[0].channel is (Channel.EMAIL if local_hour(at) == 3 else Channel.SMS)


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        # 4 April, before the change: 11:30 UTC is 08:30 at −03 — past the window.
        (SANTIAGO_FALLS_BACK - timedelta(hours=15, minutes=30), False),
        # 5 April, after it: the same 11:30 UTC is 07:30 at −04 — still quiet (at −03 it would not be).
        (SANTIAGO_FALLS_BACK + timedelta(hours=8, minutes=30), True),
        # 5 September, before the change: 11:30 UTC is 07:30 at −04 — quiet.
        (SANTIAGO_SPRINGS_FORWARD - timedelta(hours=16, minutes=30), True),
        # 6 September, after it: 11:30 UTC is 08:30 at −03 — free to send.
        (SANTIAGO_SPRINGS_FORWARD + timedelta(hours=7, minutes=30), False),
    ],
    ids=["apr-4-0830", "apr-5-0730", "sep-5-0730", "sep-6-0830"],
)
def test_quiet_hours_follow_santiagos_daylight_saving_change(at: datetime, quiet: bool) -> None:
    assert at.hour == 11 and at.minute == 30  # the same UTC time of day each time
    decision = sms_decision(at, "America/Santiago")
    assert decision.no_action is quiet
    if quiet:
        assert decision.blocked[CC] == [Rule.QUIET_HOURS]
