from __future__ import annotations

from pathlib import Path

from scoring.retrain import labelled, steps


def test_the_job_chains_each_services_own_cli_on_the_same_files(tmp_path: Path) -> None:
    export, snapshot, train = steps("credit_card", tmp_path, horizon_days=30, margin=0.002)
    assert export[1:3] == ["-m", "campaigns.labels"] and snapshot[1:3] == ["-m", "feature_store.snapshot"]
    assert train[1:3] == ["-m", "scoring.training"]
    labels = export[export.index("--out") + 1]
    examples = snapshot[snapshot.index("--out") + 1]
    assert snapshot[snapshot.index("--labels") + 1] == labels and train[train.index("--from-csv") + 1] == examples
    assert train[train.index("--product") + 1] == "credit_card"


def test_labels_are_counted_before_training(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(
        "customer_key,label_time,offer_id,product,channel,campaign_id,accepted\n"
        + "a,t,o,p,c,,1\n"
        + "b,t,o,p,c,,0\n" * 3
    )
    assert labelled(path) == (4, 1)
