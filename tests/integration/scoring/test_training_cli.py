import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from scoring.training.__main__ import main

pytestmark = pytest.mark.integration


def test_train_from_a_campaign_outcome_csv(tmp_path, mlflow_uri, unique, good_frame) -> None:  # type: ignore[no-untyped-def]
    features = good_frame[["balance_current", "salary_30d", "spend_travel_30d", "spend_fuel_30d", "tenure_days"]]
    csv = features.assign(
        customer_ref=[f"c{i}" for i in range(len(features))],
        accepted=good_frame["label_auto_insurance"].fillna(0).astype(int),
    )
    path = tmp_path / "outcomes.csv"
    csv.to_csv(path, index=False)
    name = unique("csv-model")

    assert main(["--from-csv", str(path), "--label-column", "accepted", "--product", "auto_insurance",
                 "--tracking-uri", mlflow_uri, "--model-name", name]) == 0

    version = MlflowClient(mlflow_uri).get_model_version_by_alias(name, "champion")
    assert version.tags["feature_set_version"] == "campaign-outcomes.v1"
    mlflow.set_tracking_uri(mlflow_uri)
    model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert model.metadata.metadata["columns"] == list(features.columns)
    out = model.predict(pd.DataFrame(features.head(4).to_numpy(), columns=features.columns))
    assert list(out.columns) == ["auto_insurance"] and out["auto_insurance"].between(0, 1).all()
