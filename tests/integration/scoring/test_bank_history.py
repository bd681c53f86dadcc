"""`--from-csv` on a bank's own history in date order, against a real MLflow: a drifting signal is learnt the
right way round on the time-ordered holdout, the run carries an HTML report, the registered model scores
integer and text columns as the file has them, and a candidate that ranks backwards is refused by the gate."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from scoring.training.__main__ import EXIT_BAD_INPUT, EXIT_REFUSED, main
from tests.unit.scoring.histories import drifting_history, write_history

pytestmark = pytest.mark.integration


def _train(path: Path, mlflow_uri: str, name: str, *extra: str) -> int:
    return main(
        [
            "--from-csv",
            str(path),
            "--label-column",
            "subscribed",
            "--product",
            "savings",
            "--tracking-uri",
            mlflow_uri,
            "--model-name",
            name,
            *extra,
        ]
    )


def test_a_drifting_history_in_date_order_is_learnt_the_right_way_round(tmp_path, mlflow_uri, unique, capsys) -> None:
    path = write_history(drifting_history(), tmp_path / "campaigns.csv", sep=";")
    name = unique("bank-history")
    assert _train(path, mlflow_uri, name) == 0
    out = capsys.readouterr().out
    assert "time-based" in out and "contact_date" in out and "text column(s) encoded (job, marital)" in out

    client = MlflowClient(mlflow_uri)
    version = client.get_model_version_by_alias(name, "champion")
    assert version.run_id is not None
    metrics = client.get_run(version.run_id).data.metrics
    assert metrics["auc.savings"] > 0.5 + 0.2  # not inverted, and clearly better than a coin
    assert metrics["ece.savings"] < 0.1
    assert client.get_run(version.run_id).data.params["split"] == "time"
    artifacts = {a.path for a in client.list_artifacts(version.run_id, "evaluation")}
    assert "evaluation/report.html" in artifacts
    page = Path(mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path="evaluation/report.html"))
    html = page.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 4 and "time-based" in html and 'alt="reliability' in html

    # Served as the file has it: integers stay integers, text stays text.
    mlflow.set_tracking_uri(mlflow_uri)
    model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    rows = drifting_history(5, seed=99).drop(columns=["contact_date", "subscribed"])
    assert str(rows["balance"].dtype) == "int64"
    scores = model.predict(rows)
    assert list(scores.columns) == ["savings"] and scores["savings"].between(0, 1).all()


def test_a_candidate_ranking_backwards_is_refused_even_without_a_champion(tmp_path, mlflow_uri, unique, capsys) -> None:
    path = write_history(drifting_history(inverted_tail=True), tmp_path / "inverted.csv", sep=";")
    name = unique("inverted")
    assert _train(path, mlflow_uri, name) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "not promoted" in err and "backwards" in err

    client = MlflowClient(mlflow_uri)
    [version] = client.search_model_versions(f"name = '{name}'")
    assert version.aliases == [] and "backwards" in version.tags["promotion_refused"]
    with pytest.raises(MlflowException):
        client.get_model_version_by_alias(name, "champion")


def test_bad_input_exits_with_one_line_and_no_traceback(tmp_path, mlflow_uri, capsys) -> None:
    path = tmp_path / "header-only.csv"
    path.write_text("age;job;subscribed\n")
    assert _train(path, mlflow_uri, "never-registered") == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err == f"error: {path}: a header and no rows"
