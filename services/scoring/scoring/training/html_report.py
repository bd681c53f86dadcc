"""One self-contained HTML page per training run, logged with the run: per product the ROC and lift curves,
a reliability diagram and the feature importances, plus the split used and the gate's verdict.

Charts are drawn with matplotlib (Agg, no display) and embedded as base64 PNG, so the page opens from the
MLflow UI or a mail attachment with nothing beside it. Importances are the logistic model's standardised
coefficients where the chosen model has them, and permutation importance (holdout AUC lost when a column
is shuffled) otherwise.
"""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_curve

from scoring.training.candidates import ProductFit

TOP_FEATURES = 12
PERMUTATION_ROWS = 1500


@dataclass
class Curves:
    """What the page draws for one product, computed on its holdout rows."""

    kind: str
    auc: float
    fpr: list[float] = field(default_factory=list)
    tpr: list[float] = field(default_factory=list)
    lift: list[float] = field(default_factory=list)  # positive rate in the top k tenths / base rate, k = 1…10
    reliability: list[tuple[float, float, int]] = field(default_factory=list)  # (mean predicted, observed, n)
    importances: list[tuple[str, float]] = field(default_factory=list)
    importance_kind: str = ""

    @classmethod
    def of(cls, fit: ProductFit, x: np.ndarray, y: np.ndarray, columns: list[str], seed: int) -> Curves:
        curves = cls(fit.kind, float(fit.metrics.get("auc", math.nan)))
        if len(y) == 0 or len(np.unique(y)) < 2:
            return curves
        p = fit.estimator.predict_proba(x)[:, 1]
        fpr, tpr, _ = roc_curve(y, p)
        curves.fpr, curves.tpr = fpr.tolist(), tpr.tolist()
        order, base = np.argsort(-p, kind="stable"), y.mean()
        curves.lift = [float(y[order[: max(1, math.ceil(len(y) * k / 10))]].mean() / base) for k in range(1, 11)]
        which = np.minimum((p * 10).astype(int), 9)
        curves.reliability = [
            (float(p[which == b].mean()), float(y[which == b].mean()), int((which == b).sum()))
            for b in range(10)
            if (which == b).any()
        ]
        if fit.kind != "prior":
            curves.importances, curves.importance_kind = _importances(fit, x, y, columns, seed)
        return curves


def _importances(fit: ProductFit, x: np.ndarray, y: np.ndarray, columns: list[str], seed: int) -> tuple[Any, str]:
    calibrated: list[Any] = getattr(fit.estimator, "calibrated_classifiers_", None) or [None]
    inner = calibrated[0]
    model: Any = getattr(inner, "estimator", None)
    last = model[-1] if hasattr(model, "steps") else None
    if last is not None and hasattr(last, "coef_"):
        # Inputs are standardised in the pipeline, so coefficient sizes compare across columns.
        values = np.abs(np.ravel(last.coef_))
        kind = "|standardised coefficient|"
    else:
        rows = np.random.default_rng([seed, 53]).permutation(len(y))[:PERMUTATION_ROWS]
        if len(np.unique(y[rows])) < 2:
            return [], ""
        result = permutation_importance(
            fit.estimator, x[rows], y[rows], scoring="roc_auc", n_repeats=3, random_state=seed
        )
        values, kind = result.importances_mean, "permutation importance (holdout AUC lost)"
    ranked = sorted(zip(columns, values.tolist(), strict=True), key=lambda cv: -cv[1])[:TOP_FEATURES]
    return ranked, kind


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _charts(product: str, c: Curves) -> dict[str, str]:
    charts: dict[str, str] = {}
    if c.fpr:
        fig, ax = plt.subplots(figsize=(3.6, 3.2))
        ax.plot(c.fpr, c.tpr, label=f"AUC {c.auc:.3f}")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="no skill")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC — {product}")
        ax.legend(loc="lower right")
        charts["roc"] = _png(fig)
    if c.lift:
        fig, ax = plt.subplots(figsize=(3.6, 3.2))
        ax.bar([f"{k * 10}%" for k in range(1, 11)], c.lift)
        ax.axhline(1.0, color="grey", linestyle="--")
        ax.set(xlabel="top share of customers by score", ylabel="lift over random", title=f"Lift — {product}")
        ax.tick_params(axis="x", labelrotation=45)
        charts["lift"] = _png(fig)
    if c.reliability:
        fig, ax = plt.subplots(figsize=(3.6, 3.2))
        predicted, observed, _ = zip(*c.reliability, strict=True)
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
        ax.plot(predicted, observed, marker="o", label="model")
        ax.set(xlabel="mean predicted", ylabel="observed rate", title=f"Reliability — {product}")
        ax.legend(loc="upper left")
        charts["reliability"] = _png(fig)
    if c.importances:
        fig, ax = plt.subplots(figsize=(4.4, 0.3 * len(c.importances) + 1))
        names, values = zip(*reversed(c.importances), strict=True)
        ax.barh(names, values)
        ax.set(xlabel=c.importance_kind, title=f"Features — {product}")
        charts["importance"] = _png(fig)
    return charts


_TEMPLATE = jinja2.Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ model_name }} — training report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}
td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}
.refused{color:#a00;font-weight:600}.passed{color:#060}.product{margin-top:2rem}.charts img{margin:.3rem}
</style></head><body>
<h1>{{ model_name }}</h1>
<p><b>Split:</b> {{ split }}</p>
<p><b>Gate:</b> <span class="{{ 'passed' if gate.startswith('passed') else 'refused' }}">{{ gate }}</span></p>
{% if notes %}<p><b>Input:</b></p><ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
<h2>Holdout metrics</h2>{{ table | safe }}
{% for product, charts in products %}<section class="product"><h2>{{ product }}</h2><div class="charts">
{% for name, png in charts.items() %}<img alt="{{ name }} — {{ product }}" src="data:image/png;base64,{{ png }}">
{% endfor %}{% if not charts %}<p>Too few holdout outcomes to draw.</p>{% endif %}</div></section>{% endfor %}
</body></html>""",
    autoescape=True,
)


def write_report(
    folder: Path,
    *,
    model_name: str,
    table: pd.DataFrame,
    curves: dict[str, Curves],
    split: str,
    notes: list[str],
    gate: str,
) -> Path:
    """Writes `report.html` (and the curves as `report-data.json`) into `folder`; returns the page."""
    shown = table.drop(columns=[c for c in ("oracle_auc", "auc_vs_oracle") if table[c].isna().all()], errors="ignore")
    html = _TEMPLATE.render(
        model_name=model_name,
        split=split,
        gate=gate,
        notes=notes,
        table=shown.to_html(float_format=lambda v: f"{v:.3f}", na_rep="-"),
        products=[(p, _charts(p, c)) for p, c in curves.items()],
    )
    page = folder / "report.html"
    page.write_text(html, encoding="utf-8")
    data = {p: dict(vars(c)) for p, c in curves.items()}
    (folder / "report-data.json").write_text(json.dumps(data, default=float))
    return page
