"""A point-in-time training frame from a synthetic bank, computed by the feature store's own code.

Each customer's events are replayed through `feature_store.domain` (mutation_for → MemoryCustomer
→ compute_features), exactly what the online store does in Redis, so a model trains on the numbers
it will be served. Only events that occurred at or before `as_of` count.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from feature_store.domain.aggregation import compute_features, held_products, mutation_for
from feature_store.domain.definitions import FEATURE_NAMES, FEATURE_SET_VERSION
from feature_store.domain.replay import MemoryCustomer
from prometeo.contracts import EventPayload, payload_model
from prometeo_dev.synthbank import CHUNK, SyntheticBank
from scoring.domain.vector import held_columns, held_flags, label_column

# Customers per worker task: a quarter of the bank's render chunk, so tasks stay balanced.
BLOCK = CHUNK // 4


def replay(items: Iterable[dict[str, Any]], as_of: datetime) -> MemoryCustomer:
    """One customer's event items (ingest shape) → the aggregates the feature store would hold."""
    customer = MemoryCustomer()
    models: dict[tuple[str, int], type[EventPayload]] = {}
    for item in items:
        if datetime.fromisoformat(item["occurred_at"]) > as_of:
            continue
        key = (item["type"], item["version"])
        model = models.get(key) or models.setdefault(key, payload_model(*key))
        customer.apply(item["source_event_id"], mutation_for(model.model_validate(item["payload"])))
    return customer


def feature_row(items: Iterable[dict[str, Any]], as_of: datetime) -> dict[str, float]:
    """Features plus held flags for one customer, as of `as_of`."""
    state = replay(items, as_of).state()
    here, elsewhere = held_products(state.profile)
    return {**compute_features(state, as_of), **held_flags(here, elsewhere)}


def _feature_block(bank: SyntheticBank, as_of: datetime, lo: int, hi: int) -> np.ndarray:
    columns = [*FEATURE_NAMES, *held_columns()]
    out = np.empty((hi - lo, len(columns)))
    for i in range(lo, hi):
        row = feature_row(bank.customer_events(i), as_of)
        out[i - lo] = [row[c] for c in columns]
    return out


_FORKED: SyntheticBank | None = None


def _forked_block(args: tuple[datetime, int, int]) -> np.ndarray:
    assert _FORKED is not None
    return _feature_block(_FORKED, *args)


def build_training_frame(bank: SyntheticBank, as_of: datetime | None = None, workers: int = 1) -> pd.DataFrame:
    """Rows = customers (index = position in the bank); columns = FEATURE_NAMES, held flags and one
    `label_<product>` column per product (NaN where the product is already held here).
    `workers` > 1 replays blocks of customers in forked processes (same rows, same order)."""
    global _FORKED
    as_of = as_of or bank.as_of
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    columns = [*FEATURE_NAMES, *held_columns()]
    n = bank.n_customers
    if workers <= 1 or n <= BLOCK:
        values = _feature_block(bank, as_of, 0, n)
    else:
        blocks = [(as_of, lo, min(lo + BLOCK, n)) for lo in range(0, n, BLOCK)]
        _FORKED = bank  # inherited by the forked workers: the bank is not pickled
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                values = np.vstack(pool.map(_forked_block, blocks, chunksize=1))
        finally:
            _FORKED = None
    frame = pd.DataFrame(values, columns=columns)
    for p, product in enumerate(bank.products):
        frame[label_column(product.value)] = bank.labels[:, p]
    frame.index.name = "customer_index"
    frame.attrs["feature_set_version"] = FEATURE_SET_VERSION
    frame.attrs["as_of"] = as_of.isoformat()
    return frame


def build_time_split(bank: SyntheticBank, workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(earlier, later) frames for an out-of-time evaluation: the earlier one holds features as of
    `bank.earlier_as_of` with the acquisitions of the horizon that ends at as_of (train on it); the
    later one is `build_training_frame(bank)`, features as of as_of and the next horizon's labels."""
    return earlier_frame(bank, workers), build_training_frame(bank, workers=workers)


def earlier_frame(bank: SyntheticBank, workers: int = 1) -> pd.DataFrame:
    """Features as of `bank.earlier_as_of`, labelled with the acquisitions of the horizon ending at as_of."""
    if bank.earlier_labels is None:
        raise ValueError("this bank has no earlier-period labels: generate it with generate_bank")
    earlier = build_training_frame(bank, bank.earlier_as_of, workers)
    for p, product in enumerate(bank.products):
        earlier[label_column(product.value)] = bank.earlier_labels[:, p]
    return earlier


def label_rates(frame: pd.DataFrame) -> dict[str, float]:
    labels = frame.filter(like="label_")
    return {str(c).removeprefix("label_"): float(np.nanmean(labels[c])) for c in labels}
