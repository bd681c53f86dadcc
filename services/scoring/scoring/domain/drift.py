"""Drift against the training snapshot: population stability index per feature and per product score.

At training time each feature's (and each product score's) distribution on the training rows is kept
as a reference histogram — inner edges at the deciles, plus a bucket for missing values — stored with
the model in MLflow. Serving counts what it scores into the same buckets; PSI compares the two:

    PSI = Σ (observed − expected) · ln(observed / expected)   (< 0.1 stable, 0.1–0.25 moderate, > 0.25 shift)

Pure: NumPy only.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scoring.domain.vector import HELD_ELSEWHERE_PREFIX, HELD_HERE_PREFIX

QUANTILES = np.linspace(0.1, 0.9, 9)
EPSILON = 1e-4  # an empty bucket on either side would make PSI infinite


@dataclass(frozen=True)
class Histogram:
    edges: list[float]  # inner edges, ascending; buckets: (-inf, e0], (e0, e1], …, (e_last, inf), missing
    fractions: list[float]  # len(edges) + 2

    def to_json(self) -> dict[str, list[float]]:
        return {"edges": self.edges, "fractions": self.fractions}

    @classmethod
    def from_json(cls, data: Mapping[str, Sequence[float]]) -> Histogram:
        return cls([float(e) for e in data["edges"]], [float(f) for f in data["fractions"]])


def bucket_counts(edges: Sequence[float], values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    missing = np.isnan(values)
    counts = np.bincount(np.searchsorted(np.asarray(edges), values[~missing], side="left"), minlength=len(edges) + 1)
    return np.append(counts[: len(edges) + 1], missing.sum()).astype(float)


def reference_histogram(values: np.ndarray) -> Histogram:
    values = np.asarray(values, dtype=float)
    present = values[~np.isnan(values)]
    edges = sorted({float(e) for e in np.quantile(present, QUANTILES)}) if len(present) else []
    counts = bucket_counts(edges, values)
    return Histogram(edges, (counts / max(1.0, counts.sum())).tolist())


def psi(expected: Sequence[float], observed_counts: np.ndarray) -> float:
    total = observed_counts.sum()
    if total == 0:
        return math.nan
    e = np.clip(np.asarray(expected, dtype=float), EPSILON, None)
    o = np.clip(observed_counts / total, EPSILON, None)
    return float(np.sum((o - e) * np.log(o / e)))


def monitored(column: str) -> bool:
    """Held-product flags are inputs, not measured features: their mix is the product base, not drift."""
    return not column.startswith((HELD_HERE_PREFIX, HELD_ELSEWHERE_PREFIX))


@dataclass
class DriftMonitor:
    """Counts served features and scores into the reference buckets (thread-safe); PSI on demand."""

    features: dict[str, Histogram]
    scores: dict[str, Histogram]
    _feature_counts: dict[str, np.ndarray] = field(init=False, repr=False)
    _score_counts: dict[str, np.ndarray] = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    observed: int = 0

    def __post_init__(self) -> None:
        self._feature_counts = {f: np.zeros(len(h.edges) + 2) for f, h in self.features.items()}
        self._score_counts = {p: np.zeros(len(h.edges) + 2) for p, h in self.scores.items()}

    def observe(self, features: Sequence[Mapping[str, float]], scores: Mapping[str, Sequence[float]]) -> None:
        with self._lock:
            for name, hist in self.features.items():
                values = np.array([row.get(name, math.nan) for row in features], dtype=float)
                self._feature_counts[name] += bucket_counts(hist.edges, values)
            for product, hist in self.scores.items():
                if product in scores:
                    self._score_counts[product] += bucket_counts(hist.edges, np.asarray(scores[product], dtype=float))
            self.observed += len(features)

    def feature_psi(self) -> dict[str, float]:
        with self._lock:
            return {f: psi(h.fractions, self._feature_counts[f]) for f, h in self.features.items()}

    def score_psi(self) -> dict[str, float]:
        with self._lock:
            return {p: psi(h.fractions, self._score_counts[p]) for p, h in self.scores.items()}


def reference_from(
    columns: Sequence[str], x: np.ndarray, products: Sequence[str], propensities: np.ndarray
) -> dict[str, dict[str, dict[str, list[float]]]]:
    """The reference stored with a model: training rows' features and scores as histograms (JSON)."""
    return {
        "features": {c: reference_histogram(x[:, j]).to_json() for j, c in enumerate(columns) if monitored(c)},
        "scores": {p: reference_histogram(propensities[:, j]).to_json() for j, p in enumerate(products)},
    }


def monitor_from(reference: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]] | None) -> DriftMonitor | None:
    if not reference:
        return None
    return DriftMonitor(
        features={f: Histogram.from_json(h) for f, h in reference.get("features", {}).items()},
        scores={p: Histogram.from_json(h) for p, h in reference.get("scores", {}).items()},
    )
