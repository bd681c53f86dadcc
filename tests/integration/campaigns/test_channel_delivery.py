"""E-mail over a real SMTP server and SMS through a real HTTP provider: a provider that is down parks
the offer in the durable schedule; when it comes back the offer is delivered exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from campaigns.settings import get_settings
from prometeo.contracts import Channel, ProductCode, new_event, topics
from prometeo.contracts.events import ActionKind, ActionTriggeredV1
from tests.app_helpers import app_state, running_app
from tests.bus_helpers import publish, wait_until
from tests.integration.campaigns.providers import HttpProvider, SmtpSink
from tests.integration.campaigns.test_campaigns_service import decision, offers_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def provider() -> Iterator[HttpProvider]:
    api = HttpProvider()
    yield api
    api.close()


@pytest.fixture(scope="module")
def channel_campaigns(broker: str, redis_url: str, smtp: SmtpSink, provider: HttpProvider) -> Iterator[TestClient]:
    from campaigns.main import app

    with running_app(
        app,
        get_settings,
        {
            "KAFKA_BOOTSTRAP_SERVERS": broker,
            "REDIS_URL": redis_url,
            "PROMETEO_CONSUMER_SESSION_TIMEOUT_MS": "1500",
            "PROMETEO_CAMPAIGNS_GROUP_ID": f"campaigns-ch-{uuid.uuid4().hex[:10]}",
            "PROMETEO_CAMPAIGNS_SMTP_HOST": "127.0.0.1",
            "PROMETEO_CAMPAIGNS_SMTP_PORT": str(smtp.port),
            "PROMETEO_CAMPAIGNS_SMTP_TIMEOUT_S": "1",
            "PROMETEO_CAMPAIGNS_SMTP_BACKOFF_S": "0.02",
            "PROMETEO_CAMPAIGNS_MESSAGING_URL": f"{provider.url}/v1/messages",
            "PROMETEO_CAMPAIGNS_MESSAGING_BACKOFF_S": "0.02",
            "PROMETEO_CAMPAIGNS_BREAKER_FAILURES": "2",
            "PROMETEO_CAMPAIGNS_BREAKER_RESET_S": "0.3",
            "PROMETEO_CAMPAIGNS_RETRY_BACKOFF_S": "0.2",
            "PROMETEO_CAMPAIGNS_RETRY_BACKOFF_MAX_S": "0.4",
            "PROMETEO_CAMPAIGNS_SCHEDULER_INTERVAL_S": "0.1",
        },
    ) as client:
        yield client


def status_of(client: TestClient, ck: str) -> str | None:
    offers = offers_of(client, ck)
    return offers[0]["status"] if offers else None


def test_email_is_parked_while_smtp_is_down_then_delivered_exactly_once(
    channel_campaigns: TestClient, broker: str, smtp: SmtpSink, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    payload = decision((ProductCode.SAVINGS, Channel.EMAIL))
    offer_id = payload.offers[0].offer_id
    publish(broker, topics.OFFERS, [new_event(payload, customer_key=ck, source="next-best-action")])
    wait_until(lambda: status_of(channel_campaigns, ck) == "parked")
    jobs = app_state(channel_campaigns).schedule.pending(ck)
    assert [(j.kind, j.offer_id) for j, _ in jobs] == [("deliver", offer_id)]

    smtp.start()  # the provider comes back
    wait_until(lambda: status_of(channel_campaigns, ck) == "delivered", timeout=40)
    [offer] = offers_of(channel_campaigns, ck)
    assert offer["adapter"] == "smtp"
    wait_until(lambda: not app_state(channel_campaigns).schedule.pending(ck))
    [message] = smtp.with_header("X-Prometeo-Offer-Id", offer_id)
    assert message["To"] == f"{ck}@customers.relay.local"
    assert message["Message-ID"] == f"<{offer_id}@prometeo>"


def test_sms_is_parked_while_the_provider_fails_then_delivered_exactly_once(
    channel_campaigns: TestClient, broker: str, provider: HttpProvider, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    provider.down = True
    payload = decision((ProductCode.PERSONAL_LOAN, Channel.SMS))
    offer_id = payload.offers[0].offer_id
    publish(broker, topics.OFFERS, [new_event(payload, customer_key=ck, source="next-best-action")])
    wait_until(lambda: status_of(channel_campaigns, ck) == "parked")
    wait_until(lambda: provider.refused >= 4)  # the scheduler keeps retrying (breaker trials included)
    provider.down = False
    wait_until(lambda: status_of(channel_campaigns, ck) == "delivered", timeout=40)
    assert provider.idempotency_keys().count(offer_id) == 1
    body = next(b for k, b in provider.accepted if k == offer_id)
    assert (body["to"], body["channel"], body["template"]) == (ck, "sms", "offer_personal_loan")
    assert offers_of(channel_campaigns, ck)[0]["adapter"] == "messaging"


def test_a_returned_payment_message_is_parked_while_the_provider_fails_then_sent_exactly_once(
    channel_campaigns: TestClient, broker: str, provider: HttpProvider, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    provider.down, refused = True, provider.refused
    action = ActionTriggeredV1(
        action_id=f"ac_{uuid.uuid4().hex}",
        trigger="payment_returned",
        trigger_key="payment_returned:t-778",
        kind=ActionKind.SERVICE,
        action="payment_assistance",
        channel=Channel.SMS,
        detail={"amount": "120.50"},
    )
    event = new_event(action, customer_key=ck, source="next-best-action")
    publish(broker, topics.OFFERS, [event, event])
    wait_until(lambda: status_of(channel_campaigns, ck) == "parked")
    wait_until(lambda: provider.refused >= refused + 2)  # retried while down
    provider.down = False
    wait_until(lambda: status_of(channel_campaigns, ck) == "delivered", timeout=40)
    assert provider.idempotency_keys().count(action.action_id) == 1
    body = next(b for k, b in provider.accepted if k == action.action_id)
    assert (body["to"], body["channel"], body["template"]) == (ck, "sms", "action_payment_assistance")


def test_a_decision_whose_sms_provider_is_down_delivers_its_other_offers_and_parks_only_the_sms(
    channel_campaigns: TestClient, broker: str, provider: HttpProvider, unique: Callable[[str], str]
) -> None:
    """The decision's offers go to their channels together: the outbox takes its own while the messaging
    provider fails, and only the SMS offer waits in the schedule."""
    ck = unique("ck_test")
    provider.down = True
    payload = decision((ProductCode.SAVINGS, Channel.APP_PUSH), (ProductCode.PERSONAL_LOAN, Channel.SMS))
    push_id, sms_id = (o.offer_id for o in payload.offers)
    publish(broker, topics.OFFERS, [new_event(payload, customer_key=ck, source="next-best-action")])

    def statuses() -> dict[str, str]:
        return {o["offer_id"]: o["status"] for o in offers_of(channel_campaigns, ck)}

    wait_until(lambda: statuses() == {push_id: "delivered", sms_id: "parked"})
    jobs = app_state(channel_campaigns).schedule.pending(ck)
    assert [(j.kind, j.offer_id) for j, _ in jobs] == [("deliver", sms_id)]
    provider.down = False
    wait_until(lambda: statuses() == {push_id: "delivered", sms_id: "delivered"}, timeout=40)
    assert provider.idempotency_keys().count(sms_id) == 1 and push_id not in provider.idempotency_keys()
