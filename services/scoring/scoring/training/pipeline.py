"""Train every product found in a frame, evaluate on a holdout, register one model, gate promotion.

The holdout is time-based when the caller passes an `evaluation_frame` (snapshots and labels from a
later period than `frame`'s); otherwise, e.g. a campaign CSV with no dates, a random share of the
rows, and the report says so. Either way the candidates are compared on a validation split of the
training rows only, so the reported holdout metrics are not the ones the choice was made on.

The model is registered and its alias set before the evaluation report (curves, permutation
importances, charts) is drawn and logged to the same run: the report is most of training's time (about
70 % on the demo bank) and serving needs none of it. `on_registered` lets a caller go on (e.g. `make
run` to its first recommendations) while the report is still being drawn.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.domain.drift import reference_from
from scoring.domain.vector import LABEL_PREFIX
from scoring.training.candidates import ProductFit, fit_product
from scoring.training.html_report import Curves, write_report
from scoring.training.registry import NO_ALIAS, PromotionGate, log_and_register, log_evaluation, promote
from scoring.training.report import TrainingReport

log = logging.getLogger(__name__)

DEFAULT_FEATURE_SET = "unknown"
TIME_SPLIT = "time"
RANDOM_SPLIT = "random"


def frame_layout(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(feature columns, products): `label_<product>` columns are targets, every other numeric column
    is an input."""
    products = [c.removeprefix(LABEL_PREFIX) for c in frame.columns if c.startswith(LABEL_PREFIX)]
    columns = [c for c in frame.columns if not c.startswith(LABEL_PREFIX) and pd.api.types.is_numeric_dtype(frame[c])]
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
        rows.append(
            {
                "product": product,
                "chosen": fit.kind,
                **fit.metrics,
                "oracle_auc": oracle,
                "auc_vs_oracle": fit.metrics["auc"] / oracle if oracle and not math.isnan(oracle) else math.nan,
                "auc_logistic": fit.candidate_auc.get("logistic", math.nan),
                "auc_boosted": fit.candidate_auc.get("boosted", math.nan),
                "n_train": fit.n_train,
                "n_validation": fit.n_validation,
                "n_holdout": fit.n_holdout,
                "positives_holdout": fit.positives_holdout,
            }
        )
    return pd.DataFrame(rows).set_index("product")


def mean_auc(table: pd.DataFrame) -> float:
    aucs = table["auc"].dropna()
    return float(aucs.mean()) if len(aucs) else math.nan


