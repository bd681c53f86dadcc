"""Scoring: one customer × all products with reasons (p50/p99) against a bare model predict of one
row, and batch scoring throughput projected to 1M customers, in the same run. The model is trained
on the synthetic bank and registered in a local sqlite MLflow registry (no server needed)."""

from __future__ import annotations

import os
import time

import numpy as np

from benchmarks.harness import RUN_DIR, Figure, Stopwatch, percentile
from prometeo_dev.demo_model import train_demo_model
from prometeo_dev.synthbank import generate_bank
from prometeo_dev.training_set import build_training_frame
from scoring.domain.scorer import ScoringInput
from scoring.models import RegistryLoader

CUSTOMERS = int(os.environ.get("BENCH_SCORING_CUSTOMERS", "2000"))
ONLINE = 500
BATCH_ROWS = int(os.environ.get("BENCH_SCORING_BATCH_ROWS", "100000"))


def run() -> list[Figure]:
    workdir = RUN_DIR / "scoring"
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)  # MLflow writes local artifacts under the working directory
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    bank = generate_bank(CUSTOMERS, seed=5)
    report = train_demo_model(bank, uri, model_name=f"bench-{int(time.time())}")
    loader = RegistryLoader(uri, report.model_name)
    model = loader.load("champion", str(report.version))

    frame = build_training_frame(bank)
    feature_cols = [c for c in model.spec.columns if c in frame.columns]
    inputs = [ScoringInput({c: float(v) for c, v in row.items()}) for row in frame[feature_cols].head(ONLINE).to_dict("records")]
    full = model.spec.columns
    one_row = frame.reindex(columns=full).head(1).astype(float)

    model.score(inputs[:5], 3)  # warm-up
    with_reasons, bare = [], []
    for item in inputs:
        with Stopwatch() as sw:
            model.score([item], 3)
        with_reasons.append(sw.seconds * 1e3)
        with Stopwatch() as sw:
            model.predict(one_row)
        bare.append(sw.seconds * 1e3)

    rows = frame.reindex(columns=full).astype(float)
    batch = rows.sample(n=BATCH_ROWS, replace=True, random_state=1).reset_index(drop=True)
    with Stopwatch() as sw:
        model.predict(batch)
    per_million = sw.seconds * (1_000_000 / BATCH_ROWS)
    single = float(np.median(bare)) / 1e3
    return [
        Figure("score 1 customer × 10 products + reasons p50", percentile(with_reasons, 0.5), "ms",
               "bare model.predict 1 row p50", percentile(bare, 0.5)),
        Figure("score 1 customer × 10 products + reasons p99", percentile(with_reasons, 0.99), "ms",
               "bare model.predict 1 row p99", percentile(bare, 0.99), "target p99 ≤ 5 ms"),
        Figure("batch scoring, projected for 1M customers", per_million, "s",
               "1M single-row predicts (projected)", single * 1_000_000, "target ≤ 60 s"),
    ]
