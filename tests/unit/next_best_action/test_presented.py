"""Acknowledged presentations: a repeat of exactly the same payload within the TTL needs no second record."""

from __future__ import annotations

from next_best_action.presented import AckedPresentations


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_only_an_acknowledged_identical_payload_of_the_same_customer_counts_and_only_within_the_ttl() -> None:
    clock = _Clock()
    acked = AckedPresentations(ttl_s=60, monotonic=clock)
    assert not acked.acked("ck_a", b"p1")
    acked.remember("ck_a", b"p1")
    assert acked.acked("ck_a", b"p1")
    assert not acked.acked("ck_a", b"p2")  # another offer, advisor or ranking
    assert not acked.acked("ck_b", b"p1")
    clock.now += 59.9
    assert acked.acked("ck_a", b"p1")
    clock.now += 0.2
    assert not acked.acked("ck_a", b"p1")


def test_the_oldest_acknowledgement_goes_first_when_full() -> None:
    clock = _Clock()
    acked = AckedPresentations(max_entries=2, monotonic=clock)
    acked.remember("ck_a", b"p")
    acked.remember("ck_b", b"p")
    acked.remember("ck_a", b"p")  # refreshed: now the newest
    acked.remember("ck_c", b"p")
    assert acked.acked("ck_a", b"p") and acked.acked("ck_c", b"p")
    assert not acked.acked("ck_b", b"p")
