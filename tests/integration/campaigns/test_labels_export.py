"""Outcomes become training examples: campaigns' offers in a real Redis → labels CSV → point-in-time
features (feature_store.snapshot) → the frame `scoring.training --from-csv` trains on."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import redis as redis_lib

from campaigns import labels
from campaigns.settings import get_settings
from campaigns.store import CampaignStore, OfferRecord
from feature_store import snapshot
from prometeo.contracts import ProductCode, utcnow
from scoring.domain.vector import label_column
from scoring.training.__main__ import frame_from_csv
from tests.factories import booked

pytestmark = pytest.mark.integration


def test_labels_export_feeds_snapshot_and_training(
    redis_url: str,
    redis: redis_lib.Redis,
    unique: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = utcnow()
    store = CampaignStore(redis, processed_ttl_s=60, offers_ttl_s=3600)
    accepted, silent, waiting = (unique("ck_lbl") for _ in range(3))
    for ck, days, outcomes in ((accepted, 40, ["accepted"]), (silent, 35, []), (waiting, 3, [])):
        store.save_offer(
            OfferRecord(
                offer_id=f"of_{ck}",
                decision_id="dc_x",
                customer_key=ck,
                product="credit_card",
                channel="email",
                propensity=0.2,
                expected_value=5.0,
                reason_codes=[],
                rules_passed=[],
                status="delivered",
                decided_at=now - timedelta(days=days),
                outcomes=outcomes,
                group="test",
                campaign_id="nba-always-on",
            )
        )
    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    out = tmp_path / "labels.csv"
    assert labels.main(["--out", str(out), "--product", "credit_card"]) == 0
    get_settings.cache_clear()
    with out.open() as f:
        rows = [r for r in csv.DictReader(f) if r["customer_key"] in {accepted, silent, waiting}]
    assert sorted((r["customer_key"], r["accepted"]) for r in rows) == sorted([(accepted, "1"), (silent, "0")])

    # Features as of each offer's decision time: a card spend 45 days ago counts for both, one 10 days ago for neither.
    events = tmp_path / "events.jsonl"
    log = [booked(ck, "300.00", mcc="4511", at=now - timedelta(days=d)) for ck in (accepted, silent) for d in (45, 10)]
    events.write_text("".join(e.model_dump_json() + "\n" for e in log))
    examples = tmp_path / "examples.parquet"
    # Other tests' offers may be in the export too: keep this test's customers only.
    mine = tmp_path / "mine.csv"
    with mine.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert snapshot.main(["--labels", str(mine), "--events", str(events), "--out", str(examples), "--no-progress"]) == 0
    frame = frame_from_csv(str(examples), "accepted", ProductCode.CREDIT_CARD)
    assert sorted(frame[label_column("credit_card")].tolist()) == [0.0, 1.0]
    assert (frame["txn_count_90d"] == 1).all()  # the later spend is after every label time
    assert "customer_key" not in frame and "product" not in frame  # identifiers and text are not features
