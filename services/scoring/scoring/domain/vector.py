"""The model's input row: the feature store's numeric features plus one 0/1 flag per product held
here and elsewhere (retail products: business credit held elsewhere is not a model input). Training and
serving build it with the same functions, so they cannot drift."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from prometeo.contracts import RETAIL_PRODUCTS

HELD_HERE_PREFIX = "held_here_"
HELD_ELSEWHERE_PREFIX = "held_elsewhere_"
LABEL_PREFIX = "label_"


def held_columns() -> list[str]:
    return [f"{HELD_HERE_PREFIX}{p.value}" for p in RETAIL_PRODUCTS] + [
        f"{HELD_ELSEWHERE_PREFIX}{p.value}" for p in RETAIL_PRODUCTS
    ]


def label_column(product: str) -> str:
    return f"{LABEL_PREFIX}{product}"


def held_flags(held_here: Iterable[str], held_elsewhere: Iterable[str]) -> dict[str, float]:
    here, elsewhere = {str(p) for p in held_here}, {str(p) for p in held_elsewhere}
    flags = {f"{HELD_HERE_PREFIX}{p.value}": float(p.value in here) for p in RETAIL_PRODUCTS}
    flags.update({f"{HELD_ELSEWHERE_PREFIX}{p.value}": float(p.value in elsewhere) for p in RETAIL_PRODUCTS})
    return flags


def input_row(
    columns: Sequence[str],
    features: Mapping[str, float],
    held_here: Iterable[str] = (),
    held_elsewhere: Iterable[str] = (),
) -> list[float]:
    """Values in the model's column order. A feature the model knows but the input lacks is NaN:
    the fitted pipelines impute it, so an older feature set degrades instead of failing."""
    values = {**features, **held_flags(held_here, held_elsewhere)}
    return [float(values.get(c, float("nan"))) for c in columns]
