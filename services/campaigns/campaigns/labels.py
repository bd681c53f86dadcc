"""Export training labels from the offers campaigns has recorded (domain/labels.py says which count).

    python -m campaigns.labels --out labels.csv [--product credit_card] [--horizon-days 30]

Then, for point-in-time features and a model trained on what customers actually answered:

    python -m feature_store.snapshot --labels labels.csv --out examples.parquet
    python -m scoring.training --from-csv examples.parquet --label-column accepted --product credit_card

Customer keys are pseudonyms; no personal data leaves. Reads Redis at REDIS_URL.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import timedelta
from pathlib import Path

import redis

from campaigns.domain.labels import LabelRow, label_rows
from campaigns.settings import get_settings
from campaigns.store import CampaignStore
from prometeo import clock
from prometeo.contracts import ProductCode


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m campaigns.labels", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--product", choices=[p.value for p in ProductCode], help="only this product's offers")
    parser.add_argument(
        "--horizon-days", type=float, default=30.0, help="an offer unanswered this long after it was made is a 0"
    )
    args = parser.parse_args(argv)
    client = redis.Redis.from_url(settings.redis_url)
    store = CampaignStore(client, processed_ttl_s=settings.processed_ttl_s, offers_ttl_s=settings.offers_ttl_s)
    rows = label_rows(store.all_offers(), clock.now(), timedelta(days=args.horizon_days), args.product)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    written = positives = 0
    with args.out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(LabelRow.model_fields))
        writer.writeheader()
        for row in rows:
            writer.writerow(row.model_dump(mode="json"))
            written, positives = written + 1, positives + row.accepted
    client.close()
    print(f"{written} labelled offers ({positives} accepted) → {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
