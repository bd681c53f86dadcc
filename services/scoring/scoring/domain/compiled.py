"""The served model as plain NumPy: the fitted estimators are read once, at load, into arrays.

Scoring one customer means ~30 rows (the input plus one row per reason signal) through ten
calibrated models. Through the MLflow pyfunc wrapper and scikit-learn's per-call validation that
costs ~20 ms, nearly all of it overhead; here the same arithmetic is a handful of array operations:

- a logistic pipeline (median imputer → arcsinh → scaler → logistic regression) is one matrix product;
- the boosted trees of every product are one flat node table, walked level by level for all rows
  and all trees at once (leaves point at themselves, so finished walks simply stay put);
- sigmoid calibration is `1 / (1 + exp(a·f + b))` on the decision value.

Large batches go to the estimators' own (compiled, multi-threaded) predict instead, which wins
when rows number in the thousands. Both paths give the same numbers (a unit test holds them to it).
Anything this module does not recognise keeps working through `predict_proba`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Above this many rows the estimators' compiled predict is faster than the level-by-level walk.
SMALL_BATCH = 512


@dataclass(frozen=True)
class _Linear:
    fill: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float


@dataclass(frozen=True)
class _Calibrated:
    """How one product's probability comes out of the shared evaluations."""

    kind: str  # "linear", "trees", "constant" or "opaque"
    a: float = 0.0
    b: float = 0.0
    linear: _Linear | None = None
    baseline: float = 0.0
    constant: float = 0.0


class _Forest:
    """All trees of all boosted products in one node table."""

    def __init__(self, trees: Sequence[tuple[int, Any]]) -> None:
        # trees: (output column, TreePredictor)
        feature, threshold, nan_left, child, value = [], [], [], [], []
        roots, owner = [], []
        offset, depth = 0, 0
        for column, predictor in trees:
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise ValueError("categorical splits are not compiled")
            leaf = nodes["is_leaf"].astype(bool)
            own = np.arange(len(nodes)) + offset
            feature.append(np.where(leaf, 0, nodes["feature_idx"]))
            # A leaf compares against +inf: never "greater", so it stays on itself.
            threshold.append(np.where(leaf, np.inf, nodes["num_threshold"]))
            nan_left.append(leaf | nodes["missing_go_to_left"].astype(bool))
            # child[2·node] = left, child[2·node + 1] = right
            child.append(
                np.column_stack(
                    [
                        np.where(leaf, own, nodes["left"].astype(np.int64) + offset),
                        np.where(leaf, own, nodes["right"].astype(np.int64) + offset),
                    ]
                ).ravel()
            )
            value.append(np.where(leaf, nodes["value"], 0.0))
            roots.append(offset)
            owner.append(column)
            depth = max(depth, int(nodes["depth"].max()))
            offset += len(nodes)
        self.feature = np.concatenate(feature).astype(np.intp)
        self.threshold = np.concatenate(threshold)
        self.nan_right = ~np.concatenate(nan_left)
        self.child = np.concatenate(child).astype(np.intp)
        self.value = np.concatenate(value)
        self.roots = np.array(roots, dtype=np.intp)
        self.depth = depth
        owner_arr = np.array(owner, dtype=np.intp)
        # Trees arrive grouped by output column: each group's leaves are summed with one reduceat.
        self.group_starts = np.flatnonzero(np.r_[True, owner_arr[1:] != owner_arr[:-1]])
        self.group_columns = owner_arr[self.group_starts]
        self.depth = depth

    def raw(self, x: np.ndarray, n_outputs: int) -> np.ndarray:
        """Sum of leaf values per (row, output column)."""
        n, width = x.shape
        flat = x.ravel()
        row_offset = (np.arange(n) * width)[:, None]
        node = np.broadcast_to(self.roots, (n, len(self.roots))).copy()
        missing = bool(np.isnan(flat).any())
        for _ in range(self.depth):
            v = flat[row_offset + self.feature[node]]
            go_right = v > self.threshold[node]  # NaN compares False: fixed just below
            if missing:
                go_right |= np.isnan(v) & self.nan_right[node]
            node = self.child[2 * node + go_right]
        out = np.zeros((n, n_outputs))
        out[:, self.group_columns] = np.add.reduceat(self.value[node], self.group_starts, axis=1)
        return out


def _unwrap(estimator: Any) -> tuple[Any, float, float] | None:
    """(base estimator, a, b) of a single sigmoid-calibrated binary classifier, else None."""
    fitted = getattr(estimator, "calibrated_classifiers_", None)
    if not fitted or len(fitted) != 1:
        return None
    calibrated = fitted[0]
    if calibrated.method != "sigmoid" or len(calibrated.calibrators) != 1:
        return None
    base = calibrated.estimator
    base = getattr(base, "estimator", base) if type(base).__name__ == "FrozenEstimator" else base
    cal = calibrated.calibrators[0]
    return base, float(cal.a_), float(cal.b_)


