from collections.abc import Callable
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from prometeo_dev.synthbank import SyntheticBank
from scoring.training.__main__ import main

pytestmark = pytest.mark.integration


def test_train_from_a_campaign_outcome_csv(
    tmp_path: Path,
    mlflow_uri: str,
    unique: Callable[[str], str],
    good_frame: pd.DataFrame,
    capsys: pytest.CaptureFixture[str],
) -> None:
    features = good_frame[["balance_current", "salary_30d", "spend_travel_30d", "spend_fuel_30d", "tenure_days"]]
    csv = features.assign(
        customer_ref=[f"c{i}" for i in range(len(features))],
        accepted=good_frame["label_auto_insurance"].fillna(0).astype(int),
    )
    path = tmp_path / "outcomes.csv"
    csv.to_csv(path, index=False)
    name = unique("csv-model")

    assert (
        main(
            [
                "--from-csv",
                str(path),
                "--label-column",
                "accepted",
                "--product",
                "auto_insurance",
                "--tracking-uri",
                mlflow_uri,
                "--model-name",
                name,
            ]
        )
        == 0
    )

    # A CSV has no dates: the holdout is random, and the report and the run say so.
    assert "holdout: random 25% of rows" in capsys.readouterr().out
    client = MlflowClient(mlflow_uri)
    version = client.get_model_version_by_alias(name, "champion")
    assert version.run_id is not None
    assert client.get_run(version.run_id).data.params["split"] == "random"
    assert version.tags["feature_set_version"] == "campaign-outcomes.v1"
    mlflow.set_tracking_uri(mlflow_uri)
    model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert model.metadata.metadata["columns"] == list(features.columns)
    out = model.predict(pd.DataFrame(features.head(4).to_numpy(), columns=features.columns))
    assert list(out.columns) == ["auto_insurance"] and out["auto_insurance"].between(0, 1).all()


def test_a_time_based_holdout_trains_on_the_earlier_period_and_says_so(
    mlflow_uri: str, unique: Callable[[str], str], small_bank: SyntheticBank, good_frame: pd.DataFrame
) -> None:
    from prometeo_dev.training_set import earlier_frame
    from scoring.training import train_and_register

    earlier = earlier_frame(small_bank)
    name = unique("time-split")
    report = train_and_register(earlier, mlflow_uri, name, evaluation_frame=good_frame, seed=3)

    assert report.split == "time" and "time-based" in report.table()
    assert (report.metrics["split"] == "time").all()
    # Every later-period row with a label is evaluated; the candidates were compared on training rows.
    known = good_frame.filter(like="label_").notna().sum()
    for product, row in report.metrics.iterrows():
        assert row["n_holdout"] == known[f"label_{product}"]
        assert row["n_train"] == earlier[f"label_{product}"].notna().sum()
    params = MlflowClient(mlflow_uri).get_run(report.run_id).data.params
    assert params["split"] == "time" and params["train_as_of"] == small_bank.earlier_as_of.isoformat()
    assert params["evaluation_as_of"] == small_bank.as_of.isoformat()
