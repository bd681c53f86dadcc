"""Producer of envelopes: acks=all, retries, adaptive batching, trace context in headers.

Batching is adaptive rather than timed: with no linger and one request in flight per connection, a
record sent to an idle connection leaves at once (a quiet stream pays no wait), and records sent
while a request is in flight gather into the next one (a busy stream ships full batches, as a linger
would). A fixed linger only delayed every record of a quiet stream: it was ~5 ms per hop on the
event-to-offer path and most of an HTTP publish's wait.

Every wait is bounded: a record the broker has not acknowledged within the delivery timeout fails
(`BrokerUnavailable`), and `publish_all` waits at most that long plus a margin. A producer that
failed (a fatal `InitProducerId` after a broker restart, an expired batch) is rebuilt in place, so
the next publish starts on a fresh client instead of failing until the process restarts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, cast

from kafka import KafkaProducer
from kafka.partitioner import DefaultPartitioner
from kafka.partitioner.default import murmur2

from prometeo.contracts.envelope import Envelope, customer_part
from prometeo.telemetry.metrics import EVENTS_PUBLISHED, child
from prometeo.telemetry.tracing import inject_headers

if TYPE_CHECKING:
    from prometeo.settings import SharedSettings

log = logging.getLogger(__name__)

DEFAULT_DELIVERY_TIMEOUT_MS = 10_000
# How long past the delivery timeout a caller keeps waiting for the producer's own verdict.
ACK_WAIT_MARGIN_S = 1.0
RETRY_AFTER_S = 5


class SendFuture(Protocol):
    """What kafka-python's `send()` returns (a `FutureRecordMetadata`): `get` waits for the broker's ack
    and raises what the send failed with."""

    def get(self, timeout: float | None = None) -> Any: ...

    def add_callback(self, f: Callable[..., Any], *args: Any) -> Any: ...

    def add_errback(self, f: Callable[..., Any], *args: Any) -> Any: ...


class BrokerUnavailable(RuntimeError):
    """The broker did not acknowledge in bounded time: nothing of the call may be reported as stored.
    Answered 503 + Retry-After by the shared problem handlers."""

    retry_after_s = RETRY_AFTER_S

    def __init__(self, detail: str, failed: int = 0) -> None:
        super().__init__(detail)
        self.failed = failed


class PublishInterrupted(RuntimeError):
    """`publish_many` stopped at a send that raised: `futures` are those handed over before it."""

    def __init__(self, cause: BaseException, futures: list[SendFuture]) -> None:
        super().__init__(f"send failed after {len(futures)} record(s): {type(cause).__name__}")
        self.cause = cause
        self.futures = futures


class Publishable(Protocol):
    """What `publish_many` sends: an `Envelope`, or one already encoded (`prometeo.contracts.wire`)."""

    @property
    def type(self) -> str: ...

    @property
    def key(self) -> bytes: ...

    def to_bytes(self) -> bytes: ...


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
        if serialized_key is None:
            chosen: int = super().partition(topic, key, None, value, serialized_value, cluster)
            return chosen
        # DefaultPartitioner's arithmetic, with the pure-Python murmur2 (~15 µs a key) computed once per
        # customer: a key lands where it always has.
        # partitions_for_topic answers None for an unknown topic: the check `topics()` made, without
        # building the set of every topic for each record.
        known = cluster.partitions_for_topic(topic)  # type: ignore[attr-defined]
        if known is None:
            raise ValueError(f"Topic {topic} not found in ClusterMetadata")
        all_partitions: list[int] = sorted(known)
        return all_partitions[_customer_hash(customer_part(serialized_key)) % len(all_partitions)]


@lru_cache(maxsize=100_000)
def _customer_hash(customer: bytes) -> int:
    return int(murmur2(customer)) & 0x7FFFFFFF


# kafka-python wakes its sender (a socket write) for every batch it opens; at the 16 KiB default a batch
# holds ~15 envelopes. Bigger batches still ship after linger_ms or at a flush, so latency is unchanged.
BATCH_SIZE_BYTES = 256 * 1024


class EventProducer:
    def __init__(
        self,
        bootstrap_servers: str,
        client_id: str,
        linger_ms: int = 0,
        delivery_timeout_ms: int = DEFAULT_DELIVERY_TIMEOUT_MS,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._linger_ms = linger_ms
        self.delivery_timeout_ms = delivery_timeout_ms
        self._lock = threading.Lock()
        self._generation = 0
        self.rebuilds = 0
        self.last_ack_at: float | None = None  # monotonic instant of the last acknowledged publish_all
        self._broken: tuple[int, BaseException] | None = None  # a send of that generation failed
        self._api_version: Any = None
        self._producer = self._build()

    @classmethod
    def for_service(cls, settings: SharedSettings, client_id: str, linger_ms: int = 0) -> EventProducer:
        return cls(
            settings.kafka_bootstrap_servers,
            client_id,
            linger_ms=linger_ms,
            delivery_timeout_ms=settings.producer_delivery_timeout_ms,
        )

    @property
    def ack_wait_s(self) -> float:
        """The longest a caller waits for an acknowledgement: the delivery timeout plus a margin."""
        return self.delivery_timeout_ms / 1000 + ACK_WAIT_MARGIN_S

    def _build(self) -> KafkaProducer:
        delivery = self.delivery_timeout_ms
        # kafka-python requires delivery >= linger + request timeout.
        request_timeout = max(500, min(15_000, delivery - self._linger_ms - 100))
        # A rebuild reuses the broker version learned at start: no blocking bootstrap while the broker is down.
        known = {"api_version": self._api_version} if self._api_version is not None else {}
        producer = KafkaProducer(
            **known,
            bootstrap_servers=self.bootstrap_servers,
            client_id=self._client_id,
            acks="all",
            batch_size=BATCH_SIZE_BYTES,
            retries=10,
            linger_ms=self._linger_ms,
            max_in_flight_requests_per_connection=1,  # keeps per-key order across retries
            request_timeout_ms=request_timeout,
            delivery_timeout_ms=max(delivery, request_timeout + self._linger_ms),
            max_block_ms=delivery,  # send() blocks on missing metadata at most this long
            partitioner=CustomerPartitioner(),
        )
        self._api_version = producer.config["api_version"]
        return producer

    # -- publishing ---------------------------------------------------------------------------------
    def publish(self, topic: str, event: Envelope, extra_headers: Iterable[tuple[str, bytes]] = ()) -> SendFuture:
        headers = [("event_type", event.type.encode()), *inject_headers(), *extra_headers]
        future = self._send(topic, event.key, event.to_bytes(), headers)
        child(EVENTS_PUBLISHED, topic, event.type).inc()
        return future

    def publish_many(self, topic: str, events: Sequence[Publishable]) -> list[SendFuture]:
        """`publish` for a batch, with what does not change between its records done once: the trace
        headers, the per-type header, the metric, each customer's partition. A send that raises stops the
        batch with `PublishInterrupted` (carrying the futures handed over so far).

        The caller waits on every future with `wait_acks`, which rebuilds the client on any failure: so no
        per-record errback (the one `_send` adds for a future nobody waits on)."""
        broken = self._broken
        if broken is not None:
            self.failed(broken[1], broken[0])
        producer = self._producer
        partitions = self._partitions(topic)
        trace_headers = inject_headers()
        type_headers: dict[str, list[tuple[str, bytes]]] = {}
        futures: list[SendFuture] = []
        try:
            for event in events:
                headers = type_headers.get(event.type)
                if headers is None:
                    headers = type_headers[event.type] = [("event_type", event.type.encode()), *trace_headers]
                key = event.key
                # The partition CustomerPartitioner would choose, handed over so kafka-python skips its
                # partitioner call; unknown metadata (None) leaves the choice, and the wait for it, to send().
                partition = (
                    None if partitions is None else partitions[_customer_hash(customer_part(key)) % len(partitions)]
                )
                futures.append(
                    producer.send(topic, key=key, value=event.to_bytes(), headers=headers, partition=partition)
                )
        except Exception as exc:
            raise PublishInterrupted(exc, futures) from exc
        finally:
            for event_type, count in Counter(e.type for e in events[: len(futures)]).items():
                EVENTS_PUBLISHED.labels(topic, event_type).inc(count)
        return futures

    def _partitions(self, topic: str) -> list[int] | None:
        """The topic's partitions as CustomerPartitioner orders them, or None while metadata is unknown."""
        known = self._producer._metadata.partitions_for_topic(topic)
        return sorted(known) if known else None

    def publish_raw(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> SendFuture:
        return self._send(topic, key, value, headers)

    def _send(self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> SendFuture:
        """Send on the live client; a client whose earlier send failed is rebuilt first. The failure
        is noted from the sender thread (an errback) and acted on here, on the caller's thread."""
        broken = self._broken
        if broken is not None:
            self.failed(broken[1], broken[0])
        generation = self._generation
        future = self._producer.send(topic, key=key, value=value, headers=headers)
        future.add_errback(self._note_failure, generation)
        return cast("SendFuture", future)

    def _note_failure(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._broken = (generation, exc)

    def publish_all(self, topic: str, events: Iterable[Envelope], timeout: float | None = None) -> int:
        """Publish and wait until the broker has acknowledged every event, or raise `BrokerUnavailable`."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.ack_wait_s)
        try:
            futures = [self.publish(topic, e) for e in events]
        except Exception as exc:
            self.failed(exc, self._generation)
            raise BrokerUnavailable(f"publish to {topic} failed: {type(exc).__name__}") from exc
        # The generation the futures were sent on (the first send may have rebuilt a broken client).
        outcomes = self.wait_acks(futures, deadline, self._generation)
        failed = sum(1 for ok in outcomes if not ok)
        if failed:
            raise BrokerUnavailable(f"{failed} event(s) to {topic} not acknowledged by the broker", failed)
        return len(futures)

    async def publish_acked(self, topic: str, event: Envelope) -> None:
        """Publish one event and wait for the broker's ack on the running event loop, holding no thread
        (the sender thread settles the wait): for a request that answers only once its record is durable.
        Raises `BrokerUnavailable` like `publish_all`, after the same rebuild."""
        loop = asyncio.get_running_loop()
        generation = self._generation
        try:
            if self.sends_without_blocking(topic):
                # The topic's leaders are known: send() only appends to the producer's buffer.
                future = self.publish(topic, event)
            else:
                # send() would wait for broker metadata; keep that off the event loop.
                future = await loop.run_in_executor(None, self.publish, topic, event)
            generation = self._generation  # the send may have rebuilt a broken client first
            acked: asyncio.Future[None] = loop.create_future()
            future.add_callback(lambda _: loop.call_soon_threadsafe(_settle, acked, None))
            future.add_errback(lambda exc: loop.call_soon_threadsafe(_settle, acked, exc))
            await asyncio.wait_for(acked, self.ack_wait_s)
        except Exception as exc:
            # A rebuild builds a client: not on the event loop.
            await loop.run_in_executor(None, self.failed, exc, generation)
            raise BrokerUnavailable(f"publish to {topic} not acknowledged: {type(exc).__name__}", 1) from exc
        self.last_ack_at = time.monotonic()

    def wait_acks(self, futures: list[SendFuture], deadline: float, generation: int | None = None) -> list[bool]:
        """Wait for each future until `deadline` (monotonic): True where the broker acknowledged it.
        Any failure rebuilds the producer, which also drops what is still buffered, so nothing the
        caller gives up on is delivered later behind its back."""
        outcomes: list[bool] = []
        first_error: BaseException | None = None
        for future in futures:
            try:
                future.get(timeout=max(0.0, deadline - time.monotonic()))
                outcomes.append(True)
            except Exception as exc:
                first_error = first_error or exc
                outcomes.append(False)
        if first_error is not None:
            self.failed(first_error, self._generation if generation is None else generation)
        elif futures:
            self.last_ack_at = time.monotonic()
        return outcomes

    @property
    def generation(self) -> int:
        return self._generation

    # -- recovery -----------------------------------------------------------------------------------
    def failed(self, exc: BaseException, generation: int) -> None:
        """A send on `generation` failed: rebuild the client unless another caller already did."""
        with self._lock:
            if generation != self._generation:
                return
            old = self._producer
            try:
                self._producer = self._build()
            except Exception as build_error:  # keep the old client; the next send tries again
                self._broken = (generation, exc)
                log.warning("producer rebuild failed", extra={"error": type(build_error).__name__})
                return
            self._generation += 1
            self._broken = None
            self.rebuilds += 1
        log.warning(
            "producer rebuilt after a failed send",
            extra={"client_id": self._client_id, "error": type(exc).__name__, "detail": str(exc)[:200]},
        )
        threading.Thread(target=_close_quietly, args=(old,), name="producer-close", daemon=True).start()

    def fatal(self) -> bool:
        manager = getattr(self._producer, "_transaction_manager", None)
        return bool(manager is not None and manager.has_fatal_error())

    def probe(self, timeout_s: float = 2.0) -> tuple[bool, str]:
        """Readiness: a metadata round trip to the broker on the live client (a stalled broker
        accepts TCP connections but never answers), after replacing a client in a fatal state."""
        generation = self._generation
        if self.fatal():
            self.failed(RuntimeError("producer in a fatal state"), generation)
            return False, "producer was in a fatal state; rebuilt"
        cluster = getattr(self._producer, "_metadata", None)
        if cluster is None:
            return False, "no metadata client"
        future = cluster.request_update()
        deadline = time.monotonic() + timeout_s
        while not future.is_done and time.monotonic() < deadline:
            time.sleep(0.02)
        if not future.is_done:
            return False, f"no metadata answer from the broker within {timeout_s:g}s"
        if future.failed():
            return False, f"metadata request failed: {type(future.exception).__name__}"
        age = "never" if self.last_ack_at is None else f"{time.monotonic() - self.last_ack_at:.0f}s ago"
        return True, f"metadata round trip ok; last ack {age}; {self.rebuilds} rebuild(s)"

    def flush(self, timeout: float = 30.0) -> None:
        self._producer.flush(timeout)

    def sends_without_blocking(self, topic: str) -> bool:
        """send() to this topic will not wait for broker metadata: its partitions' leaders are known.
        An event loop may then call publish() inline instead of through a thread."""
        return bool(self._producer._metadata.available_partitions_for_topic(topic))

    def close(self) -> None:
        self._producer.close(timeout=5)


def _settle(acked: asyncio.Future[None], exc: BaseException | None) -> None:
    if acked.done():  # the waiter gave up (timeout, cancelled request)
        return
    if exc is None:
        acked.set_result(None)
    else:
        acked.set_exception(exc)


def _close_quietly(producer: KafkaProducer) -> None:
    try:
        producer.close(timeout=0)
    except Exception as exc:  # the client is already being replaced
        log.debug("closing a failed producer", extra={"error": type(exc).__name__})
