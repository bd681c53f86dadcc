"""MLflow models-from-code entry point for the packaged propensity model.

MLflow copies this file into the model and executes it on load, so no pickled Python object is
ever deserialised. The fitted estimators travel as skops files and are loaded only if every type
they contain comes from scikit-learn, NumPy or SciPy. Self-contained on purpose: a model loads
wherever mlflow, scikit-learn and skops are installed, without the Prometeo code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import skops.io as sio
from mlflow.pyfunc import PythonModel

TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.")
MANIFEST = "manifest"


class UntrustedArtifact(ValueError):
    pass


def load_estimator(path: str) -> Any:
    untrusted = sio.get_untrusted_types(file=path)
    refused = [t for t in untrusted if not t.startswith(TRUSTED_MODULES)]
    if refused:
        raise UntrustedArtifact(f"{Path(path).name} contains types outside the trust policy: {refused}")
    return sio.load(path, trusted=untrusted)


class PropensityModel(PythonModel):
    """predict(frame with the model's columns) → frame with one propensity column per product."""

    def load_context(self, context: Any) -> None:
        manifest = json.loads(Path(context.artifacts[MANIFEST]).read_text())
        self.columns: list[str] = manifest["columns"]
        self.products: list[str] = manifest["products"]
        self.estimators = {p: load_estimator(context.artifacts[p]) for p in self.products}

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        x = model_input[self.columns].to_numpy(dtype=float)
        return pd.DataFrame(
            {p: est.predict_proba(x)[:, 1] for p, est in self.estimators.items()}, index=model_input.index
        )


mlflow.models.set_model(PropensityModel())
