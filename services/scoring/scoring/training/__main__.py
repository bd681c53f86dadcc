"""Turn a bank's historical campaign outcomes (feature columns + a 0/1 label) into a registered model.

    python -m scoring.training --from-csv outcomes.csv --label-column accepted \\
        --product credit_card --tracking-uri http://127.0.0.1:5000
"""

from __future__ import annotations

import argparse
import logging
import sys

import pandas as pd

from prometeo.contracts import ProductCode
from scoring.domain.vector import label_column
from scoring.settings import get_settings
from scoring.training.pipeline import train_and_register


def frame_from_csv(path: str, label: str, product: ProductCode) -> pd.DataFrame:
    # Parquet too: what feature_store.snapshot writes from campaigns' exported labels.
    raw = pd.read_parquet(path) if path.endswith((".parquet", ".pq")) else pd.read_csv(path)
    if label not in raw.columns:
        raise SystemExit(f"label column {label!r} not in {path} (columns: {', '.join(raw.columns)})")
    y = pd.to_numeric(raw.pop(label), errors="coerce")
    if not y.dropna().isin([0, 1]).all():
        raise SystemExit(f"label column {label!r} must hold 0/1 (or true/false)")
    # Identifiers and free text are not features: keep numeric columns only.
    frame = raw.select_dtypes(include="number").astype(float)
    dropped = sorted(set(raw.columns) - set(frame.columns))
    if dropped:
        print(f"ignoring non-numeric columns: {', '.join(dropped)}", file=sys.stderr)
    frame[label_column(product.value)] = y.astype(float)
    return frame


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m scoring.training", description=__doc__.splitlines()[0])
    parser.add_argument("--from-csv", required=True, help="CSV (or Parquet) of feature columns plus the label column")
    parser.add_argument("--label-column", required=True, help="0/1 outcome column (e.g. accepted)")
    parser.add_argument("--product", required=True, choices=[p.value for p in ProductCode])
    parser.add_argument("--tracking-uri", default=settings.mlflow_tracking_uri)
    parser.add_argument("--model-name", default=settings.model_name)
    parser.add_argument("--feature-set-version", default="campaign-outcomes.v1")
    parser.add_argument("--promotion-margin", type=float, default=0.002)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    frame = frame_from_csv(args.from_csv, args.label_column, ProductCode(args.product))
    report = train_and_register(
        frame,
        args.tracking_uri,
        args.model_name,
        promotion_margin=args.promotion_margin,
        seed=args.seed,
        feature_set_version=args.feature_set_version,
    )
    print(report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
