"""Broker drills on durable storage: kill -9 and restart, SIGSTOP past the producer's delivery timeout,
and a DLQ guard stop and restart. Each keeps a ledger: every acknowledged event on its topic exactly
once, processed + dead-lettered = ingested, nothing counted twice, ready again with no manual step."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ingest_openfinance.usecases.events import event_id_for
from prometeo.bus import ConsumerLoop, EventProducer
from prometeo.bus.producer import BrokerUnavailable
from prometeo.contracts import Envelope, EventPayload, topics
from prometeo.contracts.topics import dead_letter_topic
from prometeo.identity import customer_key
from prometeo.settings import DEV_PSEUDONYM_KEY, SharedSettings
from prometeo_dev import servers
from tests.app_helpers import caller_auth
from tests.bus_helpers import read_topic, scaled, wait_until
from tests.factories import booked
from tests.faults.conftest import DELIVERY_TIMEOUT_MS, RUN_DIR, SESSION_TIMEOUT_MS, DurableBroker, Service
from tests.faults.ledger import Ledger

pytestmark = [pytest.mark.faults, pytest.mark.timeout(180)]
# A publish that cannot complete answers within the delivery timeout, the 1 s margin and some slack.
BOUNDED_S = DELIVERY_TIMEOUT_MS / 1000 + 1 + 4


def _consent(customer_id: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "consent_id": f"urn:faults:{customer_id}",
        "institution": "test-bank",
        "scopes": ["accounts", "balances", "transactions", "customers"],
    }


def _txn(customer_id: str, sid: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "source_event_id": sid,
        "type": "transaction.booked",
        "version": 1,
        "occurred_at": "2026-11-20T12:00:00Z",
        "source": "core-banking",
        "payload": {
            "account_id": "a1",
            "transaction_id": sid,
            "direction": "debit",
            "amount": "10.00",
            "currency": "BRL",
            "booked_at": "2026-11-20T12:00:00Z",
        },
    }


def _settings(broker: str, **extra: Any) -> SharedSettings:
    # By their environment names (the fields' aliases).
    return SharedSettings(
        kafka_bootstrap_servers=broker,
        prometeo_consumer_session_timeout_ms=SESSION_TIMEOUT_MS,
        prometeo_env="test",
        **extra,
    )


class Counting:
    """An idempotent consumer of account-events.v1 for the drill's customers (dedupe by event id, as
    every platform consumer does); redeliveries are counted apart."""

    def __init__(self, ledger: Ledger, cks: set[str]) -> None:
        self.ledger, self.cks, self.redelivered = ledger, cks, 0

    def __call__(self, envelope: Envelope, _: EventPayload) -> None:
        if envelope.customer_key not in self.cks:
            return
        event_id = str(envelope.event_id)
        if self.ledger.processed[event_id]:
            self.redelivered += 1
            return
        self.ledger.processed[event_id] += 1


@pytest.fixture
def drill(durable_broker: DurableBroker, ingest: Service) -> Iterator[tuple[httpx.Client, list[str], set[str]]]:
    customers = [f"faults-{uuid.uuid4().hex[:8]}-{i}" for i in range(4)]
    with httpx.Client(base_url=ingest.url, timeout=30, auth=caller_auth("ingest-openfinance")) as client:
        for c in customers:
            assert client.post("/v1/consents", json=_consent(c)).status_code == 201
        yield client, customers, {customer_key(c, DEV_PSEUDONYM_KEY) for c in customers}
    assert ingest.wait_ready(60) >= 0, "the platform is ready again after the drill"


def _post(client: httpx.Client, items: list[dict[str, Any]]) -> httpx.Response:
    return client.post("/v1/events:batch", json={"events": items})


def _assert_unavailable(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    assert elapsed < scaled(BOUNDED_S), f"a failed publish took {elapsed:.1f}s"


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [str(event_id_for(i["source"], i["source_event_id"])) for i in items]


def _retry_until_accepted(client: httpx.Client, items: list[dict[str, Any]], ledger: Ledger) -> dict[str, Any]:
    """What a client does with 503 + Retry-After: send the same batch again until it is answered."""

    def attempt() -> dict[str, Any] | None:
        response = _post(client, items)
        if response.status_code == 503:
            ledger.refuse(_ids(items))
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    body: dict[str, Any] = wait_until(attempt, timeout=60, interval=0.5)
    return body


def _on_topic(broker: str, cks: set[str], expected: int) -> list[Any]:
    # One more than expected: read until the timeout so copies beyond the expected count show up too.
    return read_topic(
        broker,
        topics.ACCOUNT_EVENTS,
        min_count=expected + 1,
        timeout=4,
        match=lambda r: json.loads(r.value)["customer_key"] in cks,
    )


def _counting_loop(broker: str, ledger: Ledger, cks: set[str]) -> tuple[ConsumerLoop, Counting]:
    counting = Counting(ledger, cks)
    group = f"faults-counter-{uuid.uuid4().hex[:6]}"
    loop = ConsumerLoop(
        _settings(broker), group, {topics.ACCOUNT_EVENTS: counting}, EventProducer(broker, group), restart_pause_s=0.5
    )
    loop.start()
    assert loop.assigned.wait(scaled(30))
    return loop, counting


def test_broker_killed_and_restarted_loses_nothing_acknowledged(
    durable_broker: DurableBroker, ingest: Service, drill: tuple[httpx.Client, list[str], set[str]]
) -> None:
    client, customers, cks = drill
    ledger = Ledger("broker-kill-9")
    loop, counting = _counting_loop(durable_broker.bootstrap, ledger, cks)
    try:
        before = [_txn(c, f"{c}-a{i}") for c in customers for i in range(5)]
        response = _post(client, before)
        assert response.status_code == 200 and response.json()["counts"]["accepted"] == len(before)
        ledger.accept(response.json())

        durable_broker.kill()
        during = [_txn(c, f"{c}-b{i}") for c in customers for i in range(3)]
        started = time.monotonic()
        response = _post(client, during)
        _assert_unavailable(response, time.monotonic() - started)
        ledger.refuse(_ids(during))
        started = time.monotonic()
        refused = client.post("/v1/consents", json=_consent(f"faults-late-{uuid.uuid4().hex[:8]}"))
        _assert_unavailable(refused, time.monotonic() - started)

        durable_broker.start()
        recovered_s = ingest.wait_ready(60)
        body = _retry_until_accepted(client, during, ledger)
        assert body["counts"]["accepted"] == len(during), "released claims: the retry is stored, not 'duplicate'"
        ledger.accept(body)
        again = _post(client, before).json()
        assert again["counts"]["duplicate"] == len(before), "what was acknowledged before the kill is still known"

        ledger.read(_on_topic(durable_broker.bootstrap, cks, len(ledger.acknowledged)))
        wait_until(lambda: set(ledger.processed) >= ledger.acknowledged, timeout=40)
        print(
            f"[drill broker-kill-9] ingest ready {recovered_s:.1f}s after restart; redelivered={counting.redelivered}"
        )
    finally:
        loop.stop()
    ledger.assert_whole()


def test_broker_stalled_past_the_delivery_timeout_answers_503_and_recovers(
    durable_broker: DurableBroker, ingest: Service, drill: tuple[httpx.Client, list[str], set[str]]
) -> None:
    client, customers, cks = drill
    ledger = Ledger("broker-sigstop")
    items = [_txn(c, f"{c}-s{i}") for c in customers for i in range(3)]
    durable_broker.stall()
    try:
        started = time.monotonic()
        response = _post(client, items)
        _assert_unavailable(response, time.monotonic() - started)
        ledger.refuse(_ids(items))
        assert not ingest.ready(), "readiness reflects the broker not answering (a TCP connect still succeeds)"
    finally:
        durable_broker.resume()
    recovered_s = ingest.wait_ready(60)
    body = _retry_until_accepted(client, items, ledger)
    assert body["counts"]["accepted"] == len(items), "the 503 released every claim: the retry is accepted"
    ledger.accept(body)
    loop, counting = _counting_loop(durable_broker.bootstrap, ledger, cks)
    try:
        ledger.read(_on_topic(durable_broker.bootstrap, cks, len(ledger.acknowledged)))
        wait_until(lambda: set(ledger.processed) >= set(ledger.on_topic), timeout=40)
    finally:
        loop.stop()
    print(f"[drill broker-sigstop] ready {recovered_s:.1f}s after SIGCONT; redelivered={counting.redelivered}")
    ledger.assert_whole()


def test_the_dlq_guard_commits_what_it_dead_lettered_before_stopping(durable_broker: DurableBroker) -> None:
    """Poison records trip the guard; the restarted consumer does not dead-letter them again."""
    broker = durable_broker.bootstrap
    topic = f"faults-drill-{uuid.uuid4().hex[:6]}.v1"
    ck = f"ck_{uuid.uuid4().hex}"
    ledger = Ledger("dlq-guard-restart")
    producer = EventProducer(broker, "faults-drill")
    poison = [producer.publish_raw(topic, ck.encode(), b"{not json", []) for _ in range(6)]
    valid = [booked(ck) for _ in range(6)]
    futures = poison + [producer.publish(topic, e) for e in valid]
    assert all(producer.wait_acks(futures, time.monotonic() + 10))
    producer.close()
    ingested = len(futures)

    def handle(envelope: Envelope, _: EventPayload) -> None:
        ledger.processed[str(envelope.event_id)] += 1

    settings = _settings(broker, prometeo_dlq_window=4, prometeo_dlq_max_ratio=0.5)
    group = f"faults-dlq-{uuid.uuid4().hex[:6]}"

    def run_once() -> ConsumerLoop:
        loop = ConsumerLoop(settings, group, {topic: handle}, EventProducer(broker, group), restart_pause_s=0.5)
        loop.start()
        return loop

    first = run_once()
    assert settings.dlq_window == 4
    wait_until(lambda: not first.alive, timeout=40)
    assert first.error is not None and "dead-lettered" in str(first.error)
    second = run_once()
    try:
        wait_until(lambda: len(ledger.processed) == len(valid), timeout=40)
    finally:
        second.stop()
    dead = read_topic(broker, dead_letter_topic(topic), min_count=len(poison) + 1, timeout=4)
    for record in dead:
        headers = dict(record.headers)
        ledger.dead_lettered[f"{headers['dlq.origin_partition'].decode()}:{headers['dlq.origin_offset'].decode()}"] += 1
    ledger.acknowledged = set(ledger.processed) | set(ledger.dead_lettered)
    ledger.on_topic.update(ledger.acknowledged)
    assert sum(ledger.dead_lettered.values()) == len(poison), "each poison record dead-lettered exactly once"
    assert sum(ledger.processed.values()) + sum(ledger.dead_lettered.values()) == ingested
    ledger.assert_whole()


def test_a_producer_broken_by_a_broker_restart_is_rebuilt_without_a_process_restart() -> None:
    """kafka-python producers connected before a Tansu (memory) kill -9 fail every later send
    (`InitProducerId UnknownError`) until rebuilt: one send fails (503 to a caller), the next succeeds."""
    port = servers.free_port()
    listener = f"tcp://127.0.0.1:{port}"
    argv = [servers.tansu_binary(), "broker", "--listener-url", listener, "--advertised-listener-url", listener]
    argv += ["--storage-engine", "memory://tansu/"]

    def start() -> servers.Process:
        proc = servers.spawn("memory-broker", argv, RUN_DIR / "logs")
        servers.wait_for_port(port, 20, proc.proc)
        return proc

    broker = start()
    producer = EventProducer(f"127.0.0.1:{port}", "faults-rebuild", delivery_timeout_ms=DELIVERY_TIMEOUT_MS)
    try:
        assert producer.publish_all(topics.OUTCOMES, [booked(f"ck_{uuid.uuid4().hex}")]) == 1
        broker.kill()
        broker = start()

        def published() -> bool:
            try:
                return producer.publish_all(topics.OUTCOMES, [booked(f"ck_{uuid.uuid4().hex}")]) == 1
            except BrokerUnavailable:
                return False

        wait_until(published, timeout=30, interval=0.2)
        assert producer.probe()[0], "ready: a metadata round trip on the live client"
        print(f"[drill memory-broker-restart] producer rebuilds={producer.rebuilds}")
    finally:
        producer.close()
        broker.stop()
