"""Score customers with any propensity predictor and explain each product's score.

One predict call per batch: for every customer, the input row plus one row per reason signal with
that signal's inputs reset to the training medians. The drop in propensity is the signal's effect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from prometeo.contracts.events import ProductScore

from scoring.domain.reasons import applicable_specs, reasons_for
from scoring.domain.vector import input_row


class Predictor(Protocol):
    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of model inputs → one propensity column per product."""
        ...


@dataclass(frozen=True)
class ScoringInput:
    features: Mapping[str, float]
    held_products: Sequence[str] = ()
    held_elsewhere: Sequence[str] = ()


@dataclass(frozen=True)
class ModelSpec:
    """What the scorer needs to know about a model besides how to call it."""

    columns: Sequence[str]
    products: Sequence[str]
    baselines: Mapping[str, float] = field(default_factory=dict)


def score_batch(
    predictor: Predictor, spec: ModelSpec, inputs: Sequence[ScoringInput], reasons_per_product: int = 3
) -> list[list[ProductScore]]:
    if not inputs:
        return []
    columns = list(spec.columns)
    signals = applicable_specs(columns)
    position = {c: i for i, c in enumerate(columns)}
    baseline = np.array([spec.baselines.get(c, 0.0) for c in columns], dtype=float)
    block = 1 + len(signals)

    rows = np.empty((len(inputs) * block, len(columns)), dtype=float)
    for n, item in enumerate(inputs):
        row = np.array(input_row(columns, item.features, item.held_products, item.held_elsewhere))
        rows[n * block] = row
        for k, signal in enumerate(signals, start=1):
            moved = row.copy()
            for col in signal.inputs:
                if col in position:
                    moved[position[col]] = baseline[position[col]]
            rows[n * block + k] = moved
    predicted = predictor.predict(pd.DataFrame(rows, columns=columns))
    products = [p for p in spec.products if p in predicted.columns]
    probs = predicted[products].to_numpy(dtype=float)

    out: list[list[ProductScore]] = []
    for n, item in enumerate(inputs):
        base_probs = probs[n * block]
        # Missing inputs were NaN for the model; phrases read them as "none".
        values = dict(zip(columns, np.nan_to_num(rows[n * block], nan=0.0).tolist(), strict=True))
        baselines = dict(zip(columns, baseline.tolist(), strict=True))
        scores = []
        for j, product in enumerate(products):
            effects = {s.code: float(base_probs[j] - probs[n * block + k, j]) for k, s in enumerate(signals, start=1)}
            reasons = reasons_for(product, effects, values, baselines, signals, reasons_per_product)
            propensity = float(np.clip(base_probs[j], 0.0, 1.0))
            scores.append(ProductScore(product=product, propensity=round(propensity, 6), reasons=reasons))
        out.append(scores)
    return out
