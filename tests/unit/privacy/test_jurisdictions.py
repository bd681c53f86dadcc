"""Rules per jurisdiction (#17): a customer of each country gets its deadlines, registries, language,
sensitive-data rule and retention."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.domain.requests import RequestKind, RequestStatus, new_request, summary
from prometeo.contracts import Channel
from prometeo.privacy import Jurisdiction, policies, policy_for, sensitive_allowed

RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday

# jurisdiction → (answer due, registries on SMS, summary language)
EXPECTED = {
    "BR": (datetime(2026, 3, 17, 10, 0, tzinfo=UTC), (), "pt"),  # LGPD: 15 days
    "MX": (datetime(2026, 3, 30, 10, 0, tzinfo=UTC), ("REUS",), "es"),  # ARCO: 20 business days
    "CO": (datetime(2026, 3, 23, 10, 0, tzinfo=UTC), (), "es"),  # Ley 1581: 15 business days
    "AR": (datetime(2026, 3, 12, 10, 0, tzinfo=UTC), ("NO_LLAME",), "es"),  # Ley 25.326: 10 days
    "CL": (datetime(2026, 3, 23, 10, 0, tzinfo=UTC), (), "es"),
}


def test_every_country_has_a_policy() -> None:
    assert set(policies()) == set(Jurisdiction) == {Jurisdiction(j) for j in EXPECTED}


@pytest.mark.parametrize("jurisdiction", sorted(EXPECTED))
def test_a_customer_of_each_country_gets_its_rules(jurisdiction: str) -> None:
    due, sms_registries, language = EXPECTED[jurisdiction]
    policy = policy_for(jurisdiction)
    record = new_request(
        RequestKind.ACCESS, "ck_x", jurisdiction, RECEIVED, RECEIVED, RequestStatus.COMPLETED, "exported", "dpo"
    )
    assert (record.jurisdiction, record.due_at, record.on_time) == (jurisdiction, due, True)
    assert policy.registries_for(Channel.SMS) == sms_registries
    assert policy.registries_for(Channel.ADVISOR) == sms_registries  # the outbound call
    assert policy.registries_for(Channel.EMAIL) == ()
    assert policy.summary_language == language
    assert policy.law in summary(language, policy.law, {"consents": 1}, objected=False)
    assert 0 < policy.derived_retention_days <= 365
    # Sensitive categories: no country's rule lets them in, even with the explicit purpose.
    assert not sensitive_allowed(jurisdiction, frozenset({"sensitive_data"}))


def test_an_unknown_or_missing_jurisdiction_falls_back_to_brazil() -> None:
    assert policy_for(None).jurisdiction is Jurisdiction.BR
    assert policy_for("PE").jurisdiction is Jurisdiction.BR


def test_business_days_skip_weekends() -> None:
    friday = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    assert policy_for("MX").request_deadline.due(friday).weekday() < 5
    assert (policy_for("MX").request_deadline.due(friday) - friday).days == 28  # 20 business days = 4 weeks
