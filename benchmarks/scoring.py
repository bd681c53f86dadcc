"""Scoring: model quality against the synthetic bank's oracle, one customer × all products with
reasons (p50/p99) against a bare model predict of one row, and batch scoring of 1M customers, in
the same run. The model is trained on the synthetic bank and registered in a local sqlite MLflow
registry (no server needed).

Full size by default (quality on 200k customers, batch on 1M rows: ~10 min on 2 cores);
`BENCH=quick` scales down (20k customers, 100k batch rows projected to 1M) for a smoke run.
"""

from __future__ import annotations

import math
import os
import time
from datetime import UTC, datetime

import numpy as np

from benchmarks.harness import RUN_DIR, Figure, Stopwatch, percentile
from prometeo_dev.demo_model import HOLDOUT_FRACTION, train_demo_model
from prometeo_dev.synthbank import SyntheticBank, generate_bank
from prometeo_dev.training_set import build_training_frame
from scoring.domain.scorer import ScoringInput
from scoring.models import RegistryLoader
from scoring.training.evaluation import evaluate
from scoring.training.pipeline import holdout_mask

QUICK = os.environ.get("BENCH", "").lower() == "quick"
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
CUSTOMERS = int(os.environ.get("BENCH_SCORING_CUSTOMERS", "20000" if QUICK else "200000"))
BATCH_ROWS = int(os.environ.get("BENCH_SCORING_BATCH_ROWS", "100000" if QUICK else "1000000"))
WORKERS = int(os.environ.get("BENCH_SCORING_WORKERS", "2"))
ONLINE = 500
AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


def _oracle_ece(bank: SyntheticBank, holdout: np.ndarray) -> dict[str, float]:
    """Calibration error of the true propensity on the same rows: the floor sampling noise sets."""
    out = {}
    for p, product in enumerate(bank.products):
        rows = holdout & ~np.isnan(bank.labels[:, p])
        out[product.value] = evaluate(bank.labels[rows, p], bank.oracle_propensity[rows, p])["ece"]
    return out


def run() -> list[Figure]:
    workdir = RUN_DIR / "scoring"
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)  # MLflow writes local artifacts under the working directory
    uri = f"sqlite:///{workdir / 'mlflow.db'}"

    started = time.perf_counter()
    bank = generate_bank(CUSTOMERS, seed=5, as_of=AS_OF)
    frame = build_training_frame(bank, workers=WORKERS)
    built = time.perf_counter()
    report = train_demo_model(bank, uri, model_name=f"bench-{int(time.time())}", frame=frame)
    trained = time.perf_counter()
    table = report.metrics
    # A time-based split evaluates every customer one period later; a random split, the held-out rows.
    rows = (
        np.ones(len(frame), dtype=bool)
        if report.split == "time"
        else holdout_mask(len(frame), bank.seed, HOLDOUT_FRACTION)
    )
    ece_floor = _oracle_ece(bank, rows)
    table["ece_oracle"] = [ece_floor.get(p, math.nan) for p in table.index]
    table["logistic_vs_oracle"] = table["auc_logistic"] / table["oracle_auc"]
    shown = [
        "chosen",
        "auc",
        "oracle_auc",
        "auc_vs_oracle",
        "auc_logistic",
        "logistic_vs_oracle",
        "auc_boosted",
        "pr_auc",
        "log_loss",
        "ece",
        "ece_oracle",
        "lift_at_10",
        "positives_holdout",
    ]
    print(
        f"  model quality on {CUSTOMERS:,} customers ({report.split_detail or report.split}); features "
        f"{built - started:.0f} s with {WORKERS} workers, training + registry {trained - built:.0f} s"
    )
    print("  " + table[shown].to_string(float_format=lambda v: f"{v:.3f}", na_rep="-").replace("\n", "\n  "))

    model = RegistryLoader(uri, report.model_name).load("champion", str(report.version))
    columns = list(model.spec.columns)
    online = frame.head(ONLINE)
    inputs = [ScoringInput({str(c): float(v) for c, v in row.items()}) for row in online[columns].to_dict("records")]
    one_row = frame.reindex(columns=columns).head(1).astype(float)

    model.score(inputs[:5], 3)  # warm-up
    with_reasons, bare = [], []
    for item in inputs:
        with Stopwatch() as sw:
            model.score([item], 3)
        with_reasons.append(sw.seconds * 1e3)
        with Stopwatch() as sw:
            model.predict(one_row)
        bare.append(sw.seconds * 1e3)

    rows = frame[columns].to_numpy(dtype=float)
    batch = rows[np.random.default_rng(1).integers(0, len(rows), BATCH_ROWS)]
    with Stopwatch() as sw:
        model.predict_array(batch)
    per_million = sw.seconds * (1_000_000 / BATCH_ROWS)
    single = float(np.median(bare)) / 1e3
    ratios = table["auc_vs_oracle"].dropna()
    return [
        Figure(
            "score 1 customer × 10 products + reasons p50",
            percentile(with_reasons, 0.5),
            "ms",
            "bare model.predict 1 row p50",
            percentile(bare, 0.5),
        ),
        Figure(
            "score 1 customer × 10 products + reasons p99",
            percentile(with_reasons, 0.99),
            "ms",
            "bare model.predict 1 row p99",
            percentile(bare, 0.99),
            "target p99 ≤ 5 ms",
        ),
        Figure(
            "batch scoring 1M customers × 10 products" + ("" if BATCH_ROWS >= 1_000_000 else " (projected)"),
            per_million,
            "s",
            "1M single-row predicts (projected)",
            single * 1_000_000,
            "target ≤ 60 s",
        ),
        # Percent and percentage points: the table prints one decimal.
        Figure(
            "quality: worst product AUC as % of oracle AUC",
            100 * float(ratios.min()),
            "%",
            "logistic (validation split), worst",
            100 * float(table["logistic_vs_oracle"].min()),
            "target ≥ 97 %",
        ),
        Figure(
            "quality: worst product calibration error",
            100 * float(table["ece"].max()),
            "pp (ECE)",
            "oracle on the same rows, worst",
            100 * float(max(ece_floor.values())),
            "target ≤ 2 pp",
        ),
    ]
