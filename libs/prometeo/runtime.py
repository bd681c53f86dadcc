"""What a service process owns while it runs: its producer and consumer loops, started and stopped
together from the FastAPI lifespan, plus the readiness checks that follow from them."""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass, field

from fastapi import FastAPI
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from prometeo.bus.admin import check_topics
from prometeo.bus.consumer import ConsumerLoop
from prometeo.bus.producer import EventProducer

log = logging.getLogger(__name__)


class TopicCheck(BaseSettings):
    """The two shared settings the start-up topic check needs (same names as in SharedSettings), read
    here so every service's Runtime checks topics without its own wiring."""

    model_config = SettingsConfigDict(extra="ignore")
    enabled: bool = Field(default=True, validation_alias=AliasChoices("PROMETEO_TOPIC_CHECK_ENABLED"))
    partitions: int = Field(default=3, ge=1, validation_alias=AliasChoices("PROMETEO_TOPIC_PARTITIONS"))


@dataclass
class Runtime:
    producer: EventProducer
    consumers: list[ConsumerLoop] = field(default_factory=list)
    # Topics are checked against contracts/topics.py until they match once (then cached).
    topic_check: TopicCheck = field(default_factory=TopicCheck)
    topics_ok: bool = False
    _topic_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self) -> None:
        for loop in self.consumers:
            loop.start()

    def stop(self) -> None:
        for loop in self.consumers:
            loop.stop()
        self.producer.flush(5)
        self.producer.close()

    def topics_match(self) -> tuple[bool, str]:
        if self.topics_ok or not self.topic_check.enabled:
            return True, "topics match the contracts"
        with self._topic_lock:
            if self.topics_ok:
                return True, "topics match the contracts"
            problems = check_topics(self.producer.bootstrap_servers, partitions=self.topic_check.partitions)
            if problems:
                return False, f"topic configuration mismatch: {'; '.join(problems[:5])}"
            self.topics_ok = True
        return True, "topics match the contracts"


# A streaming service allocates tens of thousands of short-lived containers per batch (decoded JSON,
# models, futures): at CPython's default gen-0 threshold (700) that is dozens of collections a batch,
# each also walking what survived. 50,000 bounds the garbage kept between collections to a few MB.
GC_GEN0_THRESHOLD = 50_000


def settle_heap() -> None:
    """For the streaming services (ingest, feature store), once started: move what start-up built
    (modules, app, clients) out of the collector's sight and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def broker_check(app: FastAPI) -> tuple[bool, str]:
    """Ready to publish: a metadata round trip on the live producer (rebuilt first if it is in a
    fatal state) and, once, the topics' partitions/compaction/retention as the contracts say."""
    runtime: Runtime = app.state.runtime
    ok, detail = runtime.producer.probe()
    if not ok:
        return False, detail
    topics_ok, topics_detail = runtime.topics_match()
    return topics_ok, f"{detail}; {topics_detail}"


# A consumer whose poll loop has not come round for this long is stuck (a handler blocked, a dead
# client): readiness fails so the orchestrator notices.
CONSUMER_STALL_S = 60.0


def consumers_check(app: FastAPI) -> tuple[bool, str]:
    runtime: Runtime = app.state.runtime
    now = time.monotonic()
    for loop in runtime.consumers:
        if not loop.alive:
            return False, f"consumer stopped: {loop.error!r}"
        if not loop.assigned.is_set():
            return False, "waiting to join the consumer group"
        if loop.last_poll_at is not None and now - loop.last_poll_at > CONSUMER_STALL_S:
            return False, f"consumer {loop.group_id} has not polled for {now - loop.last_poll_at:.0f}s"
    restarts = sum(loop.restarts for loop in runtime.consumers)
    return True, f"{len(runtime.consumers)} consumer(s) polling; {restarts} restart(s)"


def redis_check(app: FastAPI) -> tuple[bool, str]:
    app.state.redis.ping()
    return True, "pong"
