"""The webhook adapter against a real HTTP server on loopback: idempotency key, retry on 503."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient

from campaigns.settings import get_settings
from prometeo.contracts import Channel, ProductCode, new_event, topics
from tests.app_helpers import service_client
from tests.bus_helpers import publish, wait_until
from tests.integration.campaigns.test_campaigns_service import decision

pytestmark = pytest.mark.integration


class FakeCrm(BaseHTTPRequestHandler):
    """A real server that fails the first call with 503, then accepts."""

    received: ClassVar[list[tuple[str, dict]]] = []
    calls = 0

    def do_POST(self) -> None:
        type(self).calls += 1
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).calls == 1:
            self.send_response(503)
        else:
            type(self).received.append((self.headers["Idempotency-Key"], body))
            self.send_response(200)
            self.send_header("X-Request-Id", "crm-1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def crm_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/offers"
    server.shutdown()


@pytest.fixture(scope="module")
def webhook_campaigns(broker: str, redis_url: str, crm_url: str) -> Iterator[TestClient]:
    from campaigns.main import app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAFKA_BOOTSTRAP_SERVERS", broker)
        mp.setenv("REDIS_URL", redis_url)
        mp.setenv("PROMETEO_CONSUMER_SESSION_TIMEOUT_MS", "1500")
        mp.setenv("PROMETEO_CAMPAIGNS_GROUP_ID", f"campaigns-wh-{uuid.uuid4().hex[:10]}")
        mp.setenv("PROMETEO_CAMPAIGNS_ADAPTER", "webhook")
        mp.setenv("PROMETEO_CAMPAIGNS_WEBHOOK_URL", crm_url)
        mp.setenv("PROMETEO_CAMPAIGNS_WEBHOOK_BACKOFF_S", "0.05")
        get_settings.cache_clear()
        with service_client(app) as client:
            wait_until(lambda: client.get("/readyz").status_code == 200, timeout=30)
            yield client
        get_settings.cache_clear()


def test_offer_is_posted_to_the_crm_with_an_idempotency_key(
    webhook_campaigns: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    payload = decision((ProductCode.HOME_INSURANCE, Channel.EMAIL))
    publish(broker, topics.OFFERS, [new_event(payload, customer_key=ck, source="next-best-action")])
    offer_id = payload.offers[0].offer_id
    wait_until(lambda: any(key == offer_id for key, _ in FakeCrm.received))
    _, body = next(r for r in FakeCrm.received if r[0] == offer_id)
    assert body["customer_key"] == ck and body["product"] == "home_insurance" and body["channel"] == "email"
    offers = wait_until(
        lambda: (
            (o := webhook_campaigns.get(f"/v1/offers/{ck}").json()["offers"]) and o[0]["status"] == "delivered" and o
        )
    )
    assert offers[0]["adapter"] == "webhook"
