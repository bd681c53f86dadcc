import httpx
import pytest

from campaigns.adapters.base import Delivery, PermanentDeliveryError, TransientDeliveryError
from campaigns.adapters.webhook import IDEMPOTENCY_HEADER, WebhookAdapter, WebhookConfig

DELIVERY = Delivery(
    offer_id="of_1",
    decision_id="dc_1",
    customer_key="ck_12345678",
    product="savings",
    channel="sms",
    reason_codes=("salary_inflow",),
)


def adapter(responses: list[int | Exception], seen: list[httpx.Request], sleeps: list[float]) -> WebhookAdapter:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        result = responses.pop(0)
        if isinstance(result, Exception):
            raise result
        return httpx.Response(result, headers={"X-Request-Id": "crm-42"})

    config = WebhookConfig(url="http://crm.test/offers", max_attempts=3, backoff_s=0.5, backoff_max_s=0.8)
    return WebhookAdapter(config, httpx.Client(transport=httpx.MockTransport(handle)), sleep=sleeps.append)


def test_posts_with_idempotency_key() -> None:
    seen: list[httpx.Request] = []
    receipt = adapter([200], seen, []).send(DELIVERY)
    assert receipt.reference == "crm-42"
    assert seen[0].headers[IDEMPOTENCY_HEADER] == "of_1"
    assert b'"reason_codes":["salary_inflow"]' in seen[0].content.replace(b" ", b"")


def test_retries_server_errors_and_timeouts_with_backoff() -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    adapter([503, httpx.ReadTimeout("slow"), 201], seen, sleeps).send(DELIVERY)
    assert len(seen) == 3 and sleeps == [0.5, 0.8]  # 0.5, then 1.0 capped at 0.8
    assert {r.headers[IDEMPOTENCY_HEADER] for r in seen} == {"of_1"}


def test_gives_up_as_transient_after_the_last_attempt() -> None:
    with pytest.raises(TransientDeliveryError, match="after 3 attempts: HTTP 429"):
        adapter([500, 502, 429], [], []).send(DELIVERY)


def test_client_errors_are_permanent_and_not_retried() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(PermanentDeliveryError, match="HTTP 400"):
        adapter([400], seen, []).send(DELIVERY)
    assert len(seen) == 1
