"""Publishing from a consumer's handler: a batch handed over at once, one wait for all its acks.

The handler commits (or marks its work done) only after this returns, so every failure is a
`RetryableError`: the loop retries the same records, whose events are published again with the same ids
(or, for ids that are not deterministic, counted once by their consumers' markers)."""

from __future__ import annotations

from collections.abc import Sequence

from prometeo.bus.consumer import RetryableError
from prometeo.bus.producer import EventProducer, Publishable, PublishInterrupted


def publish_many_acked(
    producer: EventProducer, topic: str, events: Sequence[Publishable], deadline: float, generation: int
) -> None:
    """`publish_many` then `wait_acks` until `deadline` (monotonic); `generation` is the producer's when the
    caller's batch began, so a client that failed in between is rebuilt, not reused."""
    try:
        futures = producer.publish_many(topic, events)
    except PublishInterrupted as exc:  # send() itself failed (no metadata in time, buffer full)
        producer.failed(exc.cause, generation)
        raise RetryableError(f"publish to {topic} failed: {type(exc.cause).__name__}") from exc.cause
    failed = producer.wait_acks(futures, deadline, generation).count(False)
    if failed:
        raise RetryableError(f"{failed} event(s) to {topic} not acknowledged by the broker")
