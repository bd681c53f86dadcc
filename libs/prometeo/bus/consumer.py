"""At-least-once consumer loop.

Commits only after every record of a poll was handled (or dead-lettered). A record that can never
succeed goes to `<topic>.dlq` with origin and error in headers and the loop moves on; a
`RetryableError` (a dependency is down) rewinds the partition and retries after a pause, so a
Redis outage never drains a topic into the DLQ. If the share of dead letters in the recent window
exceeds the configured ratio, the loop stops: something upstream is systematically wrong; it first
commits what it has handled and dead-lettered, so a restart does not dead-letter the same records again.

Dead letters are acknowledged by the broker before the offsets that skip them are committed. A loop
that fails for any other reason (a broker restart, a commit refused after a rebalance) is rebuilt
with a fresh consumer after a pause and resumes from the committed offsets: no human restart needed.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

import redis
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata
from opentelemetry import context, trace
from prometheus_client import Counter, Histogram

from prometeo.bus.producer import BrokerUnavailable, EventProducer, SendFuture
from prometeo.contracts.envelope import Envelope, EventPayload, InvalidEvent, decode, registered_type_of
from prometeo.contracts.topics import dead_letter_topic
from prometeo.settings import SharedSettings
from prometeo.telemetry.metrics import CONSUMER_LAG, CONSUMER_MESSAGES, CONSUMER_PROCESSING_SECONDS
from prometeo.telemetry.tracing import exporting, extract_context, tracer

log = logging.getLogger(__name__)

Handler = Callable[[Envelope, EventPayload], None]


class RetryableError(RuntimeError):
    """A transient failure (dependency down): retry the same record later, never dead-letter it."""


class DeadLetterRateExceeded(RuntimeError):
    pass


# Failures of a dependency, not of the message: retry the same records after a pause.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RetryableError,
    ConnectionError,
    TimeoutError,
    redis.ConnectionError,
    redis.TimeoutError,
)


class ConsumerLoop:
    def __init__(
        self,
        settings: SharedSettings,
        group_id: str,
        handlers: dict[str, Handler],
        dlq_producer: EventProducer,
        retryable: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
        retry_pause_s: float = 1.0,
        on_batch_end: Callable[[], None] | None = None,
        restart_pause_s: float = 2.0,
        batch_window_s: float = 0.0,
        batch_max_records: int = 0,
        acts_on: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self._settings = settings
        self._group_id = group_id
        self._handlers = handlers
        self._dlq = dlq_producer
        self._retryable = retryable
        self._retry_pause_s = retry_pause_s
        # Runs after a batch's records are handled and before the commit (e.g. debounced publishing).
        self._on_batch_end = on_batch_end
        # A batch (handled, then the hook, then one commit) may span several polls: while polls come
        # back full (a backlog) it keeps polling, for up to `batch_window_s` and `batch_max_records`.
        # What the hook does once per batch (a feature vector per customer touched) is then done once
        # for many polls' events; the offsets are still committed only after it. 0: one poll, one batch.
        self._batch_window_s = batch_window_s
        self._batch_max_records = batch_max_records
        self._max_poll_records = settings.consumer_max_poll_records
        # Topic → the event types its handler acts on (a topic not named: every type). A record of another
        # registered type is passed over as the handler would have ignored it, without building its envelope
        # and payload (most of a record's cost); it is not validated either: its invalid records are dead-
        # lettered by the consumers that act on them. Bytes naming no registered type are decoded as before,
        # so they still go to the dead-letter topic with their reason.
        self._acts_on = {topic: frozenset(types) for topic, types in (acts_on or {}).items()}
        self._stop = threading.Event()
        self._recent: deque[bool] = deque(maxlen=settings.dlq_window)
        self._failures = 0  # of `_recent`
        self._thread: threading.Thread | None = None
        # Set once the group has handed out partitions, even none: a replica beyond the partition
        # count is a ready stand-by, not a broken pod.
        self.assigned = threading.Event()
        self.error: BaseException | None = None
        self.restarts = 0
        self.last_poll_at: float | None = None  # monotonic; readiness treats a long silence as stuck
        self._restart_pause_s = restart_pause_s
        self._dead_letters: list[SendFuture] = []
        self._tracer = tracer(f"prometeo.consumer.{group_id}")
        self._topic_metrics: dict[str, _TopicMetrics] = {}

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run_guarded, name=f"consumer-{self._group_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def group_id(self) -> str:
        return self._group_id

    def _run_guarded(self) -> None:
        while not self._stop.is_set():
            try:
                self.run()
                return
            except DeadLetterRateExceeded as exc:  # surfaced by /readyz: a human must look upstream
                self.error = exc
                log.exception("consumer loop stopped", extra={"group": self._group_id})
                return
            except Exception as exc:
                self.error = exc
                self.restarts += 1
                log.exception("consumer loop failed; rebuilding the consumer", extra={"group": self._group_id})
                self._stop.wait(self._restart_pause_s)

    # -- the loop ----------------------------------------------------------------------------------
    def _consumer(self) -> KafkaConsumer:
        s = self._settings
        consumer = KafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap_servers,
            group_id=self._group_id,
            client_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=s.consumer_session_timeout_ms,
            heartbeat_interval_ms=max(100, s.consumer_session_timeout_ms // 3),
            max_poll_records=s.consumer_max_poll_records,
            max_poll_interval_ms=300_000,
        )
        consumer.subscribe(topics=list(self._handlers), listener=_Joined(self.assigned))
        return consumer

    def run(self) -> None:
        consumer = self._consumer()
        try:
            while not self._stop.is_set():
                batch = self._poll(consumer, 200)
                if not batch:
                    continue
                # The first records of each partition in the batch: where a failed batch rewinds to.
                first: dict[TopicPartition, list[ConsumerRecord]] = dict(batch)
                ends = time.monotonic() + self._batch_window_s
                handled: list[ConsumerRecord] = []
                done: dict[TopicPartition, int] = {}  # next offset per partition: handled or dead-lettered
                while True:
                    rewound = self._handle(consumer, batch, handled, done)
                    left = ends - time.monotonic()
                    # Only a full poll says more records are waiting (a backlog): at the head of the
                    # stream the batch ends at once, so a quiet stream pays no added latency.
                    full = sum(len(records) for records in batch.values()) >= self._max_poll_records
                    if rewound or not full or left <= 0 or len(handled) >= self._batch_max_records:
                        break
                    if self._stop.is_set():
                        break
                    batch = self._poll(consumer, max(1, int(left * 1000)))
                    if not batch:
                        break
                    for tp, records in batch.items():
                        first.setdefault(tp, records)
                if self._on_batch_end is not None and not self._end_batch(
                    consumer, first, handled, self._on_batch_end, done
                ):
                    continue
                self._await_dead_letters()
                consumer.commit()
                self._record_lag(consumer, first.keys())
                if rewound:
                    self._stop.wait(self._retry_pause_s)
        finally:
            consumer.close(autocommit=False)

    def _poll(self, consumer: KafkaConsumer, timeout_ms: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        batch: dict[TopicPartition, list[ConsumerRecord]] = consumer.poll(timeout_ms=timeout_ms)
        self.last_poll_at = time.monotonic()
        if consumer.assignment():
            self.assigned.set()
        return batch

    def _handle(
        self,
        consumer: KafkaConsumer,
        batch: dict[TopicPartition, list[ConsumerRecord]],
        handled: list[ConsumerRecord],
        done: dict[TopicPartition, int],
    ) -> bool:
        """Hand a poll's records to their handlers; True when a retryable failure rewound a partition."""
        rewound = False
        for tp, records in batch.items():
            for record in records:
                try:
                    if self._process(record):
                        handled.append(record)
                except self._retryable as exc:
                    log.warning("retryable failure, rewinding", extra={"topic": tp.topic, "error": str(exc)})
                    consumer.seek(tp, record.offset)
                    rewound = True
                    break
                except DeadLetterRateExceeded:
                    done[tp] = record.offset + 1  # the record that tripped the guard was dead-lettered
                    self._commit_before_stop(consumer, done, handled)
                    raise
                done[tp] = record.offset + 1
        return rewound

    def _end_batch(
        self,
        consumer: KafkaConsumer,
        batch: dict[TopicPartition, list[ConsumerRecord]],
        handled: list[ConsumerRecord],
        on_batch_end: Callable[[], None],
        done: dict[TopicPartition, int],
    ) -> bool:
        """Run the batch-end hook (e.g. a buffered, pipelined write). On a retryable failure rewind
        every partition to the batch start: handlers are idempotent, so the replay is safe. Any other
        failure means some record can never be applied: replay the batch one record at a time to
        find it and dead-letter it alone, so one poison record never stops the consumer."""
        try:
            on_batch_end()
            return True
        except self._retryable as exc:
            log.warning("batch-end hook failed, rewinding batch", extra={"error": str(exc)})
        except Exception as exc:
            log.warning("batch-end hook failed, isolating the record", extra={"error": f"{type(exc).__name__}"})
            try:
                for position, record in enumerate(handled):
                    try:
                        self._isolate(record, on_batch_end)
                    except DeadLetterRateExceeded:
                        # Records after this one were never applied: commit only up to the first of them.
                        safe = dict(done)
                        for later in handled[position + 1 :]:
                            tp = TopicPartition(later.topic, later.partition)
                            safe[tp] = min(safe.get(tp, later.offset), later.offset)
                        self._commit(consumer, safe)
                        raise
                return True
            except self._retryable as retry:
                log.warning("retryable failure while isolating, rewinding batch", extra={"error": str(retry)})
        # A batch spanning polls may have lost partitions to a rebalance since: their new owner
        # starts from the committed offsets anyway.
        assigned = consumer.assignment()
        for tp, records in batch.items():
            if tp in assigned:
                consumer.seek(tp, records[0].offset)
        self._stop.wait(self._retry_pause_s)
        return False

    def _isolate(self, record: ConsumerRecord, on_batch_end: Callable[[], None]) -> None:
        """Handle one record and run the batch-end hook for it alone; dead-letter it if that fails."""
        if self._passes_over(record):
            return
        try:
            envelope, payload = decode(record.value)
            self._handlers[record.topic](envelope, payload)
            on_batch_end()
        except self._retryable:
            raise
        except Exception as exc:
            self._dead_letter(record, exc)
            self._note(failed=True)

    def _metrics(self, topic: str) -> _TopicMetrics:
        """The topic's labelled metric children, looked up once (`labels()` costs more than `inc()`)."""
        found = self._topic_metrics.get(topic)
        if found is None:
            found = self._topic_metrics[topic] = _TopicMetrics(
                consumed=CONSUMER_MESSAGES.labels(self._group_id, topic, "consumed"),
                processed=CONSUMER_MESSAGES.labels(self._group_id, topic, "processed"),
                failed=CONSUMER_MESSAGES.labels(self._group_id, topic, "failed"),
                seconds=CONSUMER_PROCESSING_SECONDS.labels(self._group_id, topic),
            )
        return found

    def _process(self, record: ConsumerRecord) -> bool:
        """Decode and hand a record to its handler. False when it was dead-lettered instead."""
        topic = record.topic
        metrics = self._metrics(topic)
        metrics.consumed.inc()
        started = time.perf_counter()
        if self._passes_over(record):
            # Counted as the handler's ignoring it was: processed, and a success for the dead-letter guard.
            metrics.seconds.observe(time.perf_counter() - started)
            metrics.processed.inc()
            self._note(failed=False)
            return True
        parent = extract_context(record.headers)
        with self._span(topic, record.offset, parent) as span:
            try:
                envelope, payload = decode(record.value)
                self._handlers[topic](envelope, payload)
            except self._retryable:
                metrics.failed.inc()
                raise
            except Exception as exc:
                metrics.failed.inc()
                if span is not None:
                    span.record_exception(exc)
                self._dead_letter(record, exc)
                self._note(failed=True)
                return False
        metrics.seconds.observe(time.perf_counter() - started)
        metrics.processed.inc()
        self._note(failed=False)
        return True

    def _passes_over(self, record: ConsumerRecord) -> bool:
        """True for a record of a registered type its topic's handler does not act on (see `acts_on`)."""
        acts_on = self._acts_on.get(record.topic)
        if acts_on is None:
            return False
        named = registered_type_of(record.value)
        return named is not None and named[0] not in acts_on

    @contextlib.contextmanager
    def _span(self, topic: str, offset: int, parent: context.Context) -> Iterator[trace.Span | None]:
        """A consumer span when spans are exported; otherwise just the upstream context, so what the
        handler publishes still carries the trace on."""
        if not exporting():
            token = context.attach(parent)
            try:
                yield None
            finally:
                context.detach(token)
            return
        kind = trace.SpanKind.CONSUMER
        with self._tracer.start_as_current_span(f"{topic} process", context=parent, kind=kind) as span:
            span.set_attribute("messaging.destination.name", topic)
            span.set_attribute("messaging.kafka.offset", offset)
            yield span

    def _dead_letter(self, record: ConsumerRecord, exc: Exception) -> None:
        reason = str(exc) if isinstance(exc, InvalidEvent) else f"{type(exc).__name__}: {exc}"
        headers = [
            ("dlq.reason", reason[:1000].encode()),
            ("dlq.error_class", type(exc).__name__.encode()),
            ("dlq.origin_topic", record.topic.encode()),
            ("dlq.origin_partition", str(record.partition).encode()),
            ("dlq.origin_offset", str(record.offset).encode()),
            ("dlq.consumer_group", self._group_id.encode()),
        ]
        self._dead_letters.append(
            self._dlq.publish_raw(dead_letter_topic(record.topic), record.key, record.value, headers)
        )
        CONSUMER_MESSAGES.labels(self._group_id, record.topic, "dead_lettered").inc()
        log.warning(
            "message dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": reason[:300],
                "trace": traceback.format_exception_only(exc)[-1].strip()[:300],
            },
        )

    def _await_dead_letters(self) -> None:
        """The broker acknowledged every dead letter of the batch, or raise: the offsets that skip
        them must not be committed (the loop is rebuilt and the records come round again)."""
        pending, self._dead_letters = self._dead_letters, []
        if not pending:
            return
        deadline = time.monotonic() + self._dlq.ack_wait_s
        if not all(self._dlq.wait_acks(pending, deadline)):
            raise BrokerUnavailable("dead letters not acknowledged; offsets left uncommitted")

    def _commit(self, consumer: KafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        self._await_dead_letters()
        if offsets:
            consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})

    def _commit_before_stop(
        self, consumer: KafkaConsumer, done: dict[TopicPartition, int], handled: list[ConsumerRecord]
    ) -> None:
        """The guard stops the loop: commit what was handled and dead-lettered so far, so a restart
        does not dead-letter the same records again. With a batch-end hook, the handled records'
        effects are applied first; if that fails nothing is committed (the records come back)."""
        if self._on_batch_end is not None and handled:
            try:
                self._on_batch_end()
            except Exception as exc:
                log.warning("batch-end hook failed before stopping", extra={"error": type(exc).__name__})
                return
        self._commit(consumer, done)

    def _note(self, failed: bool) -> None:
        recent = self._recent
        # The failures in the window, counted as they enter and leave it (not summed over it per record).
        if recent.maxlen and len(recent) == recent.maxlen and recent[0]:
            self._failures -= 1
        recent.append(failed)
        self._failures += failed
        window = recent.maxlen or 1
        if len(recent) == window and self._failures / window > self._settings.dlq_max_ratio:
            raise DeadLetterRateExceeded(
                f"more than {self._settings.dlq_max_ratio:.0%} of the last {window} messages were dead-lettered"
            )

    def _record_lag(self, consumer: KafkaConsumer, partitions: Iterable[TopicPartition]) -> None:
        assigned = consumer.assignment()
        for tp in partitions:
            if tp not in assigned:  # revoked by a rebalance during the batch
                continue
            high = consumer.highwater(tp)
            pos = consumer.position(tp)
            if high is not None and pos is not None:
                CONSUMER_LAG.labels(self._group_id, tp.topic, str(tp.partition)).set(max(0, high - pos))


@dataclass(frozen=True)
class _TopicMetrics:
    consumed: Counter
    processed: Counter
    failed: Counter
    seconds: Histogram


class _Joined(ConsumerRebalanceListener):  # type: ignore[misc]  # kafka-python ships no types
    """Marks the group join done when partitions are handed out, whatever their number."""

    def __init__(self, joined: threading.Event) -> None:
        self._joined = joined

    def on_partitions_revoked(self, revoked: object) -> None:
        pass

    def on_partitions_assigned(self, assigned: object) -> None:
        self._joined.set()