def split_description(
    kind: str, frame: pd.DataFrame, evaluation_frame: pd.DataFrame | None, holdout_fraction: float
) -> str:
    if kind == TIME_SPLIT:
        assert evaluation_frame is not None
        train_at, eval_at = frame.attrs.get("as_of", "?"), evaluation_frame.attrs.get("as_of", "?")
        return f"time-based: trained on rows as of {train_at}, evaluated on rows as of {eval_at}"
    return f"random {holdout_fraction:.0%} of rows (the data carries no time information)"


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
    evaluation_frame: pd.DataFrame | None = None,
    validation_fraction: float = 0.2,
    gate: PromotionGate | None = None,
    encoding: dict[str, object] | None = None,
    raw_example: pd.DataFrame | None = None,
    notes: list[str] | None = None,
    on_registered: Callable[[TrainingReport], None] | None = None,
) -> TrainingReport:
    """`evaluation_frame` (same columns, a later period) makes the holdout time-based: every row of
    `frame` trains, every row of it evaluates. Without it, `holdout_fraction` of `frame` at random.
    `gate` decides whether the version gets an alias at all (default floor: AUC 0.52, ECE 0.10);
    `encoding`/`raw_example` come with a bank CSV (text columns encoded by `bank_csv`). `on_registered` is
    called with the report once the version is registered and promoted (or refused), before the
    evaluation report is drawn; the call returns after that report is logged with the run."""
    started = time.perf_counter()
    gate = gate or PromotionGate(champion_margin=promotion_margin)
    columns, products = frame_layout(frame)
    native = frame.attrs.get("categorical") or []
    categorical = np.array([c in native for c in columns]) if native else None
    feature_set_version = feature_set_version or frame.attrs.get("feature_set_version", DEFAULT_FEATURE_SET)
    x = frame[columns].to_numpy(dtype=float)
    kind = RANDOM_SPLIT if evaluation_frame is None else TIME_SPLIT
    if evaluation_frame is None:
        holdout = holdout_mask(len(frame), seed, holdout_fraction)
        x_eval, eval_source, evaluated = x, frame, holdout
    else:
        missing = [c for c in [*columns, *(f"{LABEL_PREFIX}{p}" for p in products)] if c not in evaluation_frame]
        if missing:
            raise ValueError(f"the evaluation frame lacks columns: {', '.join(missing)}")
        holdout = np.zeros(len(frame), dtype=bool)
        x_eval, eval_source = evaluation_frame[columns].to_numpy(dtype=float), evaluation_frame
        evaluated = np.ones(len(evaluation_frame), dtype=bool)
    # Its own stream: which rows validate never depends on which rows were held out.
    validating = np.random.default_rng([seed, 11]).random(len(frame)) < validation_fraction
    fits: dict[str, ProductFit] = {}
    holdouts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for product in products:
        y = frame[f"{LABEL_PREFIX}{product}"].to_numpy(dtype=float)
        train = ~np.isnan(y) & ~holdout
        y_eval = eval_source[f"{LABEL_PREFIX}{product}"].to_numpy(dtype=float)
        hold = ~np.isnan(y_eval) & evaluated
        fits[product] = fit_product(
            product,
            x[train],
            y[train],
            x_eval[hold],
            y_eval[hold],
            seed,
            validation=validating[train],
            categorical=categorical,
        )
        holdouts[product] = (x_eval[hold], y_eval[hold])
    table = metrics_table(fits, oracle_auc)
    mean = mean_auc(table)
    table.insert(0, "split", kind)  # in the report and in the run's metrics CSV: how it was measured
    split = split_description(kind, frame, evaluation_frame, holdout_fraction)
    refusal = gate.refusal(mean, table)
    baselines = {str(c): (0.0 if math.isnan(v) else float(v)) for c, v in frame[columns].median().items()}
    params: dict[str, object] = {
        "seed": seed,
        "split": kind,
        "validation_fraction": validation_fraction,
        "rows": len(frame),
    }
    if evaluation_frame is None:
        params["holdout_fraction"] = holdout_fraction
    else:
        params.update(
            evaluation_rows=len(evaluation_frame),
            train_as_of=frame.attrs.get("as_of", "unknown"),
            evaluation_as_of=evaluation_frame.attrs.get("as_of", "unknown"),
        )
    # The training snapshot's distributions, kept with the model: serving measures drift against them.
    trained = x[~holdout]
    propensities = np.column_stack([fits[p].estimator.predict_proba(trained)[:, 1] for p in products])
    reference = reference_from(columns, trained, products, propensities)
    params.update(gate_auc_floor=0.5 + gate.auc_margin, gate_max_ece=gate.max_ece)
    example = (
        raw_example.reset_index(drop=True)
        if raw_example is not None
        else frame[columns].head(3).astype(float).reset_index(drop=True)
    )
    run_id, version = log_and_register(
        tracking_uri=tracking_uri,
        model_name=model_name,
        fits=fits,
        columns=columns,
        baselines=baselines,
        feature_set_version=feature_set_version,
        table=table,
        mean_auc=mean,
        params=params,
        example=example,
        encoding=encoding,
        reference=reference,
    )
    alias, previous = promote(tracking_uri, model_name, version, mean, gate.champion_margin, refusal)
    if alias == NO_ALIAS:
        log.warning("model not promoted", extra={"model": model_name, "version": version, "reason": refusal})
    log.info(
        "model trained",
        extra={
            "model": model_name,
            "version": version,
            "alias": alias,
            "split": kind,
            "mean_auc": round(mean, 4),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    report = TrainingReport(
        model_name=model_name,
        version=version,
        alias=alias,
        mean_auc=mean,
        previous_champion_auc=previous,
        run_id=run_id,
        feature_set_version=feature_set_version,
        metrics=table,
        split=kind,
        split_detail=split,
        refusal=refusal,
        notes=notes or [],
    )
    if on_registered is not None:
        on_registered(report)
    curves = {product: Curves.of(fits[product], *holdouts[product], columns, seed) for product in products}
    with tempfile.TemporaryDirectory(prefix="prometeo-report-") as tmp:
        write_report(
            Path(tmp),
            model_name=model_name,
            table=table,
            curves=curves,
            split=split,
            notes=notes or [],
            gate=refusal or f"passed (mean AUC ≥ {0.5 + gate.auc_margin:.3f}, every ECE ≤ {gate.max_ece})",
        )
        log_evaluation(tracking_uri, run_id, Path(tmp))
    return report
