"""Moments that matter on the real broker and Redis: a trigger produces its action exactly once, however
often its event is redelivered or re-reported."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from prometeo.contracts import Channel, ProductCode, decode, new_event, topics, utcnow
from prometeo.contracts.events import ActionKind, ActionTriggeredV1, ContractMaturingV1, PaymentReturnedV1
from tests.bus_helpers import publish, read_topic
from tests.integration.next_best_action.test_next_best_action_service import grant, wait_permissions

pytestmark = pytest.mark.integration


def _actions(broker: str, ck: str, count: int) -> list[ActionTriggeredV1]:
    records = read_topic(broker, topics.OFFERS, min_count=count, match=lambda r: r.key == ck.encode())
    payloads = [decode(r.value)[1] for r in records]
    return [p for p in payloads if isinstance(p, ActionTriggeredV1)]


def test_a_returned_payment_produces_its_service_action_exactly_once(
    nba: TestClient, broker: str, unique: Callable[[str], str]
) -> None:
    ck = unique("ck_test")
    returned = PaymentReturnedV1(account_id="acc-1", transaction_id=unique("txn"), amount=Decimal("99.90"))
    event = new_event(returned, customer_key=ck, source="tests")
    # The same event redelivered, and the same returned payment reported again under a new event id.
    publish(broker, topics.ACCOUNT_EVENTS, [event, event, new_event(returned, customer_key=ck, source="tests")])
    [action] = _actions(broker, ck, 1)
    assert (action.kind, action.action, action.trigger) == (
        ActionKind.SERVICE,
        "payment_assistance",
        "payment_returned",
    )
    assert action.channel is Channel.IN_APP  # a service message: no marketing permission needed
    time.sleep(1.5)  # a second action, if any, would have landed by now
    assert len(_actions(broker, ck, 1)) == 1


def test_a_maturing_contract_offers_what_comes_next_once_on_a_permitted_channel(
    nba: TestClient,
    broker: str,
    redis,
    unique: Callable[[str], str],
) -> None:
    ck = unique("ck_test")
    grant(broker, ck, [Channel.WHATSAPP])
    wait_permissions(redis, ck)
    maturing = ContractMaturingV1(
        account_id="dep-7", product=ProductCode.SAVINGS, matures_on=(utcnow() + timedelta(days=12)).date()
    )
    event = new_event(maturing, customer_key=ck, source="tests")
    publish(broker, topics.ACCOUNT_EVENTS, [event, event])
    [action] = _actions(broker, ck, 1)
    assert (action.product, action.channel) == (ProductCode.INVESTMENT_FUND, Channel.WHATSAPP)
    assert action.detail["days_left"] in {"11", "12"}
    time.sleep(1.5)
    assert len(_actions(broker, ck, 1)) == 1
