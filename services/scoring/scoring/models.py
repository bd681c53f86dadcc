"""The served models: loaded from the MLflow registry by alias, watched, and hot-swapped.

Requests take one `LoadedModel` reference at their start and use it to the end; the watcher loads a
new version completely before it replaces that reference (one attribute assignment, atomic in
CPython), so a swap never fails or mixes versions inside a request.

Serving does not go through the pyfunc wrapper: at load, the fitted estimators are taken out of it
once and compiled to arrays (`domain/compiled.py`); requests then predict on NumPy rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel

from prometeo import clock
from prometeo.contracts.events import ProductScore
from prometeo.telemetry.metrics import MODEL_INFO, MODEL_SCORE_SECONDS
from scoring.domain.compiled import CompiledPropensity
from scoring.domain.drift import DriftMonitor, monitor_from
from scoring.domain.scorer import ModelSpec, Scorer, ScoringInput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    name: str
    alias: str
    version: str
    feature_set_version: str
    spec: ModelSpec
    pyfunc: PyFuncModel
    compiled: CompiledPropensity
    loaded_at: datetime = field(default_factory=clock.now)
    # What it serves vs its training snapshot (None: a model registered before references were kept).
    drift: DriftMonitor | None = None
    scorer: Scorer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scorer", Scorer(self, self.spec))

    @property
    def products(self) -> list[str]:
        return self.compiled.products

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The packaged pyfunc, as any MLflow client would call it (the reference the fast path matches)."""
        # PyFuncModel.predict may return many shapes; the packaged PropensityModel returns a frame.
        return cast(pd.DataFrame, self.pyfunc.predict(frame))

    def predict_array(self, x: np.ndarray) -> np.ndarray:
        """(rows × spec.columns) → (rows × products), without the wrapper or a DataFrame."""
        return self.compiled.predict(x)

    def score(self, inputs: Sequence[ScoringInput], reasons_per_product: int) -> list[list[ProductScore]]:
        started = time.perf_counter()
        scores = self.scorer.score(inputs, reasons_per_product)
        if inputs:
            per_customer = (time.perf_counter() - started) / len(inputs)
            for _ in inputs:
                MODEL_SCORE_SECONDS.observe(per_customer)
        return scores


class RegistryLoader:
    def __init__(self, tracking_uri: str, model_name: str) -> None:
        self.model_name = model_name
        self._tracking_uri = tracking_uri
        self._client = MlflowClient(tracking_uri, registry_uri=tracking_uri)

    def version_of(self, alias: str) -> str | None:
        """The version an alias points at now, or None if the model or alias does not exist."""
        try:
            return str(self._client.get_model_version_by_alias(self.model_name, alias).version)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
                return None
            raise

    def load(self, alias: str, version: str) -> LoadedModel:
        # Load the resolved version, not the alias: the alias may move between the two calls.
        mlflow.set_tracking_uri(self._tracking_uri)
        mlflow.set_registry_uri(self._tracking_uri)
        pyfunc = mlflow.pyfunc.load_model(f"models:/{self.model_name}/{version}")
        meta = pyfunc.metadata.metadata or {}
        wrapped = pyfunc.unwrap_python_model()
        if list(wrapped.columns) != list(meta["columns"]):
            raise ValueError(f"version {version}: manifest and metadata disagree on the input columns")
        compiled = CompiledPropensity(list(wrapped.products), wrapped.estimators)
        return LoadedModel(
            name=self.model_name,
            alias=alias,
            version=version,
            feature_set_version=str(meta.get("feature_set_version", "unknown")),
            spec=ModelSpec(
                columns=list(meta["columns"]),
                products=list(meta["products"]),
                baselines=dict(meta.get("baselines", {})),
            ),
            pyfunc=pyfunc,
            compiled=compiled,
            drift=monitor_from(meta.get("reference")),
        )


class ModelHolder:
    """The current model per alias. Readers call `get`; only the watcher calls `swap`."""

    def __init__(self) -> None:
        self._models: dict[str, LoadedModel] = {}

    def get(self, alias: str) -> LoadedModel | None:
        return self._models.get(alias)

    def swap(self, alias: str, model: LoadedModel | None) -> None:
        previous = self._models.get(alias)
        models = dict(self._models)
        if model is None:
            models.pop(alias, None)
        else:
            models[alias] = model
            MODEL_INFO.labels(model.name, alias, model.version).set(1)
        self._models = models  # the atomic step
        if previous is not None and (model is None or previous.version != model.version):
            MODEL_INFO.remove(previous.name, alias, previous.version)

    def all(self) -> dict[str, LoadedModel]:
        return dict(self._models)


class ModelWatcher:
    """Polls the registry; loads whatever each alias points at when it moves."""

    def __init__(
        self, loader: RegistryLoader, holder: ModelHolder, aliases: Sequence[str], interval_s: float, retry_s: float
    ) -> None:
        self._loader = loader
        self._holder = holder
        self._aliases = list(aliases)
        self._interval_s = interval_s
        self._retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="model-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            ready = self._holder.get(self._aliases[0]) is not None
            self._stop.wait(self._interval_s if ready else min(self._retry_s, self._interval_s))

    def refresh(self) -> None:
        for alias in self._aliases:
            try:
                version = self._loader.version_of(alias)
                current = self._holder.get(alias)
                if version is None:
                    # A challenger may be retired; a champion is never dropped for a registry hiccup.
                    if current is not None and alias != self._aliases[0]:
                        self._holder.swap(alias, None)
                    continue
                if current is None or current.version != version:
                    model = self._loader.load(alias, version)
                    self._holder.swap(alias, model)
                    log.info("model loaded", extra={"model": model.name, "alias": alias, "version": version})
                self.last_error = None
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("model refresh failed", extra={"alias": alias, "error": self.last_error[:300]})
