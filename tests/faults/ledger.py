"""The drills' ledger: what was acknowledged to a client, what is on the topic, what a consumer
processed or dead-lettered — and what was lost. Printed so `pytest -s` shows it."""

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
    on_topic: Counter[str] = field(default_factory=Counter)  # event id → copies on the topic
    processed: Counter[str] = field(default_factory=Counter)  # event id → times a consumer applied it
    dead_lettered: Counter[str] = field(default_factory=Counter)

    def accept(self, body: dict) -> None:
        self.acknowledged |= {i["event_id"] for i in body["items"] if i["status"] == "accepted"}

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
            f"dead_lettered={sum(self.dead_lettered.values())} lost={len(self.lost)}"
        )
        print(line)
        return line

    def assert_whole(self, *, consumed: bool = True) -> None:
        """Every acknowledged event is on its topic exactly once; processed + dead-lettered = ingested;
        nothing counted twice."""
        self.show()
        assert not self.lost, f"acknowledged but not on the topic: {sorted(self.lost)[:5]}"
        assert not self.doubled_on_topic, f"on the topic more than once: {sorted(self.doubled_on_topic)[:5]}"
        assert set(self.on_topic) == self.acknowledged, "the topic holds only what was acknowledged"
        if consumed:
            handled = set(self.processed) | set(self.dead_lettered)
            assert handled == set(self.on_topic), "processed + dead-lettered = ingested"
            assert not set(self.processed) & set(self.dead_lettered)
            doubled = {e for e, n in (self.processed + self.dead_lettered).items() if n > 1}
            assert not doubled, f"counted twice: {sorted(doubled)[:5]}"
