"""Train and register the demo propensity model from the synthetic bank (used by `make run`)."""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from datetime import datetime

import pandas as pd

from prometeo_dev.synthbank import SyntheticBank, generate_bank
from prometeo_dev.training_set import build_time_split, build_training_frame, earlier_frame
from scoring.training import TrainingReport, train_and_register
from scoring.training.pipeline import holdout_mask
from scoring.training.registry import PromotionGate

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
    train_frame: pd.DataFrame | None = None,
    gate: PromotionGate | None = None,
    on_registered: Callable[[TrainingReport], None] | None = None,
) -> TrainingReport:
    """Frames (feature-store replay) → per-product training → one registered model → promotion gate.

    Time-based: the model trains on the period before `bank.as_of` (features as of one horizon
    earlier, acquisitions up to as_of) and is evaluated on the next one (features as of as_of,
    acquisitions after it). Pass `frame` (the later period, `build_training_frame(bank)`) and/or
    `train_frame` (the earlier one) when already built, e.g. in parallel, to skip their replay.
    A bank without earlier-period labels, or an explicit `as_of`, falls back to a random holdout. `gate` replaces
    the default promotion gate (tests on a small bank pass one without a quality floor). `on_registered`: as
    `train_and_register`'s (called once the version is registered, before its evaluation report is drawn)."""
    started = time.perf_counter()
    if bank.earlier_labels is None or as_of is not None:
        frame = build_training_frame(bank, as_of) if frame is None else frame
        built = time.perf_counter()
        # The oracle is scored on the model's own holdout rows: same customers, comparable AUCs.
        holdout = holdout_mask(len(frame), bank.seed, HOLDOUT_FRACTION)
        report = train_and_register(
            frame,
            tracking_uri,
            model_name,
            oracle_auc=bank.oracle_auc(holdout),
            promotion_margin=promotion_margin,
            seed=bank.seed,
            holdout_fraction=HOLDOUT_FRACTION,
            gate=gate,
            on_registered=on_registered,
        )
    else:
        if train_frame is None and frame is None:
            train_frame, frame = build_time_split(bank)
        train_frame = earlier_frame(bank) if train_frame is None else train_frame
        frame = build_training_frame(bank) if frame is None else frame
        built = time.perf_counter()
        # Evaluated on every customer's later-period labels: the oracle's AUC on the very same rows.
        report = train_and_register(
            train_frame,
            tracking_uri,
            model_name,
            oracle_auc=bank.oracle_auc(),
            promotion_margin=promotion_margin,
            seed=bank.seed,
            evaluation_frame=frame,
            gate=gate,
            on_registered=on_registered,
        )
    log.info(
        "demo model trained",
        extra={"frame_s": round(built - started, 1), "train_s": round(time.perf_counter() - built, 1)},
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m prometeo_dev.demo_model", description=__doc__)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--customers", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    args = parser.parse_args()
    started = time.perf_counter()
    report = train_demo_model(
        generate_bank(args.customers, seed=args.seed), args.tracking_uri, model_name=args.model_name
    )
    print(report.table())
    print(f"done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
