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
# A partial only holds a callable and its arguments; skops lists the wrapped callable as a type of its own
# (native categorical trees keep `partial(sklearn.utils.validation.check_array, …)`), checked above.
TRUSTED_TYPES = frozenset({"functools.partial"})
MANIFEST = "manifest"


class UntrustedArtifact(ValueError):
    pass


def load_estimator(path: str) -> Any:
    untrusted = sio.get_untrusted_types(file=path)
    refused = [t for t in untrusted if not t.startswith(TRUSTED_MODULES) and t not in TRUSTED_TYPES]
    if refused:
        raise UntrustedArtifact(f"{Path(path).name} contains types outside the trust policy: {refused}")
    return sio.load(path, trusted=untrusted)


OTHER, MISSING = "__other__", "__missing__"


def encode_categoricals(frame: pd.DataFrame, encoding: dict[str, Any]) -> pd.DataFrame:
    """Text columns as training encoded them (one-hot indicators or category codes); kept in step with
    `scoring.training.bank_csv.CategoricalEncoding.encode` by a unit test, since this file stands alone."""
    out = frame.drop(columns=list(encoding["categories"]))
    for col, cats in encoding["categories"].items():
        text = frame[col].astype("string").str.strip()
        text = text.where(text.notna() & (text != ""), MISSING).astype(str)
        text = text.where(text.isin(cats), OTHER if OTHER in cats else cats[-1])
        if encoding["mode"] == "native":
            out[col] = text.map({c: float(i) for i, c in enumerate(cats)}).astype(float)
        else:
            for cat in cats:
                out[f"{col}={cat}"] = (text == cat).astype(float)
    return out


class PropensityModel(PythonModel):
    """predict(frame with the model's inputs) → frame with one propensity column per product. Inputs
    are numbers of any dtype (integers included) and, for a model trained on a bank's CSV, its text
    columns as they came."""

    def load_context(self, context: Any) -> None:
        manifest = json.loads(Path(context.artifacts[MANIFEST]).read_text())
        self.columns: list[str] = manifest["columns"]
        self.products: list[str] = manifest["products"]
        self.encoding: dict[str, Any] | None = manifest.get("encoding")
        self.estimators = {p: load_estimator(context.artifacts[p]) for p in self.products}

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        frame = model_input
        cats = self.encoding["categories"] if self.encoding else {}
        # Text as it came is encoded here; columns already holding numbers (codes) are taken as they are.
        if cats and all(c in frame for c in cats) and any(not pd.api.types.is_numeric_dtype(frame[c]) for c in cats):
            frame = encode_categoricals(frame, self.encoding)  # type: ignore[arg-type]
        # Integers, booleans and numeric strings are all numbers here: cast, never refuse.
        x = frame[self.columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        return pd.DataFrame(
            {p: est.predict_proba(x)[:, 1] for p, est in self.estimators.items()}, index=model_input.index
        )


mlflow.models.set_model(PropensityModel())
