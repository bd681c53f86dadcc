"""Score customers with any propensity predictor and explain each product's score.

One predict call per batch: for every customer, the input row plus one row per reason signal with
that signal's inputs reset to the training medians. The drop in propensity is the signal's effect.
The rows are built with array operations from a plan made once per model (`Scorer`), and a
predictor that takes arrays (`ArrayPredictor`) is called without any DataFrame on the way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from prometeo.contracts.events import ProductScore
from scoring.domain.compiled import SMALL_BATCH
from scoring.domain.reasons import applicable_specs, reasons_for
from scoring.domain.vector import input_row


class Predictor(Protocol):
    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of model inputs → one propensity column per product."""
        ...


@runtime_checkable
class ArrayPredictor(Protocol):
    products: list[str]

    def predict_array(self, x: np.ndarray) -> np.ndarray:
        """(rows × model columns) → (rows × products) propensities."""
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


class Scorer:
    """A model's scoring plan: reason signals, which columns each resets, and the baselines."""

    def __init__(self, predictor: Predictor | ArrayPredictor, spec: ModelSpec) -> None:
        self._predictor = predictor
        self.columns = list(spec.columns)
        self.products = list(spec.products)
        self.signals = applicable_specs(self.columns)
        position = {c: i for i, c in enumerate(self.columns)}
        self.baseline = np.array([spec.baselines.get(c, 0.0) for c in self.columns], dtype=float)
        self.baselines = dict(zip(self.columns, self.baseline.tolist(), strict=True))
        # reset[k, c]: reason row k+1 takes column c from the baseline
        self.reset = np.zeros((len(self.signals), len(self.columns)), dtype=bool)
        for k, signal in enumerate(self.signals):
            for col in signal.inputs:
                if col in position:
                    self.reset[k, position[col]] = True

    def _predict(self, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
        if isinstance(self._predictor, ArrayPredictor):
            probs = self._predictor.predict_array(rows)
            available = list(self._predictor.products)
        else:
            predicted = self._predictor.predict(pd.DataFrame(rows, columns=self.columns))
            available = list(predicted.columns)
            probs = predicted.to_numpy(dtype=float)
        keep = [available.index(p) for p in self.products if p in available]
        return [available[i] for i in keep], probs[:, keep]

    def score(self, inputs: Sequence[ScoringInput], reasons_per_product: int = 3) -> list[list[ProductScore]]:
        if not inputs:
            return []
        n, block = len(inputs), 1 + len(self.signals)
        x = np.array(
            [input_row(self.columns, i.features, i.held_products, i.held_elsewhere) for i in inputs], dtype=float
        ).reshape(n, len(self.columns))
        stacked = np.repeat(x[:, None, :], block, axis=1)
        stacked[:, 1:, :] = np.where(self.reset[None], self.baseline[None, None, :], stacked[:, 1:, :])
        rows = stacked.reshape(n * block, len(self.columns))
        # A poll's customers × (1 + signals) rows run to thousands: predicted in chunks the compiled walk
        # takes (SMALL_BATCH), which beat the estimators' own predict on them 3-30x on two busy cores.
        chunks = [self._predict(rows[i : i + SMALL_BATCH]) for i in range(0, len(rows), SMALL_BATCH)]
        products = chunks[0][0]
        probs = np.concatenate([p for _, p in chunks]).reshape(n, block, len(products))
        # effects[n, product, signal]: the drop in propensity when the signal is reset
        effects = (probs[:, :1, :] - probs[:, 1:, :]).transpose(0, 2, 1)
        codes = [s.code for s in self.signals]
        # Missing inputs were NaN for the model; phrases read them as "none".
        values_all = np.nan_to_num(x, nan=0.0).tolist()

        out: list[list[ProductScore]] = []
        for c in range(n):
            values = dict(zip(self.columns, values_all[c], strict=True))
            propensities = np.clip(probs[c, 0], 0.0, 1.0).tolist()
            customer_effects = effects[c].tolist()
            scores = []
            for j, product in enumerate(products):
                reasons = reasons_for(
                    product,
                    dict(zip(codes, customer_effects[j], strict=True)),
                    values,
                    self.baselines,
                    self.signals,
                    reasons_per_product,
                )
                scores.append(ProductScore(product=product, propensity=round(propensities[j], 6), reasons=reasons))
            out.append(scores)
        return out


def score_batch(
    predictor: Predictor | ArrayPredictor, spec: ModelSpec, inputs: Sequence[ScoringInput], reasons_per_product: int = 3
) -> list[list[ProductScore]]:
    return Scorer(predictor, spec).score(inputs, reasons_per_product)
