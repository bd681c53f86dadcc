"""The shared Deliverer with in-memory fakes: what is written, in which order, for an offer and a step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from campaigns.adapters.base import (
    ChannelAdapter,
    Delivery,
    DeliveryReceipt,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from campaigns.delivery import Deliverer, delivered_event_id, delivery_for
from campaigns.domain import kpis
from campaigns.store import Increment, OfferRecord, kpi_key
from prometeo.contracts import Envelope

RECORD = OfferRecord(
    offer_id="of_1",
    decision_id="dc_1",
    customer_key="ck_12345678",
    product="credit_card",
    channel="email",
    propensity=0.4,
    expected_value=12.0,
    reason_codes=["salary_raise"],
    rules_passed=["consent"],
    decided_at=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
)


class Recorder:
    """Store, adapter and publish in one: every write lands in `log`, in order."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.log: list[tuple[str, Any]] = []
        self.failure = failure

    # CampaignStore
    def count_once(self, marker: str, increments: list[Increment], then_save: OfferRecord | None = None) -> bool:
        self.log.append(("count", (marker, sorted(increments))))
        if then_save is not None:
            self.save_offer(then_save)
        return True

    def count_many(self, items: list[tuple[str, list[Increment], OfferRecord | None]]) -> None:
        for marker, increments, then_save in items:
            self.count_once(marker, increments, then_save)

    def save_offer(self, record: OfferRecord, then_count: tuple[str, list[Increment]] | None = None) -> None:
        self.log.append(("save", record))
        if then_count is not None:
            self.count_once(*then_count)

    # publish
    def publish(self, events: Sequence[Envelope]) -> None:
        self.log.extend(("publish", event) for event in events)

    def steps(self) -> list[str]:
        return [step for step, _ in self.log]


class Adapter(ChannelAdapter):
    name = "fake"

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.sent: list[Delivery] = []

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        self.sent.append(delivery)
        if self.recorder.failure is not None:
            raise self.recorder.failure
        return DeliveryReceipt(adapter="fake-email")

    def health(self) -> tuple[bool, str]:
        return True, "ok"


def _deliverer(recorder: Recorder) -> tuple[Deliverer, Adapter]:
    adapter = Adapter(recorder)
    return Deliverer(cast(Any, recorder), adapter, publish=recorder.publish), adapter  # the recorder fakes the store


def _never_refused(exc: PermanentDeliveryError) -> None:
    raise AssertionError(f"not refused: {exc}")


def test_an_offer_is_published_counted_then_marked_delivered() -> None:
    recorder = Recorder()
    deliverer, adapter = _deliverer(recorder)
    assert deliverer.deliver(RECORD, delivery_for(RECORD), sent_marker="of_1.delivered", refused=_never_refused)
    assert adapter.sent[0].key == "of_1" and adapter.sent[0].channel == "email"
    assert recorder.steps() == ["publish", "count", "save"]  # marked last: a crash before it re-sends
    event = recorder.log[0][1]
    assert event.event_id == delivered_event_id("of_1") and event.typed().channel == "email"
    assert recorder.log[1][1] == ("of_1.delivered", sorted(RECORD.kpi_increments(kpis.CONTACTS)))
    saved = recorder.log[2][1]
    assert saved.status == "delivered" and saved.adapter == "fake-email" and not saved.advisor_task


def test_a_step_is_marked_first_and_counted_last_under_its_own_key() -> None:
    recorder = Recorder()
    deliverer, adapter = _deliverer(recorder)
    record = RECORD.model_copy(update={"status": "sequence"})
    step = delivery_for(record, "advisor", metadata={"step": "call"}, idempotency_key="of_1.2.call")
    counters = [("campaigns:steps", "call|sent", 1)]
    assert deliverer.deliver(
        record, step, sent_marker="of_1.2.call.sent", refused=_never_refused, counters=counters, mark_first=True
    )
    assert adapter.sent == [step] and step.key == "of_1.2.call" and step.metadata == {"step": "call"}
    assert recorder.steps() == ["save", "publish", "count"]
    assert recorder.log[1][1].event_id == delivered_event_id("of_1.2.call")
    advisor = [(kpi_key("totals"), kpis.ADVISOR_TASKS, 1)]
    contacts = record.kpi_increments(kpis.CONTACTS, channel="advisor")
    assert recorder.log[2][1] == ("of_1.2.call.sent", sorted(counters + advisor + contacts))
    assert recorder.log[0][1].advisor_task and recorder.log[0][1].status == "delivered"


