"""The scheduler thread: runs due jobs of the durable schedule (schedule.py).

A job that fails is rescheduled with exponential backoff (attempt + 1), never dropped: a provider that
is down for hours delays a delivery, it does not lose it. Handlers must be idempotent (they are run at
least once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Protocol

from campaigns.adapters.http_delivery import backoff_delay
from campaigns.schedule import Deferred, Job, JobKind
from prometeo import clock
from prometeo.telemetry.metrics import CAMPAIGN_JOBS

log = logging.getLogger(__name__)
Handler = Callable[[Job], None]


class DueJobs(Protocol):
    """What the scheduler needs of the durable schedule (`campaigns.schedule.Schedule` in Redis)."""

    def claim(self, now: float, limit: int, lease_s: float) -> list[tuple[str, Job]]: ...

    def done(self, member: str) -> None: ...

    def reschedule(self, member: str, job: Job, due_at: float) -> None: ...


class Scheduler:
    def __init__(
        self,
        schedule: DueJobs,
        handlers: Mapping[JobKind, Handler],
        *,
        interval_s: float,
        lease_s: float,
        retry_backoff_s: float,
        retry_backoff_max_s: float,
        clock: Callable[[], float] = clock.timestamp,
        batch: int = 100,
    ) -> None:
        self._schedule = schedule
        self._handlers = dict(handlers)
        self._interval_s = interval_s
        self._lease_s = lease_s
        self._backoff = (retry_backoff_s, retry_backoff_max_s)
        self._clock = clock
        self._batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def run_once(self) -> int:
        """Run every job due now; → how many ran."""
        claimed = self._schedule.claim(self._clock(), self._batch, self._lease_s)
        for member, job in claimed:
            try:
                self._handlers[job.kind](job)
            except Deferred as wait:
                self._schedule.reschedule(member, job, wait.until)
                CAMPAIGN_JOBS.labels(job.kind, "deferred").inc()
                log.info(
                    "scheduled job deferred",
                    extra={"kind": job.kind, "offer_id": job.offer_id, "reason": wait.reason, "until": wait.until},
                )
            except Exception as exc:
                retry = job.model_copy(update={"attempt": job.attempt + 1})
                delay = backoff_delay(retry.attempt, *self._backoff)
                self._schedule.reschedule(member, retry, self._clock() + delay)
                CAMPAIGN_JOBS.labels(job.kind, "retry").inc()
                log.warning(
                    "scheduled job failed; retrying later",
                    extra={
                        "kind": job.kind,
                        "offer_id": job.offer_id,
                        "attempt": retry.attempt,
                        "retry_in_s": delay,
                        "error": f"{type(exc).__name__}: {exc}"[:300],
                    },
                )
            else:
                self._schedule.done(member)
                CAMPAIGN_JOBS.labels(job.kind, "done").inc()
        return len(claimed)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_once()
                self.last_error = None
            except Exception as exc:
                self.last_error, ran = f"{type(exc).__name__}: {exc}", 0
                log.error("scheduler poll failed", extra={"error": self.last_error[:300]})
            if not ran:
                self._stop.wait(self._interval_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="campaigns-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
