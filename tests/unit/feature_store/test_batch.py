"""PendingBatch with in-memory fakes: what is written when, and what a failed write leaves behind."""

from __future__ import annotations

from typing import Any, cast

import pytest

from feature_store.batch import PendingBatch
from feature_store.domain.aggregation import Mutation
from feature_store.store import ApplyResult

MUTATION = Mutation(profile={"age_band": "25-34"})


class FakeRepository:
    def __init__(self, results: dict[str, ApplyResult] | None = None) -> None:
        self.results = results or {}
        self.writes: list[list[str]] = []
        self.fail: Exception | None = None

    def apply_many(self, items: list[tuple[str, str, Mutation]]) -> list[ApplyResult]:
        if self.fail is not None:
            raise self.fail
        self.writes.append([event_id for event_id, _, _ in items])
        return [self.results.get(event_id, ApplyResult.APPLIED) for event_id, _, _ in items]


class FakePublisher:
    def __init__(self) -> None:
        self.dirty: set[str] = set()
        self.published: list[list[str]] = []

    def touch(self, customer_key: str) -> None:
        self.dirty.add(customer_key)

    def forget(self, customer_key: str) -> None:
        self.dirty.discard(customer_key)

    def flush(self) -> None:
        self.published.append(sorted(self.dirty))
        self.dirty.clear()


def _batch(repository: FakeRepository, publisher: FakePublisher) -> PendingBatch:
    return PendingBatch(cast(Any, repository), cast(Any, publisher))  # in-memory fakes of the store's two edges


def test_a_poll_is_written_once_at_its_end_then_published() -> None:
    repository, publisher = FakeRepository({"e2": ApplyResult.DUPLICATE, "e3": ApplyResult.ERASED}), FakePublisher()
    batch = _batch(repository, publisher)
    for event_id, ck in (("e1", "ck_a"), ("e2", "ck_b"), ("e3", "ck_c")):
        batch.add(event_id, ck, "transaction.booked", MUTATION)
    assert repository.writes == []
    batch.end()
    assert repository.writes == [["e1", "e2", "e3"]]
    # A duplicate is published again (the crash may have come before its publish); an erased one never.
    assert publisher.published == [["ck_a", "ck_b"]]
    batch.end()
    assert repository.writes == [["e1", "e2", "e3"]] and publisher.published[-1] == []


def test_a_consent_or_an_erasure_writes_what_was_buffered_before_it() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    batch = _batch(repository, publisher)
    batch.add("e1", "ck_a", "transaction.booked", MUTATION)
    batch.flush_before_consent()
    assert repository.writes == [["e1"]]
    batch.add("e2", "ck_a", "transaction.booked", MUTATION)
    batch.add("e3", "ck_b", "transaction.booked", MUTATION)
    batch.flush_before_erasure("ck_a")
    assert repository.writes == [["e1"], ["e2", "e3"]]
    batch.end()
    assert publisher.published == [["ck_b"]]  # nothing is published for the erased customer


def test_a_failed_write_leaves_nothing_buffered_for_the_replay() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    batch = _batch(repository, publisher)
    batch.add("e1", "ck_a", "transaction.booked", MUTATION)
    repository.fail = ValueError("poison")
    with pytest.raises(ValueError):  # reaches the consumer loop, which replays the batch
        batch.end()
    repository.fail = None
    batch.add("e2", "ck_b", "transaction.booked", MUTATION)  # the loop replays record by record
    batch.end()
    assert repository.writes == [["e2"]] and publisher.published == [["ck_b"]]