def test_a_crm_task_is_no_contact_and_a_delivered_offer_is_saved_only_for_its_first_advisor_task() -> None:
    recorder = Recorder()
    deliverer, _ = _deliverer(recorder)
    delivered = RECORD.model_copy(update={"status": "delivered"})
    task = delivery_for(delivered, "advisor", idempotency_key="of_1.3.task")
    deliverer.deliver(delivered, task, sent_marker="of_1.3.task.sent", refused=_never_refused, contact=False)
    assert recorder.steps() == ["count", "save"]  # nothing published, no contact counted
    assert recorder.log[0][1] == ("of_1.3.task.sent", [(kpi_key("totals"), kpis.ADVISOR_TASKS, 1)])
    assert recorder.log[1][1].advisor_task and recorder.log[1][1].status == "delivered"
    recorder.log.clear()
    again = delivered.model_copy(update={"advisor_task": True})
    deliverer.deliver(again, task, sent_marker="of_1.4.task.sent", refused=_never_refused, contact=False)
    assert recorder.steps() == ["count"]


def test_a_refusal_is_left_to_the_caller_and_an_outage_raises_with_nothing_written() -> None:
    recorder = Recorder(PermanentDeliveryError("bad address"))
    deliverer, _ = _deliverer(recorder)
    refusals: list[str] = []
    assert not deliverer.deliver(
        RECORD, delivery_for(RECORD), sent_marker="of_1.delivered", refused=lambda exc: refusals.append(str(exc))
    )
    assert refusals == ["bad address"] and recorder.log == []
    recorder.failure = TransientDeliveryError("provider down")
    with pytest.raises(TransientDeliveryError):
        deliverer.deliver(RECORD, delivery_for(RECORD), sent_marker="of_1.delivered", refused=_never_refused)
    assert recorder.log == []


def test_a_triggered_action_without_a_product_is_counted_by_trigger_but_publishes_no_outcome() -> None:
    recorder = Recorder()
    deliverer, adapter = _deliverer(recorder)
    action = RECORD.model_copy(
        update={"offer_id": "ac_1", "product": "retention_call", "trigger": "activity_drop", "action": "retention_call"}
    )
    assert action.product_code is None and RECORD.product_code == "credit_card"
    deliverer.deliver(action, delivery_for(action), sent_marker="ac_1.delivered", refused=_never_refused)
    assert adapter.sent[0].key == "ac_1"
    # outcomes.v1 names a product: the contact is counted (in the trigger's hash, not a product's), not published.
    assert recorder.steps() == ["count", "save"]
    increments = recorder.log[0][1][1]
    assert (kpi_key("trigger"), "activity_drop|contacts", 1) in increments
    assert not any(key == kpi_key("product") for key, _, _ in increments)


def test_deliveries_sent_together_publish_with_one_wait_then_each_is_counted_then_marked() -> None:
    recorder = Recorder()
    calls: list[int] = []
    adapter = Adapter(recorder)

    def publish(events: Sequence[Envelope]) -> None:
        calls.append(len(events))
        recorder.publish(events)

    deliverer = Deliverer(cast(Any, recorder), adapter, publish=publish)
    records = [RECORD.model_copy(update={"offer_id": f"of_{n}"}) for n in (1, 2, 3)]
    sent = [
        deliverer.send(r, delivery_for(r), sent_marker=f"{r.offer_id}.delivered", refused=_never_refused)
        for r in records
    ]
    assert len(adapter.sent) == 3 and recorder.log == []  # sent, nothing recorded yet: a crash re-sends all three
    deliverer.record([s for s in sent if s is not None])
    assert calls == [3]  # one wait for the three acks
    assert recorder.steps() == ["publish"] * 3 + ["count", "save"] * 3
    assert [e.event_id for _, e in recorder.log[:3]] == [delivered_event_id(r.offer_id) for r in records]
    counted = [v[0] for s, v in recorder.log if s == "count"]
    assert counted == ["of_1.delivered", "of_2.delivered", "of_3.delivered"]
