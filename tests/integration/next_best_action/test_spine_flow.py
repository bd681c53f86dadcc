"""The spine across both services on the real broker: scores → decision → delivery → outcome → policy."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from campaigns.settings import get_settings as campaigns_settings
from prometeo import keys
from prometeo.contracts import Channel
from tests.app_helpers import service_client
from tests.bus_helpers import wait_until
from tests.integration.next_best_action.test_next_best_action_service import grant, publish_scores, wait_permissions

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def campaigns(broker: str, redis_url: str) -> Iterator[TestClient]:
    from campaigns.main import app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAFKA_BOOTSTRAP_SERVERS", broker)
        mp.setenv("REDIS_URL", redis_url)
        mp.setenv("PROMETEO_CONSUMER_SESSION_TIMEOUT_MS", "1500")
        mp.setenv("PROMETEO_CAMPAIGNS_GROUP_ID", f"campaigns-{uuid.uuid4().hex[:10]}")
        campaigns_settings.cache_clear()
        with service_client(app) as client:
            wait_until(lambda: client.get("/readyz").status_code == 200, timeout=30)
            yield client
        campaigns_settings.cache_clear()


def test_decline_reported_to_campaigns_puts_the_product_in_cooldown(
    nba: TestClient, campaigns: TestClient, broker: str, redis: redis_lib.Redis, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    grant(broker, ck, [Channel.WHATSAPP])
    wait_permissions(redis, ck)
    publish_scores(broker, ck, profile={"digital_archetype": "emerging", "age_band": "25-34"})

    offers = wait_until(
        lambda: (o := campaigns.get(f"/v1/offers/{ck}").json()["offers"]) and o[0]["status"] == "delivered" and o
    )
    offer = offers[0]
    assert (offer["product"], offer["channel"]) == ("credit_card", "whatsapp")

    response = campaigns.post(
        "/v1/outcomes",
        json={"customer_key": ck, "offer_id": offer["offer_id"], "product": "credit_card", "outcome": "declined"},
    )
    assert response.status_code == 202
    wait_until(lambda: redis.hexists(keys.customer(keys.NBA, ck, "declines"), "credit_card"))
    decision = nba.get(f"/v1/nba/{ck}", params={"lang": "en"}).json()
    assert decision["blocked"]["credit_card"] == ["decline_cooldown"]
    assert decision["offers"][0]["product"] == "auto_insurance"
