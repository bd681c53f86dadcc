"""Shared benchmark plumbing: real servers, timing, and the result table."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from prometeo.bus import ensure_topics
from prometeo_dev import servers

RUN_DIR = Path(__file__).resolve().parent.parent / ".run" / "bench"


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    target: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")

    def line(self) -> str:
        return (
            f"  {self.name:<44} {self.value:>12,.1f} {self.unit:<9} "
            f"vs {self.baseline_name:<30} {self.baseline:>12,.1f}  ratio {self.ratio:6.2f}  {self.target}"
        )


@contextlib.contextmanager
def broker_and_redis() -> Iterator[tuple[str, str]]:
    logs = RUN_DIR / "logs"
    with servers.kafka_broker(logs) as bootstrap, servers.redis_server(logs) as redis_url:
        ensure_topics(bootstrap, partitions=1)
        yield bootstrap, redis_url


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Stopwatch:
    def __enter__(self) -> Self:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started


def median(xs: list[float]) -> float:
    return statistics.median(xs)