def _linear(pipeline: Any) -> _Linear | None:
    steps = [s for _, s in getattr(pipeline, "steps", [])]
    names = [type(s).__name__ for s in steps]
    if names != ["SimpleImputer", "FunctionTransformer", "StandardScaler", "LogisticRegression"]:
        return None
    imputer, transform, scaler, model = steps
    if transform.func is not np.arcsinh or np.isnan(imputer.statistics_).any() or model.coef_.shape[0] != 1:
        return None  # an all-missing column is dropped by the imputer: columns would no longer line up
    scale = scaler.scale_ if scaler.scale_ is not None else np.ones_like(imputer.statistics_)
    mean = scaler.mean_ if scaler.mean_ is not None else np.zeros_like(imputer.statistics_)
    return _Linear(
        imputer.statistics_.astype(float), mean, scale, model.coef_[0].astype(float), float(model.intercept_[0])
    )


class CompiledPropensity:
    """predict(rows: float array in the model's column order) → (rows × products) propensities."""

    def __init__(self, products: Sequence[str], estimators: Mapping[str, Any]) -> None:
        self.products = list(products)
        self._estimators = dict(estimators)
        self._plans: list[_Calibrated] = []
        trees: list[tuple[int, Any]] = []
        for j, product in enumerate(self.products):
            self._plans.append(self._compile(estimators[product], j, trees))
        self._forest = _Forest(trees) if trees else None
        linear = [(j, p.linear) for j, p in enumerate(self._plans) if p.linear is not None]  # the "linear" plans
        self._linear_cols = np.array([j for j, _ in linear], dtype=np.intp)
        if linear:
            self._fill = np.stack([lin.fill for _, lin in linear])
            self._mean = np.stack([lin.mean for _, lin in linear])
            self._scale = np.stack([lin.scale for _, lin in linear])
            self._coef = np.stack([lin.coef for _, lin in linear])
            self._intercept = np.array([lin.intercept for _, lin in linear])
        self._a = np.array([p.a for p in self._plans])
        self._b = np.array([p.b for p in self._plans])
        self._baseline = np.array([p.baseline for p in self._plans])

    @staticmethod
    def _compile(estimator: Any, column: int, trees: list[tuple[int, Any]]) -> _Calibrated:
        if type(estimator).__name__ == "DummyClassifier" and list(estimator.classes_) == [0.0, 1.0]:
            return _Calibrated("constant", constant=float(estimator.class_prior_[1]))
        unwrapped = _unwrap(estimator)
        if unwrapped is None:
            return _Calibrated("opaque")
        base, a, b = unwrapped
        if type(base).__name__ == "HistGradientBoostingClassifier":
            categorical = getattr(base, "is_categorical_", None)
            if (
                getattr(base, "_preprocessor", None) is not None
                or base.n_trees_per_iteration_ != 1
                or (categorical is not None and np.any(categorical))
            ):
                return _Calibrated("opaque")
            trees.extend((column, iteration[0]) for iteration in base._predictors)
            return _Calibrated("trees", a=a, b=b, baseline=float(np.ravel(base._baseline_prediction)[0]))
        if (linear := _linear(base)) is not None:
            return _Calibrated("linear", a=a, b=b, linear=linear)
        return _Calibrated("opaque")

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if len(x) > SMALL_BATCH:
            return self._predict_native(x)
        decision = np.zeros((len(x), len(self.products)))
        if self._forest is not None:
            decision += self._forest.raw(x, len(self.products)) + self._baseline
        if len(self._linear_cols):
            filled = np.where(np.isnan(x)[:, None, :], self._fill[None], x[:, None, :])
            z = (np.arcsinh(filled) - self._mean) / self._scale
            decision[:, self._linear_cols] = np.einsum("rkc,kc->rk", z, self._coef) + self._intercept
        out: np.ndarray = 1.0 / (1.0 + np.exp(self._a * decision + self._b))
        for j, plan in enumerate(self._plans):
            if plan.kind == "constant":
                out[:, j] = plan.constant
            elif plan.kind == "opaque":
                out[:, j] = self._estimators[self.products[j]].predict_proba(x)[:, 1]
        return out

    def _predict_native(self, x: np.ndarray) -> np.ndarray:
        """Big batches: each product's own compiled predict, calibrated the same way."""
        out = np.empty((len(x), len(self.products)))
        for j, plan in enumerate(self._plans):
            estimator = self._estimators[self.products[j]]
            if plan.kind == "constant":
                out[:, j] = plan.constant
            elif plan.kind == "opaque":
                out[:, j] = estimator.predict_proba(x)[:, 1]
            else:
                unwrapped = _unwrap(estimator)
                assert unwrapped is not None  # trees and linear plans are only compiled from what _unwrap read
                base, a, b = unwrapped
                out[:, j] = 1.0 / (1.0 + np.exp(a * base.decision_function(x) + b))
        return out
