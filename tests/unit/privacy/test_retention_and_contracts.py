"""Retention of derived data within every country's bound, and the privacy fields of the contracts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from campaigns.settings import Settings as CampaignsSettings
from feature_store.store import MONTH_TTL_S
from ingest_openfinance.models import ConsentCreate, RectificationCreate
from next_best_action.settings import Settings as NbaSettings
from prometeo.contracts.events import ConsentGrantedV1, CustomerRectifiedV1, DataScope, Purpose
from prometeo.privacy import policies

DAY_S = 24 * 3600


def test_derived_data_is_kept_no_longer_than_any_country_allows() -> None:
    bound = min(p.derived_retention_days for p in policies().values()) * DAY_S
    nba, campaigns = NbaSettings(), CampaignsSettings()
    kept = {
        "features day buckets": MONTH_TTL_S,
        "scores": nba.scores_ttl_s,
        "contact history": nba.contact_retention_days * DAY_S,
        "campaign offers and enrolments": campaigns.offers_ttl_s,
    }
    assert {name: s for name, s in kept.items() if s > bound} == {}


def test_marketing_channels_without_named_purposes_make_a_marketing_consent() -> None:
    implied = ConsentGrantedV1(consent_id="c", institution="b", scopes=[DataScope.ACCOUNTS], marketing_channels=["sms"])
    assert Purpose.MARKETING in implied.purposes
    named = ConsentGrantedV1(
        consent_id="c",
        institution="b",
        scopes=[DataScope.ACCOUNTS],
        marketing_channels=["sms"],
        purposes=[Purpose.CROSS_SELL_ANALYTICS],
    )
    assert named.purposes == [Purpose.CROSS_SELL_ANALYTICS]  # channels granted for nothing
    body = ConsentCreate(
        customer_id="1", consent_id="c", institution="b", scopes=["accounts"], marketing_channels=["sms"]
    )
    assert Purpose.MARKETING in body.purposes and body.jurisdiction is None
    with pytest.raises(ValidationError):
        ConsentCreate(customer_id="1", consent_id="c", institution="b", scopes=["accounts"], jurisdiction="PE")


def test_a_rectification_carries_only_the_corrected_fields() -> None:
    assert CustomerRectifiedV1(age_band="45-54", advisor_id="adv-2").changes() == {
        "age_band": "45-54",
        "advisor_id": "adv-2",
    }
    with pytest.raises(ValidationError):
        RectificationCreate(customer_id="1", name="Maria")  # type: ignore[call-arg]  # no names, ever
