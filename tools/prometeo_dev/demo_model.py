"""Train and register the demo propensity model from the synthetic bank (used by `make run`)."""

from __future__ import annotations

import argparse
import logging
import time
from datetime import datetime

import pandas as pd

from prometeo_dev.synthbank import SyntheticBank, generate_bank
from prometeo_dev.training_set import build_training_frame
from scoring.training import TrainingReport, train_and_register
from scoring.training.pipeline import holdout_mask

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "prometeo-propensity"
HOLDOUT_FRACTION = 0.3


def train_demo_model(
    bank: SyntheticBank,
    tracking_uri: str,
    as_of: datetime | None = None,
    model_name: str = DEFAULT_MODEL_NAME,
    promotion_margin: float = 0.002,
    frame: pd.DataFrame | None = None,
) -> TrainingReport:
    """Frame (feature-store replay) → per-product training → one registered model → promotion gate.
    Pass `frame` when it is already built from this bank (e.g. in parallel) to skip the replay."""
    started = time.perf_counter()
    frame = build_training_frame(bank, as_of) if frame is None else frame
    built = time.perf_counter()
    # The oracle is scored on the model's own holdout rows: same customers, comparable AUCs.
    holdout = holdout_mask(len(frame), bank.seed, HOLDOUT_FRACTION)
    report = train_and_register(frame, tracking_uri, model_name, oracle_auc=bank.oracle_auc(holdout),
                                promotion_margin=promotion_margin, seed=bank.seed,
                                holdout_fraction=HOLDOUT_FRACTION)
    log.info("demo model trained", extra={"frame_s": round(built - started, 1),
                                          "train_s": round(time.perf_counter() - built, 1)})
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m prometeo_dev.demo_model", description=__doc__)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--customers", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    args = parser.parse_args()
    started = time.perf_counter()
    report = train_demo_model(generate_bank(args.customers, seed=args.seed), args.tracking_uri,
                              model_name=args.model_name)
    print(report.table())
    print(f"done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
