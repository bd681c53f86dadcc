"""Scheduled retraining: outcomes → labels → point-in-time snapshot → training → gate, one command.

    python -m scoring.retrain --product credit_card [savings …] [--work-dir /tmp/retrain] [--horizon-days 30]

Each step is the service's own CLI, run as a subprocess (a service never imports another): campaigns
exports what customers answered (`campaigns.labels`), the feature store replays the event log to each
label's time (`feature_store.snapshot`), scoring trains and registers (`scoring.training`), and the
gate there decides: the new version becomes champion only if it beats the current one by the
promotion margin, otherwise it is registered as the challenger (and then earns promotion on live
traffic: `python -m scoring.promotion`). The Helm chart runs this as a CronJob (`retrain` in values).
"""

from __future__ import annotations

import argparse
import csv
import logging
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from prometeo.contracts import ProductCode

log = logging.getLogger(__name__)


def steps(product: str, work: Path, *, horizon_days: float, margin: float) -> list[list[str]]:
    labels, examples = work / f"labels-{product}.csv", work / f"examples-{product}.parquet"
    py = sys.executable
    return [
        [py, "-m", "campaigns.labels", "--out", str(labels), "--product", product, "--horizon-days", str(horizon_days)],
        [py, "-m", "feature_store.snapshot", "--labels", str(labels), "--out", str(examples), "--no-progress"],
        [
            py,
            "-m",
            "scoring.training",
            "--from-csv",
            str(examples),
            "--label-column",
            "accepted",
            "--product",
            product,
            "--promotion-margin",
            str(margin),
        ],
    ]


def labelled(path: Path) -> tuple[int, int]:
    """(rows, positives) of an exported labels CSV."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return len(rows), sum(int(r["accepted"]) for r in rows)


def run(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scoring.retrain", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--product", required=True, nargs="+", choices=[p.value for p in ProductCode])
    parser.add_argument("--work-dir", type=Path, help="where labels and snapshots are written (default: a temp dir)")
    parser.add_argument("--horizon-days", type=float, default=30.0)
    parser.add_argument("--min-labels", type=int, default=200, help="skip training below this many labelled offers")
    parser.add_argument("--promotion-margin", type=float, default=0.002)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with tempfile.TemporaryDirectory(prefix="prometeo-retrain-") as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for product in args.product:
            export, snapshot, train = steps(product, work, horizon_days=args.horizon_days, margin=args.promotion_margin)
            subprocess.run(export, check=True)
            rows, positives = labelled(Path(export[export.index("--out") + 1]))
            if rows < args.min_labels or positives == 0 or positives == rows:
                # Too little (or one-class) evidence: a model trained on it would only add noise.
                print(f"{product}: {rows} labelled offers ({positives} accepted), not enough to retrain")
                continue
            subprocess.run(snapshot, check=True)
            subprocess.run(train, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(run())
