"""The drills' ledger: what was acknowledged to a client, what is on the topic, what a consumer
processed or dead-lettered — and what was lost. Printed so `pytest -s` shows it.

A 503 is "not acknowledged", not "not stored": a produce request the stalled broker had already
received is written when it resumes, and the client's retry writes a second copy. Such copies carry
the same event id (stable per source event) and every consumer applies an event id once, so they are
allowed on the topic only for events that were answered 503 at least once (`ambiguous`), and never
counted twice downstream."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from kafka.consumer.fetcher import ConsumerRecord


@dataclass
class Ledger:
    drill: str
    acknowledged: set[str] = field(default_factory=set)  # event ids answered `accepted`
    refused: int = 0  # items answered 503 (never acknowledged; retried by the client)
    ambiguous: set[str] = field(default_factory=set)  # event ids of items once answered 503
    on_topic: Counter[str] = field(default_factory=Counter)  # event id → copies on the topic
    processed: Counter[str] = field(default_factory=Counter)  # event id → times a consumer applied it
    dead_lettered: Counter[str] = field(default_factory=Counter)

    def accept(self, body: dict) -> None:
        self.acknowledged |= {i["event_id"] for i in body["items"] if i["status"] == "accepted"}

    def refuse(self, event_ids: list[str]) -> None:
        self.refused += len(event_ids)
        self.ambiguous |= set(event_ids)

    def read(self, records: list[ConsumerRecord]) -> None:
        self.on_topic = Counter(json.loads(r.value)["event_id"] for r in records)

    @property
    def lost(self) -> set[str]:
        return {e for e in self.acknowledged if self.on_topic[e] == 0}

    @property
    def doubled_on_topic(self) -> set[str]:
        return {e for e, n in self.on_topic.items() if n > 1}

    def show(self) -> str:
        line = (
            f"[ledger {self.drill}] acknowledged={len(self.acknowledged)} refused_503={self.refused} "
            f"on_topic={sum(self.on_topic.values())} (distinct {len(self.on_topic)}) "
            f"processed={sum(self.processed.values())} (distinct {len(self.processed)}) "
            f"dead_lettered={sum(self.dead_lettered.values())} lost={len(self.lost)} "
            f"extra_copies_of_503_answered={sum(self.on_topic[e] - 1 for e in self.doubled_on_topic)}"
        )
        print(line)
        return line

    def assert_whole(self, *, consumed: bool = True) -> None:
        """Every acknowledged event is on its topic, exactly once unless it was answered 503 before;
        processed + dead-lettered = ingested; nothing counted twice."""
        self.show()
        assert not self.lost, f"acknowledged but not on the topic: {sorted(self.lost)[:5]}"
        unexplained = self.doubled_on_topic - self.ambiguous
        assert not unexplained, f"on the topic more than once though never answered 503: {sorted(unexplained)[:5]}"
        assert set(self.on_topic) == self.acknowledged, "the topic holds only what was acknowledged"
        if consumed:
            handled = set(self.processed) | set(self.dead_lettered)
            assert handled == set(self.on_topic), "processed + dead-lettered = ingested"
            assert not set(self.processed) & set(self.dead_lettered)
            doubled = {e for e, n in (self.processed + self.dead_lettered).items() if n > 1}
            assert not doubled, f"counted twice: {sorted(doubled)[:5]}"
