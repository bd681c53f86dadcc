"""The scheduler's retry rule with an in-memory schedule (the Redis one: tests/integration/campaigns)."""

from __future__ import annotations

from campaigns.adapters.base import TransientDeliveryError
from campaigns.schedule import Deferred, Job
from campaigns.scheduler import Scheduler


class MemorySchedule:
    def __init__(self) -> None:
        self.jobs: dict[str, float] = {}

    def add(self, job: Job, due_at: float) -> None:
        self.jobs[job.model_dump_json()] = due_at

    def claim(self, now: float, limit: int, lease_s: float) -> list[tuple[str, Job]]:
        due = [m for m, at in sorted(self.jobs.items(), key=lambda x: x[1]) if at <= now][:limit]
        for member in due:
            self.jobs[member] = now + lease_s
        return [(m, Job.model_validate_json(m)) for m in due]

    def done(self, member: str) -> None:
        del self.jobs[member]

    def reschedule(self, member: str, job: Job, due_at: float) -> None:
        del self.jobs[member]
        self.add(job, due_at)


def test_failed_jobs_come_back_with_backoff_until_they_succeed() -> None:
    now = [100.0]
    schedule = MemorySchedule()
    outcomes = [TransientDeliveryError("down"), TransientDeliveryError("down"), None]
    ran: list[int] = []

    def deliver(job: Job) -> None:
        ran.append(job.attempt)
        result = outcomes.pop(0)
        if result is not None:
            raise result

    scheduler = Scheduler(
        schedule,
        {"deliver": deliver},
        interval_s=0.1,
        lease_s=60,
        retry_backoff_s=10,
        retry_backoff_max_s=15,
        clock=lambda: now[0],
    )
    schedule.add(Job(kind="deliver", customer_key="ck_12345678", offer_id="of_1"), 100.0)
    assert scheduler.run_once() == 1
    [(member, due)] = schedule.jobs.items()
    assert Job.model_validate_json(member).attempt == 1 and due == 110.0
    now[0] = 109.0
    assert scheduler.run_once() == 0  # not due yet
    now[0] = 110.0
    scheduler.run_once()
    assert list(schedule.jobs.values()) == [125.0]  # 20 s capped at 15
    now[0] = 125.0
    scheduler.run_once()
    assert schedule.jobs == {} and ran == [0, 1, 2]


def test_only_due_jobs_run_and_are_removed_once_done() -> None:
    schedule = MemorySchedule()
    seen: list[Job] = []
    scheduler = Scheduler(
        schedule,
        {"timer": seen.append},
        interval_s=0.1,
        lease_s=60,
        retry_backoff_s=1,
        retry_backoff_max_s=1,
        clock=lambda: 5.0,
    )
    schedule.add(Job(kind="timer", customer_key="ck_12345678", offer_id="of_1", step_no=2), 1.0)
    schedule.add(Job(kind="timer", customer_key="ck_12345678", offer_id="of_2", step_no=1), 9.0)
    assert scheduler.run_once() == 1
    assert [j.offer_id for j in seen] == ["of_1"] and len(schedule.jobs) == 1


def test_a_deferred_job_waits_until_asked_without_counting_an_attempt() -> None:
    now = [5.0]
    schedule = MemorySchedule()
    calls: list[int] = []

    def step(job: Job) -> None:
        calls.append(job.attempt)
        if len(calls) == 1:
            raise Deferred(500.0, "quiet hours for sms")

    scheduler = Scheduler(
        schedule,
        {"step": step},
        interval_s=0.1,
        lease_s=60,
        retry_backoff_s=1,
        retry_backoff_max_s=1,
        clock=lambda: now[0],
    )
    schedule.add(Job(kind="step", customer_key="ck_12345678", offer_id="of_1", step_no=2), 1.0)
    scheduler.run_once()
    [(member, due)] = schedule.jobs.items()
    assert due == 500.0 and Job.model_validate_json(member).attempt == 0
    now[0] = 500.0
    scheduler.run_once()
    assert schedule.jobs == {} and calls == [0, 0]
