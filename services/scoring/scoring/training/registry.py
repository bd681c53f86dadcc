"""Log a fitted product set as one MLflow model, register it, and gate the `champion` alias.

The gate has a floor as well as a race: a candidate that ranks customers no better than a coin (mean
holdout AUC below 0.5 + a margin), ranks any product backwards (AUC below 0.5), or is badly calibrated
(ECE above a bound) gets no alias at all — even when there is no champion to beat — and the reason is
tagged on the version and returned to the caller.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from importlib.metadata import version as installed
from numbers import Real
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import skops.io as sio
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema
from mlflow.types.schema import AnyType

from scoring.training.candidates import ProductFit

CHAMPION = "champion"
CHALLENGER = "challenger"
NO_ALIAS = "none"
MEAN_AUC = "holdout_auc_mean"
REFUSED_TAG = "promotion_refused"
NO_SKILL_AUC = 0.5


@dataclass(frozen=True)
class PromotionGate:
    """What a candidate must clear to get any alias, and how much it must beat the champion by."""

    auc_margin: float = 0.02  # over the no-skill AUC of 0.5, on the mean over products
    max_ece: float = 0.10  # expected calibration error, worst product
    champion_margin: float = 0.002
    min_product_auc: float = NO_SKILL_AUC  # any fitted product below: it ranks customers backwards

    def refusal(self, mean_auc: float, table: pd.DataFrame) -> str | None:
        """None when the candidate may be promoted; otherwise why not, in one line."""
        floor = NO_SKILL_AUC + self.auc_margin
        if math.isnan(mean_auc):
            return "no product could be evaluated on the holdout (too few positives)"
        fitted = table[table["chosen"] != "prior"] if "chosen" in table else table
        for product, row in fitted.iterrows():
            # Below 0.5 by more than two standard errors: not noise of a small holdout, but backwards.
            slack = 2 * _auc_standard_error(row.get("positives_holdout"), row.get("n_holdout"))
            if not math.isnan(row["auc"]) and row["auc"] < self.min_product_auc - slack:
                return (
                    f"{product}: holdout AUC {row['auc']:.3f} is below 0.5 (beyond noise): it ranks customers backwards"
                )
        if mean_auc < floor:
            return f"mean holdout AUC {mean_auc:.3f} is below the no-skill floor {floor:.3f} (0.5 + {self.auc_margin})"
        for product, row in fitted.iterrows():
            if not math.isnan(row.get("ece", math.nan)) and row["ece"] > self.max_ece:
                return f"{product}: calibration error (ECE) {row['ece']:.3f} is above the bound {self.max_ece}"
        return None


MODEL_CODE = Path(__file__).with_name("propensity_model.py")
MANIFEST = "manifest"  # the artifact key propensity_model.py reads (not imported: it registers itself on import)
_REQUIREMENTS = ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "scipy")


def _pip_requirements() -> list[str]:
    # Pinned explicitly: MLflow's inference would load the model in a subprocess, costing seconds.
    return [f"{name}=={installed(name)}" for name in _REQUIREMENTS]


def _auc_standard_error(positives: object, n: object) -> float:
    """Hanley & McNeil's standard error of a no-skill AUC on `positives` of `n` rows (0 when unknown)."""
    if not isinstance(positives, Real) or not isinstance(n, Real) or math.isnan(float(positives)):
        return 0.0
    pos, neg = float(positives), float(n) - float(positives)
    if pos <= 0 or neg <= 0:
        return 0.0
    return math.sqrt((pos + neg + 1) / (12 * pos * neg))


