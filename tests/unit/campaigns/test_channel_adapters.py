"""Messaging and guarded adapters with in-memory fakes (real servers: tests/integration/campaigns)."""

import httpx
import pytest

from campaigns.adapters.base import (
    ChannelAdapter,
    Delivery,
    DeliveryReceipt,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from campaigns.adapters.guarded import CircuitOpenError, GuardedAdapter
from campaigns.adapters.messaging import MessagingAdapter, MessagingConfig
from campaigns.adapters.router import ChannelRouter
from campaigns.adapters.smtp import SmtpConfig, compose
from campaigns.domain.circuit_breaker import BreakerState, CircuitBreaker

DELIVERY = Delivery(
    offer_id="of_1",
    decision_id="dc_1",
    customer_key="ck_12345678",
    product="credit_card",
    channel="whatsapp",
    idempotency_key="of_1:2:sms",
)


class Flaky(ChannelAdapter):
    name = "flaky"

    def __init__(self, results: list[Exception | None]) -> None:
        self.results, self.calls = results, 0

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        self.calls += 1
        result = self.results.pop(0)
        if result is not None:
            raise result
        return DeliveryReceipt(adapter=self.name)

    def health(self) -> tuple[bool, str]:
        return True, "ok"


def test_messaging_posts_a_template_with_the_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503) if len(seen) == 1 else httpx.Response(202, json={"id": "msg-9"})

    adapter = MessagingAdapter(
        MessagingConfig(url="http://provider.test/v1/messages", backoff_s=0.1),
        httpx.Client(transport=httpx.MockTransport(handle)),
        sleep=lambda s: None,
    )
    receipt = adapter.send(DELIVERY)
    assert receipt.reference == "msg-9" and len(seen) == 2
    assert {r.headers["Idempotency-Key"] for r in seen} == {"of_1:2:sms"}
    body = httpx.Response(200, content=seen[1].content).json()
    assert body["to"] == "ck_12345678" and body["channel"] == "whatsapp"
    assert body["template"] == "offer_credit_card"


def test_breaker_opens_and_fails_fast_without_calling_the_provider() -> None:
    now = [0.0]
    inner = Flaky([TransientDeliveryError("down"), TransientDeliveryError("down"), None])
    guarded = GuardedAdapter(inner, CircuitBreaker(failure_threshold=2, reset_after_s=5), clock=lambda: now[0])
    for _ in range(2):
        with pytest.raises(TransientDeliveryError):
            guarded.send(DELIVERY)
    with pytest.raises(CircuitOpenError):
        guarded.send(DELIVERY)
    assert inner.calls == 2
    now[0] = 6.0
    assert guarded.send(DELIVERY).adapter == "flaky"
    assert guarded.breaker.state is BreakerState.CLOSED


def test_a_permanent_refusal_does_not_open_the_breaker() -> None:
    guarded = GuardedAdapter(Flaky([PermanentDeliveryError("400")]), CircuitBreaker(failure_threshold=1))
    with pytest.raises(PermanentDeliveryError):
        guarded.send(DELIVERY)
    assert guarded.breaker.state is BreakerState.CLOSED


def test_router_picks_the_channel_adapter_or_the_default() -> None:
    email, default = Flaky([None]), Flaky([None, None])
    email.name = "smtp"
    router = ChannelRouter(default, {"email": email})
    assert router.send(Delivery(**{**DELIVERY.__dict__, "channel": "email"})).adapter == "smtp"
    router.send(DELIVERY)
    assert (email.calls, default.calls) == (1, 1)


def test_email_has_no_personal_data_and_a_stable_message_id() -> None:
    msg = compose(DELIVERY, SmtpConfig(host="localhost", recipient_domain="relay.bank"))
    assert msg["To"] == "ck_12345678@relay.bank"
    assert msg["Message-ID"] == "<of_1.2.sms@prometeo>"
    assert "credit card" in msg.get_content() and "Ref: of_1" in msg.get_content()


def test_router_sends_each_adapter_its_deliveries_together_and_answers_in_order() -> None:
    sms, crm = Flaky([None, TransientDeliveryError("down")]), Flaky([PermanentDeliveryError("no"), None])
    router = ChannelRouter(crm, {"sms": sms})
    on = [Delivery(**{**DELIVERY.__dict__, "offer_id": f"of_{c}", "channel": c}) for c in ("sms", "email")]
    deliveries = [on[0], on[1], on[0], on[1]]
    results = router.send_many(deliveries)
    assert (sms.calls, crm.calls) == (2, 2)
    assert [type(r).__name__ for r in results] == [
        "DeliveryReceipt",
        "PermanentDeliveryError",
        "TransientDeliveryError",
        "DeliveryReceipt",
    ]
