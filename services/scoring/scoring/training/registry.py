"""Log a fitted product set as one MLflow model, register it, and gate the `champion` alias."""

from __future__ import annotations

import json
import math
import tempfile
from importlib.metadata import version as installed
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import skops.io as sio
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from scoring.training.candidates import ProductFit

CHAMPION = "champion"
CHALLENGER = "challenger"
MEAN_AUC = "holdout_auc_mean"
MODEL_CODE = Path(__file__).with_name("propensity_model.py")
MANIFEST = "manifest"  # the artifact key propensity_model.py reads (not imported: it registers itself on import)
_REQUIREMENTS = ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "scipy")


def _pip_requirements() -> list[str]:
    # Pinned explicitly: MLflow's inference would load the model in a subprocess, costing seconds.
    return [f"{name}=={installed(name)}" for name in _REQUIREMENTS]


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
    reference: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """→ (run id, registered version). `reference`: the training snapshot's feature and score
    histograms (scoring.domain.drift), in the model's metadata and as a run artifact."""
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
        manifest.write_text(json.dumps({"columns": columns, "products": products}))
        artifacts[MANIFEST] = str(manifest)

        mlflow.set_tag("feature_set_version", feature_set_version)
        mlflow.log_params({**params, "products": ",".join(products), "n_columns": len(columns)})
        mlflow.log_metric(MEAN_AUC, mean_auc)
        for name, row in table.iterrows():
            for metric, value in row.items():
                if isinstance(value, float) and not math.isnan(value):
                    mlflow.log_metric(f"{metric}.{name}", value)
        mlflow.log_text(table.to_csv(), "evaluation/holdout_metrics.csv")
        if reference is not None:
            mlflow.log_dict(reference, "reference/histograms.json")

        output = pd.DataFrame({p: [0.5] * len(example) for p in products})
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(MODEL_CODE),
            artifacts=artifacts,
            signature=infer_signature(example, output),
            input_example=example,
            pip_requirements=_pip_requirements(),
            metadata={
                "feature_set_version": feature_set_version,
                "columns": columns,
                "products": products,
                "baselines": baselines,
                "chosen": {p: f.kind for p, f in fits.items()},
                **({"reference": reference} if reference is not None else {}),
            },
            registered_model_name=model_name,
        )
    version = str(info.registered_model_version)
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    client.set_model_version_tag(model_name, version, "feature_set_version", feature_set_version)
    client.set_model_version_tag(model_name, version, MEAN_AUC, f"{mean_auc:.6f}")
    return run.info.run_id, version


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
    tracking_uri: str, model_name: str, version: str, mean_auc: float, margin: float
) -> tuple[str, float | None]:
    """Champion if no champion exists or the new version beats it by `margin`; else challenger."""
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    previous = champion_auc(client, model_name)
    beats = previous is None or math.isnan(previous) or (not math.isnan(mean_auc) and mean_auc > previous + margin)
    alias = CHAMPION if beats else CHALLENGER
    client.set_registered_model_alias(model_name, alias, version)
    return alias, previous
