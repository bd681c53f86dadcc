"""A point-in-time training frame from a synthetic bank, computed by the feature store's own code.

Each customer's events are replayed through `feature_store.domain` (mutation_for → MemoryCustomer
→ compute_features), exactly what the online store does in Redis, so a model trains on the numbers
it will be served. Only events that occurred at or before `as_of` count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from feature_store.domain.aggregation import compute_features, held_products, mutation_for
from feature_store.domain.definitions import FEATURE_NAMES, FEATURE_SET_VERSION
from feature_store.domain.replay import MemoryCustomer
from prometeo.contracts import EventPayload, payload_model
from prometeo_dev.synthbank import SyntheticBank
from scoring.domain.vector import held_columns, held_flags, label_column


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


def build_training_frame(bank: SyntheticBank, as_of: datetime | None = None) -> pd.DataFrame:
    """Rows = customers (index = position in the bank); columns = FEATURE_NAMES, held flags and one
    `label_<product>` column per product (NaN where the product is already held here)."""
    as_of = as_of or bank.as_of
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    rows = [feature_row(items, as_of) for _, items in bank.iter_customer_events()]
    columns = [*FEATURE_NAMES, *held_columns()]
    frame = pd.DataFrame(rows, columns=columns, dtype=float)
    for p, product in enumerate(bank.products):
        frame[label_column(product.value)] = bank.labels[:, p]
    frame.index.name = "customer_index"
    frame.attrs["feature_set_version"] = FEATURE_SET_VERSION
    frame.attrs["as_of"] = as_of.isoformat()
    return frame


def label_rates(frame: pd.DataFrame) -> dict[str, float]:
    labels = frame.filter(like="label_")
    return {c.removeprefix("label_"): float(np.nanmean(labels[c])) for c in labels}
