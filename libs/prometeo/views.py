"""Redis views rebuilt from the log, and a wiped Redis detected (docs/redis-keys.md).

Each service that keeps views in Redis owns an epoch marker, `{namespace}:epoch`, written once its
views are whole. A Redis restarted empty (or flushed) has no marker: `ViewGuard` notices it (on every
`/readyz` and every `interval_s`), closes the gate of the service's consumers (their handlers raise
`RetryableError`, so the loop rewinds and retries later instead of writing into an empty view),
rebuilds the views from the topics and writes the marker again. `/readyz` answers 503 meanwhile.

The rebuild reads topics from their first offset with a group-less consumer (partitions assigned,
`seek_to_beginning`): the consumer group's committed offsets neither block it nor move. Erasure comes
first: `customer-erasure.v1` is read before anything else, each service restores its tombstones from
it, and every replayed event of a customer from before the customer's latest erasure is skipped, so
no rebuild resurrects an erased customer.

Several replicas share one marker: the first that finds it missing claims it (`SET NX` with a lease,
state `rebuilding`, refreshed while it works) and rebuilds; the others wait for state `ready`. A replica
that dies mid-rebuild lets the lease expire (30 s) and another one claims it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from fastapi import FastAPI
from kafka import KafkaConsumer, TopicPartition
from starlette.types import ASGIApp, Receive, Scope, Send

from prometeo import clock, keys
from prometeo.bus.consumer import TRANSIENT_ERRORS, Handler, RetryableError
from prometeo.contracts import Envelope, EventPayload, InvalidEvent, decode, topics
from prometeo.contracts.events import ConsentGrantedV1, CustomerErasureRequestedV1
from prometeo.redis_text import text
from prometeo.web.problems import problem_response

log = logging.getLogger(__name__)

READY = "ready"
REBUILDING = "rebuilding"
_MAX_EMPTY_POLLS = 20  # 10 s without records short of the end offsets: give up waiting


class ViewsLost(RetryableError):
    """The epoch marker is gone (Redis wiped): nothing may be written until the views are rebuilt."""


class ViewsRebuilding(RetryableError):
    """The service's views are being rebuilt: consumers wait instead of writing into them."""


