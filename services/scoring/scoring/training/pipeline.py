"""Train every product found in a frame, evaluate on a holdout, register one model, gate promotion."""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pandas as pd

from scoring.domain.vector import LABEL_PREFIX
from scoring.training.candidates import ProductFit, fit_product
from scoring.training.registry import log_and_register, promote
from scoring.training.report import TrainingReport

log = logging.getLogger(__name__)

DEFAULT_FEATURE_SET = "unknown"


def frame_layout(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(feature columns, products): `label_<product>` columns are targets, every other numeric column
    is an input."""
    products = [c.removeprefix(LABEL_PREFIX) for c in frame.columns if c.startswith(LABEL_PREFIX)]
    columns = [c for c in frame.columns
               if not c.startswith(LABEL_PREFIX) and pd.api.types.is_numeric_dtype(frame[c])]
    if not products:
        raise ValueError("the frame has no label_<product> column")
    if not columns:
        raise ValueError("the frame has no numeric feature column")
    return columns, products


def holdout_mask(n_rows: int, seed: int, fraction: float) -> np.ndarray:
    """The rows held out for evaluation: reproducible from (seed, fraction) so callers can compare."""
    return np.random.default_rng(seed).random(n_rows) < fraction


def metrics_table(fits: dict[str, ProductFit], oracle_auc: dict[str, float] | None) -> pd.DataFrame:
    rows = []
    for product, fit in fits.items():
        oracle = (oracle_auc or {}).get(product, math.nan)
        rows.append({
            "product": product, "chosen": fit.kind, **fit.metrics, "oracle_auc": oracle,
            "auc_vs_oracle": fit.metrics["auc"] / oracle if oracle and not math.isnan(oracle) else math.nan,
            "auc_logistic": fit.candidate_auc.get("logistic", math.nan),
            "auc_boosted": fit.candidate_auc.get("boosted", math.nan),
            "n_train": fit.n_train, "n_holdout": fit.n_holdout, "positives_holdout": fit.positives_holdout,
        })
    return pd.DataFrame(rows).set_index("product")


def mean_auc(table: pd.DataFrame) -> float:
    aucs = table["auc"].dropna()
    return float(aucs.mean()) if len(aucs) else math.nan


def train_and_register(
    frame: pd.DataFrame,
    tracking_uri: str,
    model_name: str = "prometeo-propensity",
    *,
    oracle_auc: dict[str, float] | None = None,
    promotion_margin: float = 0.002,
    seed: int = 0,
    holdout_fraction: float = 0.25,
    feature_set_version: str | None = None,
) -> TrainingReport:
    started = time.perf_counter()
    columns, products = frame_layout(frame)
    feature_set_version = feature_set_version or frame.attrs.get("feature_set_version", DEFAULT_FEATURE_SET)
    x = frame[columns].to_numpy(dtype=float)
    holdout = holdout_mask(len(frame), seed, holdout_fraction)
    fits: dict[str, ProductFit] = {}
    for product in products:
        y = frame[f"{LABEL_PREFIX}{product}"].to_numpy(dtype=float)
        known = ~np.isnan(y)
        train, hold = known & ~holdout, known & holdout
        fits[product] = fit_product(product, x[train], y[train], x[hold], y[hold], seed)
    table = metrics_table(fits, oracle_auc)
    mean = mean_auc(table)
    baselines = {c: (0.0 if math.isnan(v) else float(v)) for c, v in frame[columns].median().items()}
    run_id, version = log_and_register(
        tracking_uri=tracking_uri, model_name=model_name, fits=fits, columns=columns, baselines=baselines,
        feature_set_version=feature_set_version, table=table, mean_auc=mean,
        params={"seed": seed, "holdout_fraction": holdout_fraction, "rows": len(frame)},
        example=frame[columns].head(3).astype(float).reset_index(drop=True),
    )
    alias, previous = promote(tracking_uri, model_name, version, mean, promotion_margin)
    log.info("model trained", extra={"model": model_name, "version": version, "alias": alias,
                                     "mean_auc": round(mean, 4), "seconds": round(time.perf_counter() - started, 1)})
    return TrainingReport(
        model_name=model_name, version=version, alias=alias, mean_auc=mean, previous_champion_auc=previous,
        run_id=run_id, feature_set_version=feature_set_version, metrics=table,
    )
