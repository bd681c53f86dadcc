"""Acting on moments that matter: each moment's action is claimed by its trigger key, published on
offers.v1 as `action.triggered`, then marked done — so a redelivered event (or a retried publish)
yields the one action, never a second. Used by the account-events and scores consumers."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from next_best_action.domain.decision import quiet_channels
from next_best_action.domain.triggers import Action, CustomerView, Moment, action_for
from next_best_action.policy_source import PolicySource
from next_best_action.store import NbaStore
from next_best_action.trigger_store import TriggerStore
from prometeo.bus import EventProducer
from prometeo.contracts import ProductCode, new_event, topics
from prometeo.contracts.events import ActionTriggeredV1
from prometeo.telemetry.metrics import TRIGGERS

log = logging.getLogger(__name__)
SOURCE = "next-best-action"
PUBLISH_TIMEOUT_S = 15.0


class MomentRunner:
    def __init__(
        self, store: NbaStore, triggers: TriggerStore, policies: PolicySource, producer: EventProducer
    ) -> None:
        self._store = store
        self._triggers = triggers
        self._policies = policies
        self._producer = producer

    def customer(self, customer_key: str, now: datetime) -> tuple[CustomerView, dict[str, str]]:
        latest = self._store.latest_scores(customer_key)
        profile = latest.profile if latest else {}
        held = set(latest.held_products) if latest else set()
        held |= self._store.history(customer_key).accepted
        policy = self._policies.current()
        view = CustomerView(
            customer_key=customer_key,
            permissions=self._store.permissions(customer_key),
            held=frozenset(held),
            quiet=quiet_channels(profile, now, policy),
            last_fired=self._triggers.last_fired(customer_key),
        )
        return view, profile

    def acquired(self, customer_key: str) -> dict[ProductCode, date]:
        return self._triggers.acquired(customer_key)

    @staticmethod
    def queue_acquired(pipe: Any, customer_key: str) -> None:
        """Queues the read `acquired_from` folds (one round trip with the scores consumer's others)."""
        TriggerStore.queue_acquired(pipe, customer_key)

    @staticmethod
    def acquired_from(raw: Mapping[Any, Any]) -> dict[ProductCode, date]:
        return TriggerStore.acquired_from(raw)

    def run(self, customer_key: str, moments: list[Moment], now: datetime) -> list[ActionTriggeredV1]:
        published = []
        for moment in moments:
            view, _ = self.customer(customer_key, now)
            result = action_for(moment, self._policies.current(), view)
            if isinstance(result, str):
                TRIGGERS.labels(moment.trigger.value, result).inc()
                log.info("moment without action", extra={"trigger_key": moment.key, "rule": result})
                continue
            state, stored = self._triggers.claim(customer_key, moment.key, _payload(result).model_dump_json())
            if state == TriggerStore.DONE:
                TRIGGERS.labels(moment.trigger.value, "duplicate").inc()
                continue
            payload = ActionTriggeredV1.model_validate(json.loads(stored))  # ours, or the unfinished claim's
            event = new_event(
                payload,
                customer_key=customer_key,
                source=SOURCE,
                event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"prometeo:{payload.action_id}"),
            )
            self._producer.publish(topics.OFFERS, event).get(timeout=PUBLISH_TIMEOUT_S)
            self._triggers.done(customer_key, moment.key, moment.trigger, moment.at)
            TRIGGERS.labels(moment.trigger.value, "acted").inc()
            published.append(payload)
        return published


def _payload(action: Action) -> ActionTriggeredV1:
    return ActionTriggeredV1(
        action_id=action.action_id,
        trigger=action.moment.trigger.value,
        trigger_key=action.moment.key,
        kind=action.kind,
        action=action.action,
        product=action.product,
        channel=action.channel,
        detail=action.moment.detail,
    )
