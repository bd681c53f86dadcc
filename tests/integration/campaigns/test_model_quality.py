"""Realised quality per model version, counted from real outcomes on the real broker and Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from prometeo.contracts import Channel, ProductCode, new_event, topics
from prometeo.contracts.events import OfferDecidedV1, RankedOffer
from tests.bus_helpers import publish, wait_until
from tests.integration.campaigns.test_campaigns_service import delivered

pytestmark = pytest.mark.integration


def _decision(version: str, propensity: float) -> OfferDecidedV1:
    return OfferDecidedV1(
        decision_id="dc_" + uuid.uuid4().hex,
        model_version=version,
        offers=[
            RankedOffer(
                offer_id=f"of_{uuid.uuid4().hex}",
                product=ProductCode.SAVINGS,
                channel=Channel.SMS,
                propensity=propensity,
                expected_value=10.0,
                reasons=[],
            )
        ],
    )


def _quality(client: TestClient, version: str) -> dict | None:
    return next((v for v in client.get("/v1/model-quality").json()["versions"] if v["model_version"] == version), None)


def test_delivered_and_accepted_offers_become_the_versions_realised_quality(
    campaigns_client: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    version = unique("v")
    # Four customers: the two the model ranked high accept, the two it ranked low do not: AUC 1.
    cases = [(unique("ck_test"), p, accepts) for p, accepts in ((0.9, True), (0.8, True), (0.2, False), (0.1, False))]
    events = [new_event(_decision(version, p), customer_key=ck, source="next-best-action") for ck, p, _ in cases]
    publish(broker, topics.OFFERS, events + events[:1])  # a redelivered decision counts once
    for ck, _, accepts in cases:
        [offer] = delivered(campaigns_client, ck)
        if accepts:
            body = {"customer_key": ck, "offer_id": offer["offer_id"], "product": "savings", "outcome": "accepted"}
            for _ in range(2):  # reported twice: still one acceptance
                assert campaigns_client.post("/v1/outcomes", json=body).status_code == 202
    quality = wait_until(lambda: (q := _quality(campaigns_client, version)) and q["accepted"] == 2 and q, timeout=30)
    assert quality["sent"] == 4 and quality["acceptance_rate"] == 0.5
    assert quality["auc"] == 1.0
    assert quality["ece"] == pytest.approx((0.1 + 0.2 + 0.2 + 0.1) / 4)  # |p − outcome| per offer, one per bin
    metrics = campaigns_client.get("/metrics").text
    assert f'prometeo_model_realised_auc{{model_version="{version}"}} 1.0' in metrics
    assert f'prometeo_model_outcomes{{model_version="{version}"}} 4.0' in metrics
