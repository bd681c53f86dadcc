"""Producer of envelopes: acks=all, retries, small linger for batching, trace context in headers."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.partitioner import DefaultPartitioner

from prometeo.contracts.envelope import Envelope, customer_part
from prometeo.telemetry.metrics import EVENTS_PUBLISHED
from prometeo.telemetry.tracing import inject_headers


class SendFuture(Protocol):
    """What kafka-python's `send()` returns (a `FutureRecordMetadata`): `get` waits for the broker's ack
    and raises what the send failed with."""

    def get(self, timeout: float | None = None) -> Any: ...


class CustomerPartitioner(DefaultPartitioner):  # type: ignore[misc]  # kafka-python ships no types
    """Partitions by the customer part of the key: `ck` and `ck|consent-1` land together, in order."""

    def partition(
        self,
        topic: str,
        key: object,
        serialized_key: bytes | None,
        value: object,
        serialized_value: bytes | None,
        cluster: object,
    ) -> int:
        routed = customer_part(serialized_key) if serialized_key is not None else None
        chosen: int = super().partition(topic, key, routed, value, serialized_value, cluster)
        return chosen


class EventProducer:
    def __init__(self, bootstrap_servers: str, client_id: str, linger_ms: int = 5) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            retries=10,
            linger_ms=linger_ms,
            max_in_flight_requests_per_connection=1,  # keeps per-key order across retries
            request_timeout_ms=15000,
            partitioner=CustomerPartitioner(),
        )

    def publish(self, topic: str, event: Envelope, extra_headers: Iterable[tuple[str, bytes]] = ()) -> SendFuture:
        headers = [("event_type", event.type.encode()), *inject_headers(), *extra_headers]
        future: SendFuture = self._producer.send(topic, key=event.key, value=event.to_bytes(), headers=headers)
        EVENTS_PUBLISHED.labels(topic, event.type).inc()
        return future

    def publish_raw(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> SendFuture:
        future: SendFuture = self._producer.send(topic, key=key, value=value, headers=headers)
        return future

    def publish_all(self, topic: str, events: Iterable[Envelope], timeout: float = 30.0) -> int:
        """Publish and wait until the broker has acknowledged every event."""
        futures = [self.publish(topic, e) for e in events]
        self._producer.flush(timeout)
        for f in futures:
            f.get(timeout=timeout)
        return len(futures)

    def flush(self, timeout: float = 30.0) -> None:
        self._producer.flush(timeout)

    def sends_without_blocking(self, topic: str) -> bool:
        """send() to this topic will not wait for broker metadata: its partitions' leaders are known.
        An event loop may then call publish() inline instead of through a thread."""
        return bool(self._producer._metadata.available_partitions_for_topic(topic))

    def bootstrap_connected(self) -> bool:
        """A broker of the bootstrap list accepts connections (kafka-python drops its bootstrap
        connection once metadata arrives, so its own flag reads False on a healthy client)."""
        for server in self._bootstrap_servers.split(","):
            host, _, port = server.strip().rpartition(":")
            with contextlib.suppress(OSError), socket.create_connection((host or "localhost", int(port)), timeout=1):
                return True
        return False

    def close(self) -> None:
        self._producer.close(timeout=5)
