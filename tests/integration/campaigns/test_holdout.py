"""A/B holdout on the real broker and Redis: control offers are recorded but never sent."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from campaigns.domain.experiment import assign
from campaigns.settings import get_settings
from prometeo import keys
from prometeo.contracts import Channel, ProductCode, new_event, topics
from tests.app_helpers import service_client
from tests.bus_helpers import publish, wait_until
from tests.integration.campaigns.test_campaigns_service import decision, offers_of

pytestmark = pytest.mark.integration
CAMPAIGN = f"holdout-{uuid.uuid4().hex[:8]}"
SHARE = 0.5


@pytest.fixture(scope="module")
def holdout_campaigns(broker: str, redis_url: str) -> Iterator[TestClient]:
    from campaigns.main import app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAFKA_BOOTSTRAP_SERVERS", broker)
        mp.setenv("REDIS_URL", redis_url)
        mp.setenv("PROMETEO_CONSUMER_SESSION_TIMEOUT_MS", "1500")
        mp.setenv("PROMETEO_CAMPAIGNS_GROUP_ID", f"campaigns-ab-{uuid.uuid4().hex[:10]}")
        mp.setenv("PROMETEO_CAMPAIGNS_CAMPAIGN_ID", CAMPAIGN)
        mp.setenv("PROMETEO_CAMPAIGNS_CONTROL_SHARE", str(SHARE))
        get_settings.cache_clear()
        with service_client(app) as client:
            wait_until(lambda: client.get("/readyz").status_code == 200, timeout=30)
            yield client
        get_settings.cache_clear()


def customer_in(group: str) -> str:
    while True:
        ck = f"ck_ab-{uuid.uuid4().hex[:10]}"
        if assign(ck, CAMPAIGN, SHARE) == group:
            return ck


def test_control_receives_nothing_and_lift_is_reported(
    holdout_campaigns: TestClient, broker: str, redis: redis_lib.Redis
) -> None:
    client = holdout_campaigns
    test_ck, control_ck = customer_in("test"), customer_in("control")
    for ck in (test_ck, control_ck):
        payload = decision((ProductCode.SAVINGS, Channel.EMAIL))
        publish(broker, topics.OFFERS, [new_event(payload, customer_key=ck, source="next-best-action")])

    [test_offer] = wait_until(lambda: (o := offers_of(client, test_ck)) and o[0]["status"] == "delivered" and o)
    [control_offer] = wait_until(lambda: offers_of(client, control_ck))
    assert (test_offer["group"], test_offer["campaign_id"]) == ("test", CAMPAIGN)
    assert (control_offer["group"], control_offer["status"]) == ("control", "holdout")
    assert not redis.exists(keys.customer(keys.CAMPAIGNS, control_ck, "outbox"))
    assert [
        json.loads(x)["offer_id"] for x in redis.lrange(keys.customer(keys.CAMPAIGNS, test_ck, "outbox"), 0, -1)
    ] == [test_offer["offer_id"]]

    assert (
        client.post(
            "/v1/outcomes",
            json={
                "customer_key": control_ck,
                "offer_id": control_offer["offer_id"],
                "product": "savings",
                "outcome": "opened",
            },
        ).status_code
        == 422
    )
    for ck, offer in ((test_ck, test_offer), (control_ck, control_offer)):
        response = client.post(
            "/v1/outcomes",
            json={"customer_key": ck, "offer_id": offer["offer_id"], "product": "savings", "outcome": "accepted"},
        )
        assert response.status_code == 202

    body = wait_until(
        lambda: (
            (e := client.get(f"/v1/experiments/{CAMPAIGN}").json())
            and e["control"]["conversions"] == 1
            and e["test"]["conversions"] == 1
            and e
        )
    )
    assert body["active"] and body["control_share"] == SHARE
    assert body["test"] == {"offers": 1, "conversions": 1, "conversion_rate": 1.0}
    assert body["control"] == {"offers": 1, "conversions": 1, "conversion_rate": 1.0}
    assert body["lift"]["absolute"] == 0.0 and body["lift"]["p_value"] == 1.0
    assert not body["lift"]["significant"]

    other = client.get("/v1/experiments/never-ran").json()
    assert other["lift"] is None and not other["active"]
