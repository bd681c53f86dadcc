"""What a service process owns while it runs: its producer and consumer loops, started and stopped
together from the FastAPI lifespan, plus the readiness checks that follow from them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import FastAPI

from prometeo.bus.consumer import ConsumerLoop
from prometeo.bus.producer import EventProducer

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    producer: EventProducer
    consumers: list[ConsumerLoop] = field(default_factory=list)

    def start(self) -> None:
        for loop in self.consumers:
            loop.start()

    def stop(self) -> None:
        for loop in self.consumers:
            loop.stop()
        self.producer.flush(5)
        self.producer.close()


def broker_check(app: FastAPI) -> tuple[bool, str]:
    runtime: Runtime = app.state.runtime
    ok = runtime.producer.bootstrap_connected()
    return ok, "connected" if ok else "broker unreachable"


def consumers_check(app: FastAPI) -> tuple[bool, str]:
    runtime: Runtime = app.state.runtime
    for loop in runtime.consumers:
        if not loop.alive:
            return False, f"consumer stopped: {loop.error!r}"
        if not loop.assigned.is_set():
            return False, "waiting to join the consumer group"
    return True, f"{len(runtime.consumers)} consumer(s) running"


def redis_check(app: FastAPI) -> tuple[bool, str]:
    app.state.redis.ping()
    return True, "pong"