def log_and_register(
    *,
    tracking_uri: str,
    model_name: str,
    fits: dict[str, ProductFit],
    columns: list[str],
    baselines: dict[str, float],
    feature_set_version: str,
    table: pd.DataFrame,
    mean_auc: float,
    params: dict[str, object],
    example: pd.DataFrame,
    encoding: dict[str, object] | None = None,
    artifacts_dir: Path | None = None,
    reference: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """→ (run id, registered version). `example` holds the model's inputs as callers send them (a bank
    CSV's text columns before encoding); `encoding` says how they become `columns`. Files in
    `artifacts_dir` (the HTML report and its data) are logged with the run (or later, `log_evaluation`).
    `reference`: the training snapshot's feature and score histograms (scoring.domain.drift), in the
    model's metadata and as a run artifact."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    mlflow.set_experiment(model_name)
    products = list(fits)
    with tempfile.TemporaryDirectory(prefix="prometeo-model-") as tmp, mlflow.start_run() as run:
        artifacts = {}
        for product, fit in fits.items():
            path = Path(tmp) / f"{product}.skops"
            sio.dump(fit.estimator, path)
            artifacts[product] = str(path)
        manifest = Path(tmp) / "manifest.json"
        manifest.write_text(json.dumps({"columns": columns, "products": products, "encoding": encoding}))
        artifacts[MANIFEST] = str(manifest)

        mlflow.set_tag("feature_set_version", feature_set_version)
        mlflow.log_params({**params, "products": ",".join(products), "n_columns": len(columns)})
        # One request for every metric: a request each was ~150 round trips to the tracking server.
        metrics = {
            f"{metric}.{name}": value
            for name, row in table.iterrows()
            for metric, value in row.items()
            if isinstance(value, float) and not math.isnan(value)
        }
        mlflow.log_metrics({MEAN_AUC: mean_auc, **metrics})
        mlflow.log_text(table.to_csv(), "evaluation/holdout_metrics.csv")
        if reference is not None:
            mlflow.log_dict(reference, "reference/histograms.json")
        if artifacts_dir is not None:
            mlflow.log_artifacts(str(artifacts_dir), "evaluation")

        # Input columns are named but not typed: the model casts numbers itself, so an integer column is
        # scored, not refused ("Can not safely convert int64 to float64").
        signature = ModelSignature(
            inputs=Schema([ColSpec(AnyType(), str(c)) for c in example.columns]),
            outputs=Schema([ColSpec("double", p) for p in products]),
        )
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(MODEL_CODE),
            artifacts=artifacts,
            signature=signature,
            input_example=example,
            pip_requirements=_pip_requirements(),
            metadata={
                "feature_set_version": feature_set_version,
                "columns": columns,
                "products": products,
                "baselines": baselines,
                "chosen": {p: f.kind for p, f in fits.items()},
                **({"reference": reference} if reference is not None else {}),
                "inputs": [str(c) for c in example.columns],
                "encoding": encoding,
            },
            registered_model_name=model_name,
        )
    version = str(info.registered_model_version)
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    client.set_model_version_tag(model_name, version, "feature_set_version", feature_set_version)
    client.set_model_version_tag(model_name, version, MEAN_AUC, f"{mean_auc:.6f}")
    return run.info.run_id, version


def log_evaluation(tracking_uri: str, run_id: str, folder: Path) -> None:
    """The evaluation report's files, logged under `evaluation/` of a run that already ended."""
    MlflowClient(tracking_uri).log_artifacts(run_id, str(folder), "evaluation")


def champion_auc(client: MlflowClient, model_name: str) -> float | None:
    """Mean holdout AUC of the current champion, or None when there is no champion."""
    try:
        champion = client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        return None
    if MEAN_AUC in champion.tags:
        return float(champion.tags[MEAN_AUC])
    if champion.run_id:
        return client.get_run(champion.run_id).data.metrics.get(MEAN_AUC, math.nan)
    return math.nan


def promote(
    tracking_uri: str, model_name: str, version: str, mean_auc: float, margin: float, refusal: str | None = None
) -> tuple[str, float | None]:
    """With a `refusal` (the gate's reason): no alias, the reason tagged on the version. Otherwise
    champion if no champion exists or the new version beats it by `margin`; else challenger."""
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    previous = champion_auc(client, model_name)
    if refusal is not None:
        client.set_model_version_tag(model_name, version, REFUSED_TAG, refusal)
        return NO_ALIAS, previous
    beats = previous is None or math.isnan(previous) or (not math.isnan(mean_auc) and mean_auc > previous + margin)
    alias = CHAMPION if beats else CHALLENGER
    client.set_registered_model_alias(model_name, alias, version)
    return alias, previous
