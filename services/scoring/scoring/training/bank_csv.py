"""A bank's own campaign history (one CSV or Parquet file) → training frames, or a one-line reason why not.

What a real export looks like, and what this module does about it:
- `;` or tab separators (European locales): detected with `csv.Sniffer`, or named with `--sep`;
- labels as words (`yes`/`no`, `sí`/`no`, `sim`/`não`, `true`/`false`) besides `1`/`0`;
- string columns (job, marital status, month …): encoded, never dropped in silence. Both encodings are
  tried on a validation split of the training period and the better one is kept: indicator columns
  (one-hot, any model) or category codes read natively by the gradient-boosted trees;
- a date column: rows are put in time order and the holdout is the latest quarter, so drift over time
  shows in the holdout instead of being averaged away by a random split (the report says which).
Identifier-like string columns (nearly one value per row) are dropped, and the run says so.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from scoring.domain.vector import label_column

Encoding = Literal["onehot", "native"]
OTHER, MISSING = "__other__", "__missing__"
MAX_CATEGORIES = 30  # per column; rarer values share OTHER (the trees cap categories at 255 anyway)
HOLDOUT_SHARE = 0.25
_IDENTIFIER_NAME = re.compile(r"(^id$|_id$|_key$|_ref$|^customer|^cpf$|^cnpj$|^email|^name$)", re.IGNORECASE)
_LABELS = {
    "1": 1, "0": 0, "1.0": 1, "0.0": 0,
    "yes": 1, "no": 0, "y": 1, "n": 0,
    "sí": 1, "si": 1, "sim": 1, "não": 0, "nao": 0,
    "true": 1, "false": 0, "t": 1, "f": 0,
}  # fmt: skip


class HistoryError(ValueError):
    """An input that cannot be trained on; the message is one line naming the file (and column)."""


@dataclass
class CategoricalEncoding:
    """How string columns became numbers: the same mapping is packaged with the model for serving."""

    mode: Encoding
    categories: dict[str, list[str]]  # column → its kept categories (OTHER/MISSING included when seen)

    def columns(self) -> list[str]:
        if self.mode == "native":
            return list(self.categories)
        return [f"{col}={cat}" for col, cats in self.categories.items() for cat in cats]

    def encode(self, raw: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, Any] = {}
        for col, cats in self.categories.items():
            values = normalise(raw[col], cats)
            if self.mode == "native":
                out[col] = values.map({c: float(i) for i, c in enumerate(cats)}).astype(float)
            else:
                for cat in cats:
                    out[f"{col}={cat}"] = (values == cat).astype(float)
        return pd.DataFrame(out, index=raw.index)

    def manifest(self) -> dict[str, Any]:
        return {"mode": self.mode, "categories": self.categories}


def normalise(values: pd.Series, categories: list[str]) -> pd.Series:
    """Trimmed text; missing → MISSING, unseen → OTHER (or MISSING's bucket when no OTHER was kept)."""
    text = values.astype("string").str.strip()
    text = text.where(text.notna() & (text != ""), MISSING).astype(str)
    fallback = OTHER if OTHER in categories else categories[-1]
    return text.where(text.isin(categories), fallback)


@dataclass
class BankHistory:
    frame: pd.DataFrame  # training rows: encoded features + label_<product>
    evaluation_frame: pd.DataFrame | None  # the latest rows when time-ordered, else None (random holdout)
    encoding: CategoricalEncoding | None
    notes: list[str] = field(default_factory=list)  # what was done to the input, for the report
    time_column: str | None = None
    raw_example: pd.DataFrame | None = None  # a few input rows as the file has them (the model's signature)


def _fail(path: str, message: str) -> HistoryError:
    return HistoryError(f"{path}: {message}")


def sniff_separator(path: Path) -> str:
    sample = path.read_text(encoding="utf-8", errors="replace")[:65536]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_table(path_s: str, sep: str | None) -> tuple[pd.DataFrame, str]:
    path = Path(path_s)
    if not path.is_file():
        raise _fail(path_s, "no such file")
    if path.stat().st_size == 0:
        raise _fail(path_s, "the file is empty")
    if path.suffix in (".parquet", ".pq"):
        raw, used = pd.read_parquet(path), "parquet"
    else:
        used = sep or sniff_separator(path)
        try:
            raw = pd.read_csv(path, sep=used, skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise _fail(path_s, "the file is empty") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise _fail(path_s, f"not readable as CSV with separator {used!r} ({str(exc).splitlines()[0]})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    if raw.empty:
        raise _fail(path_s, "a header and no rows")
    return raw, used


def parse_labels(path: str, column: str, values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    mapped = text.map(_LABELS)
    unknown = sorted(set(text[mapped.isna() & text.notna()].astype(str)))
    if unknown:
        shown = ", ".join(repr(v) for v in unknown[:3]) + (" …" if len(unknown) > 3 else "")
        raise _fail(
            path, f"column {column!r}: labels must be 1/0, yes/no, sí/no, sim/não or true/false (found {shown})"
        )
    if mapped.notna().sum() == 0:
        raise _fail(path, f"column {column!r}: no label values")
    if mapped.dropna().nunique() < 2:
        raise _fail(path, f"column {column!r}: every label is {int(mapped.dropna().iloc[0])}; two outcomes needed")
    return mapped.astype(float)


def _as_dates(values: pd.Series) -> pd.Series | None:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return None
    parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    ok = parsed.notna().sum()
    return parsed if ok >= 0.95 * values.notna().sum() and ok > 0 and parsed.nunique() > 1 else None


def detect_time_column(raw: pd.DataFrame, exclude: set[str]) -> str | None:
    """The first column whose values are (≥ 95 %) dates: what time order is read from by default."""
    for col in raw.columns:
        if col not in exclude and _as_dates(raw[col]) is not None:
            return col
    return None


def _validation_auc(x: pd.DataFrame, y: np.ndarray, categorical: list[bool] | None, seed: int) -> float:
    """A small boosted model fit on 80 % of the training period, scored on the rest (shuffled, stratified)."""
    rng = np.random.default_rng([seed, 41])
    held = np.zeros(len(y), dtype=bool)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        held[rng.choice(idx, size=max(1, len(idx) // 5), replace=False)] = True
    model = HistGradientBoostingClassifier(
        max_iter=60, max_depth=3, learning_rate=0.1, categorical_features=categorical, random_state=seed
    )
    model.fit(x.to_numpy(float)[~held], y[~held])
    return float(roc_auc_score(y[held], model.predict_proba(x.to_numpy(float)[held])[:, 1]))


def load_history(
    path: str,
    label: str,
    product: str,
    *,
    sep: str | None = None,
    time_column: str | None = None,
    seed: int = 0,
    holdout_share: float = HOLDOUT_SHARE,
) -> BankHistory:
    raw, used_sep = read_table(path, sep)
    notes = [f"read with separator {used_sep!r}" if used_sep != "parquet" else "read from Parquet"]
    if label not in raw.columns:
        raise _fail(path, f"label column {label!r} not found (columns: {', '.join(raw.columns)})")
    y_all = parse_labels(path, label, raw.pop(label))

    times: pd.Series | None = None
    if time_column is not None:
        if time_column not in raw.columns:
            raise _fail(path, f"time column {time_column!r} not found (columns: {', '.join(raw.columns)})")
        times = _as_dates(raw[time_column])
        if times is None:
            raise _fail(path, f"column {time_column!r}: not dates (fewer than 95 % of the values parse)")
    else:
        time_column = detect_time_column(raw, set())
        if time_column is not None:
            times = _as_dates(raw[time_column])
            notes.append(
                f"column {time_column!r} holds dates: rows put in time order (default; --time-column names it)"
            )
    if time_column is not None:
        raw = raw.drop(columns=[time_column])

    for col in raw.columns:
        if raw[col].isna().all():
            raise _fail(path, f"column {col!r}: every value is missing (drop the column or fill it)")
    numeric, categorical = [], []
    for col in raw.columns:
        if pd.api.types.is_bool_dtype(raw[col]) or pd.api.types.is_numeric_dtype(raw[col]):
            numeric.append(col)
            continue
        first = raw[col].dropna().iloc[0]
        if isinstance(first, list | tuple | dict | set | np.ndarray):
            notes.append(f"column {col!r} dropped: it holds lists, not one value per row")
            continue
        distinct = raw[col].nunique()
        if _IDENTIFIER_NAME.search(col) or (distinct > 50 and distinct > 0.5 * raw[col].notna().sum()):
            notes.append(f"column {col!r} dropped: an identifier or free text ({distinct} distinct values)")
        elif distinct < 2:
            notes.append(f"column {col!r} dropped: one value in every row")
        else:
            categorical.append(col)
    if not numeric and not categorical:
        raise _fail(path, "no usable feature column (only the label, dates and identifiers)")

    order = np.argsort(times.to_numpy(), kind="stable") if times is not None else np.arange(len(raw))
    raw, y_all = raw.iloc[order].reset_index(drop=True), y_all.iloc[order].reset_index(drop=True)
    keep = y_all.notna().to_numpy()
    raw, y_all = raw[keep].reset_index(drop=True), y_all[keep].reset_index(drop=True)
    if times is not None:
        times = times.iloc[order][keep].reset_index(drop=True)
    n_train = len(raw) - round(len(raw) * holdout_share) if times is not None else len(raw)
    if times is not None and not 0 < n_train < len(raw):
        n_train = len(raw)

    raw_example = raw[numeric + categorical].head(3).reset_index(drop=True)
    base = raw[numeric].astype(float)
    encoding = None
    if categorical:
        encoding = _choose_encoding(raw, categorical, base, y_all.to_numpy(), n_train, seed, notes)
        base = pd.concat([base, encoding.encode(raw[categorical])], axis=1)
    frame = base.assign(**{label_column(product): y_all.to_numpy()})

    if times is None or n_train == len(raw):
        frame.attrs["categorical"] = _native_columns(encoding)
        return BankHistory(frame, None, encoding, notes, raw_example=raw_example)
    train, later = frame.iloc[:n_train].reset_index(drop=True), frame.iloc[n_train:].reset_index(drop=True)
    train.attrs = {
        "as_of": f"{_day(times.iloc[0])} … {_day(times.iloc[n_train - 1])} ({time_column})",
        "categorical": _native_columns(encoding),
    }
    later.attrs = {"as_of": f"{_day(times.iloc[n_train])} … {_day(times.iloc[-1])} ({time_column})"}
    notes.append(f"holdout: the latest {holdout_share:.0%} of rows by {time_column!r}")
    return BankHistory(train, later, encoding, notes, time_column, raw_example)


def _day(ts: Any) -> str:
    return pd.Timestamp(ts).date().isoformat()


def _native_columns(encoding: CategoricalEncoding | None) -> list[str]:
    return list(encoding.categories) if encoding is not None and encoding.mode == "native" else []


def _choose_encoding(
    raw: pd.DataFrame,
    categorical: list[str],
    numeric: pd.DataFrame,
    y: np.ndarray,
    n_train: int,
    seed: int,
    notes: list[str],
) -> CategoricalEncoding:
    train = raw.iloc[:n_train]
    categories = {}
    for col in categorical:
        seen = [str(v) for v in train[col].astype("string").str.strip().dropna().unique()]
        values = normalise(train[col], [*seen, MISSING])
        counts = values.value_counts()
        # OTHER always closes the list: values unseen in training (or rarer than the kept ones) go there.
        categories[col] = [str(c) for c in counts.index[:MAX_CATEGORIES]] + [OTHER]
    scores: dict[Encoding, float] = {}
    y_train = y[:n_train]
    modes: tuple[Encoding, ...] = ("onehot", "native")
    for mode in modes:
        enc = CategoricalEncoding(mode, categories)
        x = pd.concat([numeric.iloc[:n_train], enc.encode(train[categorical])], axis=1)
        mask = [False] * numeric.shape[1] + [True] * len(categorical) if mode == "native" else None
        try:
            scores[mode] = _validation_auc(x, y_train, mask, seed)
        except ValueError:
            scores[mode] = math.nan  # too few rows of a class to compare: one-hot, which every model reads
    native = scores["native"] > scores["onehot"] + 0.002  # ties go to one-hot: it serves every candidate
    chosen: Encoding = "native" if native else "onehot"
    notes.append(
        f"{len(categorical)} text column(s) encoded ({', '.join(categorical)}): {chosen} "
        f"(validation AUC one-hot {scores['onehot']:.3f}, native categorical {scores['native']:.3f})"
    )
    return CategoricalEncoding(chosen, categories)
