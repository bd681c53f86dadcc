"""A bank's own history file: separators, label words, text columns, dates, and one-line errors for
every input that cannot be trained on."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.training.bank_csv import CategoricalEncoding, HistoryError, load_history
from scoring.training.propensity_model import encode_categoricals
from scoring.training.registry import PromotionGate
from tests.unit.scoring.histories import drifting_history, write_history


def _write(tmp_path: Path, text: str, name: str = "history.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _rows(n: int = 60, sep: str = ",", labels: tuple[str, str] = ("1", "0")) -> str:
    lines = [sep.join(["age", "job", "outcome"])]
    for i in range(n):
        lines.append(sep.join([str(20 + i % 40), ("admin", "retired", "student")[i % 3], labels[i % 2]]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_the_separator_is_detected(tmp_path: Path, sep: str) -> None:
    history = load_history(_write(tmp_path, _rows(sep=sep)), "outcome", "savings")
    assert history.frame.shape[0] == 60 and "age" in history.frame
    assert f"separator {sep!r}" in history.notes[0]


@pytest.mark.parametrize(
    "labels", [("1", "0"), ("yes", "no"), ("Sí", "No"), ("sim", "não"), ("TRUE", "false"), ("y", "n")]
)
def test_labels_in_the_common_forms(tmp_path: Path, labels: tuple[str, str]) -> None:
    history = load_history(_write(tmp_path, _rows(labels=labels)), "outcome", "savings")
    assert sorted(history.frame["label_savings"].unique()) == [0.0, 1.0]
    assert history.frame["label_savings"].mean() == 0.5


def test_text_columns_are_encoded_never_dropped(tmp_path: Path) -> None:
    history = load_history(_write(tmp_path, _rows()), "outcome", "savings")
    assert history.encoding is not None and "job" in history.encoding.categories
    assert any("text column" in n and "job" in n for n in history.notes)
    encoded = [c for c in history.frame.columns if c.startswith("job")]
    assert encoded, history.frame.columns


def test_only_text_columns_still_train(tmp_path: Path) -> None:
    text = "job,marital,y\n" + "".join(f"{('a', 'b', 'c')[i % 3]},{('m', 's')[i % 2]},{i % 2}\n" for i in range(40))
    history = load_history(_write(tmp_path, text), "y", "savings")
    assert history.encoding is not None and len(history.frame.columns) > 1


def test_a_date_column_orders_rows_and_holds_out_the_latest(tmp_path: Path) -> None:
    frame = drifting_history(400)
    shuffled = frame.sample(frac=1.0, random_state=1)
    history = load_history(str(write_history(shuffled, tmp_path / "h.csv")), "subscribed", "savings")
    assert history.time_column == "contact_date" and history.evaluation_frame is not None
    assert len(history.evaluation_frame) == 100 and len(history.frame) == 300
    assert "time order" in " ".join(history.notes) and "contact_date" in history.frame.attrs["as_of"]
    latest_train = history.frame.attrs["as_of"].split(" … ")[1][:10]
    earliest_holdout = history.evaluation_frame.attrs["as_of"].split(" … ")[0]
    assert latest_train <= earliest_holdout


def test_identifiers_are_dropped_and_said_so(tmp_path: Path) -> None:
    text = "customer_id,age,y\n" + "".join(f"c{i},{20 + i},{i % 2}\n" for i in range(30))
    history = load_history(_write(tmp_path, text), "y", "savings")
    assert "customer_id" not in "".join(history.frame.columns)
    assert any("customer_id" in n and "identifier" in n for n in history.notes)


@pytest.mark.parametrize(
    ("content", "label", "expected"),
    [
        ("", "y", "the file is empty"),
        ("age,job,y\n", "y", "a header and no rows"),
        ("age,empty,y\n1,,0\n2,,1\n3,,0\n", "y", "column 'empty': every value is missing"),
        ("age,y\n1,maybe\n2,yes\n", "y", "column 'y': labels must be 1/0"),
        ("age,y\n1,1\n2,1\n", "y", "column 'y': every label is 1"),
        ("age,y\n1,1\n2,0\n", "outcome", "label column 'outcome' not found"),
        ("customer_id,y\nc1,1\nc2,0\n", "y", "no usable feature column"),
    ],
)
def test_bad_inputs_are_one_line_errors_naming_the_file(
    tmp_path: Path, content: str, label: str, expected: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(HistoryError) as caught:
        load_history(path, label, "savings")
    message = str(caught.value)
    assert message.startswith(path) and expected in message and "\n" not in message


def test_a_missing_path_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="no such file"):
        load_history(str(tmp_path / "nope.csv"), "y", "savings")


def test_a_named_time_column_must_hold_dates(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="column 'job': not dates"):
        load_history(_write(tmp_path, _rows()), "outcome", "savings", time_column="job")


@pytest.mark.parametrize("mode", ["onehot", "native"])
def test_serving_encodes_text_exactly_as_training_did(mode: str) -> None:
    encoding = CategoricalEncoding(mode, {"job": ["admin", "retired", "__missing__", "__other__"]})  # type: ignore[arg-type]
    raw = pd.DataFrame({"job": ["admin", " retired ", None, "astronaut"], "age": [30, 40, 50, 60]})
    trained = encoding.encode(raw[["job"]])
    served = encode_categoricals(raw, encoding.manifest()).drop(columns=["age"])
    pd.testing.assert_frame_equal(trained, served[trained.columns])


def _table(auc: float, ece: float = 0.02, chosen: str = "boosted") -> pd.DataFrame:
    return pd.DataFrame([{"product": "savings", "chosen": chosen, "auc": auc, "ece": ece}]).set_index("product")


@pytest.mark.parametrize(
    ("auc", "ece", "refused"),
    [
        (0.78, 0.03, None),
        (0.38, 0.03, "backwards"),  # inverted
        (0.50, 0.03, "no-skill floor"),  # base rate
        (0.51, 0.03, "no-skill floor"),
        (0.78, 0.30, "calibration error"),
        (math.nan, math.nan, "could be evaluated"),
    ],
)
def test_the_gate_has_a_floor(auc: float, ece: float, refused: str | None) -> None:
    reason = PromotionGate().refusal(auc, _table(auc, ece))
    assert (reason is None) if refused is None else (reason is not None and refused in reason)


def test_calibration_folds_are_shuffled_and_stratified() -> None:
    from scoring.training.candidates import boosted, calibrated

    cv = calibrated(boosted(0), seed=3).cv
    assert cv.shuffle is True and cv.random_state == 3 and type(cv).__name__ == "StratifiedKFold"
    y = np.array([0] * 30 + [1] * 30)  # in "date order": every positive after every negative
    for _, test in cv.split(np.zeros((60, 1)), y):
        assert 0 < y[test].mean() < 1  # every fold sees both outcomes


def test_a_small_holdout_just_under_half_is_noise_not_backwards() -> None:
    small = _table(0.49).assign(positives_holdout=8, n_holdout=180)
    large = _table(0.45).assign(positives_holdout=400, n_holdout=800)
    assert PromotionGate().refusal(0.65, small) is None
    reason = PromotionGate().refusal(0.65, large)
    assert reason is not None and "backwards" in reason
