"""Turn a bank's historical campaign outcomes (feature columns + an outcome column) into a registered model.

    python -m scoring.training --from-csv outcomes.csv --label-column accepted \\
        --product credit_card --tracking-uri http://127.0.0.1:5000 [--sep ';'] [--time-column contact_date]

Exit status: 0 promoted (champion or challenger), 2 the input cannot be trained on (one line on stderr
naming the file and column), 3 trained and registered but refused by the promotion gate (no alias; the
reason on stderr).
"""

from __future__ import annotations

import argparse
import logging
import sys

import pandas as pd

from prometeo.contracts import ProductCode
from scoring.settings import get_settings
from scoring.training.bank_csv import HistoryError, load_history
from scoring.training.pipeline import train_and_register
from scoring.training.registry import NO_ALIAS, PromotionGate

EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3


def frame_from_csv(path: str, label: str, product: ProductCode) -> pd.DataFrame:
    """Every row of a history as one training frame (text encoded, no holdout carved out)."""
    return load_history(path, label, product.value, holdout_share=0.0).frame


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m scoring.training", description=__doc__.splitlines()[0])
    parser.add_argument("--from-csv", required=True, help="CSV (or Parquet) of feature columns plus the label column")
    parser.add_argument("--label-column", required=True, help="outcome column: 1/0, yes/no, sí/no, sim/não, true/false")
    parser.add_argument("--product", required=True, choices=[p.value for p in ProductCode])
    parser.add_argument("--sep", default=None, help="column separator (default: detected, e.g. ',' or ';')")
    parser.add_argument(
        "--time-column", default=None, help="date column for a time-ordered holdout (default: the first date column)"
    )
    parser.add_argument("--tracking-uri", default=settings.mlflow_tracking_uri)
    parser.add_argument("--model-name", default=settings.model_name)
    parser.add_argument("--feature-set-version", default="campaign-outcomes.v1")
    parser.add_argument("--promotion-margin", type=float, default=0.002, help="AUC a challenger must beat by")
    parser.add_argument("--min-auc-margin", type=float, default=0.02, help="AUC above 0.5 required for any alias")
    parser.add_argument("--max-ece", type=float, default=0.10, help="largest calibration error allowed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    product = ProductCode(args.product)
    try:
        history = load_history(
            args.from_csv, args.label_column, product.value, sep=args.sep, time_column=args.time_column, seed=args.seed
        )
        report = train_and_register(
            history.frame,
            args.tracking_uri,
            args.model_name,
            seed=args.seed,
            feature_set_version=args.feature_set_version,
            evaluation_frame=history.evaluation_frame,
            gate=PromotionGate(args.min_auc_margin, args.max_ece, args.promotion_margin),
            encoding=history.encoding.manifest() if history.encoding else None,
            raw_example=history.raw_example,
            notes=history.notes,
        )
    except HistoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(report.table())
    if report.alias == NO_ALIAS:
        print(f"not promoted: {report.model_name} v{report.version}: {report.refusal}", file=sys.stderr)
        return EXIT_REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(main())