# -- reading the log ------------------------------------------------------------------------------
def log_events(bootstrap: str, topic: str) -> Iterator[tuple[Envelope, EventPayload]]:
    """Every decodable event of `topic` from its first offset, without a consumer group."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        max_poll_records=2_000,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:  # the topic does not exist (yet): an empty log
            return
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        empty_polls = 0
        # Past the end offsets taken at the start and an empty poll: done. End offsets are only a
        # floor (Tansu may report the last batch's base offset), so records are never cut at them.
        while empty_polls < _MAX_EMPTY_POLLS:
            batch = consumer.poll(timeout_ms=200)
            if not batch:
                if all(consumer.position(tp) >= end[tp] for tp in partitions):
                    return
                empty_polls += 1
                continue
            empty_polls = 0
            for records in batch.values():
                for record in records:
                    try:
                        yield decode(record.value)
                    except InvalidEvent:
                        continue
    finally:
        consumer.close()


@dataclass
class ErasureLog:
    """Per customer: the latest erasure request and the latest consent granted (from the log)."""

    erased_at: dict[str, datetime] = field(default_factory=dict)
    granted_at: dict[str, datetime] = field(default_factory=dict)

    @classmethod
    def read(cls, bootstrap: str) -> ErasureLog:
        found = cls()
        for envelope, payload in log_events(bootstrap, topics.CUSTOMER_ERASURE):
            if isinstance(payload, CustomerErasureRequestedV1):
                found._latest(found.erased_at, envelope.customer_key, envelope.occurred_at)
        for envelope, payload in log_events(bootstrap, topics.CONSENT_EVENTS):
            if isinstance(payload, ConsentGrantedV1):
                found._latest(found.granted_at, envelope.customer_key, envelope.occurred_at)
        return found

    @staticmethod
    def _latest(into: dict[str, datetime], ck: str, at: datetime) -> None:
        seen = into.get(ck)
        if seen is None or seen < at:
            into[ck] = at

    def still_erased(self) -> dict[str, datetime]:
        """Customers whose latest erasure no consent followed: their tombstones stand."""
        return {
            ck: at for ck, at in self.erased_at.items() if (granted := self.granted_at.get(ck)) is None or granted <= at
        }

    def removed(self, envelope: Envelope) -> bool:
        """Did an erasure remove this event? (It was ingested before the customer's latest erasure.)"""
        erased = self.erased_at.get(envelope.customer_key)
        return erased is not None and envelope.ingested_at <= erased


def replay(
    bootstrap: str,
    erasures: ErasureLog,
    steps: list[tuple[str, Handler]],
    stats: Counter[str],
    on_batch: Callable[[], None] | None = None,
    batch_size: int = 500,
) -> None:
    """Hand every event of each topic (in order) to its handler, minus what an erasure removed."""
    for topic, handler in steps:
        pending = 0
        for envelope, payload in log_events(bootstrap, topic):
            if erasures.removed(envelope):
                stats[f"{topic}:skipped_erased"] += 1
                continue
            try:
                handler(envelope, payload)
            except TRANSIENT_ERRORS:
                raise  # Redis or the broker failing (or wiped again): the whole rebuild starts over
            except Exception as exc:
                # What the live loop dead-lettered fails here too: skipped, never a rebuild stuck on it.
                stats[f"{topic}:failed"] += 1
                log.warning("replayed event failed", extra={"topic": topic, "error": type(exc).__name__})
                continue
            stats[f"{topic}:replayed"] += 1
            pending += 1
            if on_batch is not None and pending >= batch_size:
                on_batch()
                pending = 0
        if on_batch is not None and pending:
            on_batch()


# -- the guard --------------------------------------------------------------------------------------
Rebuild = Callable[[], Counter[str]]


class ViewGuard:
    def __init__(
        self,
        client: redis.Redis,
        namespace: str,
        rebuild: Rebuild,
        *,
        interval_s: float = 5.0,
        lease_s: int = 30,
    ) -> None:
        self._redis = client
        self._namespace = namespace
        self._rebuild = rebuild
        self._interval_s = interval_s
        self._lease_s = lease_s
        self.marker = keys.epoch(namespace)
        self._instance = uuid.uuid4().hex
        self._serving = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._detail = "views not checked yet"
        self.rebuilds = 0
        self.last_rebuild: dict[str, Any] = {}

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        # A marker that says ready is served from the first request on (a restart is not a rebuild).
        try:
            if self._state() == READY:
                self._serving.set()
                self._detail = "views whole"
        except redis.RedisError:
            pass
        self._thread = threading.Thread(target=self._run, name=f"views-{self._namespace}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    @property
    def serving(self) -> bool:
        return self._serving.is_set()

    def gate(self, handler: Handler) -> Handler:
        """The handler, held back (retryable) while the views are not whole."""

        def gated(envelope: Envelope, payload: EventPayload) -> None:
            if not self._serving.is_set():
                raise ViewsRebuilding(self._detail)
            handler(envelope, payload)

        return gated

    def hook(self, on_batch_end: Callable[[], None]) -> Callable[[], None]:
        """A consumer's batch-end hook, held back like its handlers."""

        def gated() -> None:
            if not self._serving.is_set():
                raise ViewsRebuilding(self._detail)
            on_batch_end()

        return gated

    def readiness(self, app: FastAPI) -> tuple[bool, str]:
        """`/readyz` check: the marker must be there now, not only at the last round."""
        if self._serving.is_set() and self._state() != READY:
            self._lost("epoch marker gone: Redis was wiped")
        return self._serving.is_set(), self._detail if not self._serving.is_set() else self._ready_detail()

    # -- the rounds --------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception as exc:  # Redis or the broker down: not serving, try again next round
                self._lost(f"views check failed: {type(exc).__name__}")
                log.warning("views check failed", extra={"namespace": self._namespace, "error": type(exc).__name__})
            self._wake.wait(self._interval_s if self._serving.is_set() else min(self._interval_s, 0.5))
            self._wake.clear()

    def check(self) -> None:
        """One round: serve if the marker says ready, else claim it and rebuild (or wait for the owner)."""
        state = self._state()
        if state == READY:
            if not self._serving.is_set():
                log.info("views whole", extra={"namespace": self._namespace})
            self._serving.set()
            return
        if state is None:
            self._lost("epoch marker missing: rebuilding views from the log")
            if self._redis.set(self.marker, self._value(REBUILDING), nx=True, ex=self._lease_s):
                self._run_rebuild()
            return
        self._lost("another replica is rebuilding the views")

    def _run_rebuild(self) -> None:
        started = time.monotonic()
        log.info("rebuilding views", extra={"namespace": self._namespace})
        done = threading.Event()
        keeper = threading.Thread(target=self._keep_claim, args=(done,), name=f"views-lease-{self._namespace}")
        keeper.daemon = True
        keeper.start()
        try:
            stats = self._rebuild()
        except BaseException:
            # Give the claim back at once rather than make every replica wait for the lease.
            if self._state_owner() == self._instance:
                self._redis.delete(self.marker)
            raise
        finally:
            done.set()
            keeper.join()
        # Only our own claim turns ready: a wipe during the rebuild took the claim (and what was
        # written) with it, and the next round starts over.
        if self._state_owner() != self._instance:
            self._lost("Redis wiped during the rebuild: starting over")
            return
        self._redis.set(self.marker, self._value(READY))
        self.rebuilds += 1
        self.last_rebuild = {"seconds": round(time.monotonic() - started, 3), **dict(stats)}
        log.info("views rebuilt", extra={"namespace": self._namespace, **self.last_rebuild})
        self._serving.set()

    def _keep_claim(self, done: threading.Event) -> None:
        """Refresh the claim's lease while the rebuild runs: a replica that dies mid-rebuild lets it
        expire within `lease_s` and another one claims it. XX: a claim a wipe took is not brought back."""
        while not done.wait(self._lease_s / 3):
            try:
                if self._state_owner() == self._instance:
                    self._redis.set(self.marker, self._value(REBUILDING), xx=True, ex=self._lease_s)
            except redis.RedisError:
                continue

    def _lost(self, detail: str) -> None:
        self._detail = detail
        self._serving.clear()
        self._wake.set()

    def _ready_detail(self) -> str:
        return f"views whole (rebuilt {self.rebuilds}x)" if self.rebuilds else "views whole"

    def _read(self) -> dict[str, Any] | None:
        raw = self._redis.get(self.marker)
        if raw is None:
            return None
        try:
            value = json.loads(text(raw))
        except ValueError:
            return {"state": REBUILDING}
        return value if isinstance(value, dict) else {"state": REBUILDING}

    def _state(self) -> str | None:
        value = self._read()
        return None if value is None else str(value.get("state"))

    def _state_owner(self) -> str | None:
        value = self._read()
        return None if value is None else str(value.get("by"))

    def _value(self, state: str) -> str:
        return json.dumps({"state": state, "by": self._instance, "at": clock.now().isoformat()})


def views_check(app: FastAPI) -> tuple[bool, str]:
    """`/readyz` check of the app's `ViewGuard` (`app.state.views`; None when the rebuild is off)."""
    guard: ViewGuard | None = getattr(app.state, "views", None)
    if guard is None:
        return True, "views rebuild off"
    return guard.readiness(app)


_OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def install_views_gate(app: FastAPI, retry_after_s: int = 5) -> None:
    """While the views are rebuilt, every route but health and metrics answers 503 problem+json
    with Retry-After: an empty consent view must never answer `no_consent`, nor empty features."""
    app.add_middleware(ViewsGate, owner=app, retry_after_s=retry_after_s)


class ViewsGate:
    """`install_views_gate`'s check, as pure ASGI middleware: Starlette's `BaseHTTPMiddleware`
    (`@app.middleware("http")`) ran every request through a task group and memory streams, a sixth of
    next-best-action's CPU per presentation in the request-path profile."""

    def __init__(self, app: ASGIApp, *, owner: FastAPI, retry_after_s: int) -> None:
        self.app = app
        self.owner = owner
        self.retry_after_s = retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guard: ViewGuard | None = getattr(self.owner.state, "views", None)
        if scope["type"] == "http" and guard is not None and not guard.serving and scope["path"] not in _OPEN_PATHS:
            response = problem_response(503, "Views rebuilding", "the service is rebuilding its Redis views")
            response.headers["Retry-After"] = str(self.retry_after_s)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
