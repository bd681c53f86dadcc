"""Generated bank campaign histories, shaped like a real export: `;`-separated, yes/no outcomes, text columns,
a contact date, rows in date order, and a signal that drifts over the period."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

JOBS = ("admin.", "blue-collar", "technician", "services", "management", "retired", "student")
JOB_EFFECT = {"admin.": 0.0, "blue-collar": -0.6, "technician": 0.1, "services": -0.3, "management": 0.5,
              "retired": 0.9, "student": 1.1}  # fmt: skip
MARITAL = ("married", "single", "divorced")


def drifting_history(n: int = 3000, seed: int = 7, *, inverted_tail: bool = False) -> pd.DataFrame:
    """Two years of contacts in date order. The response rate jumps after a regime change, a market rate
    drifts down with time and the balance signal weakens (drift), but the customer features keep ranking
    customers the right way round throughout. Calibration folds that are blocks of time see this as an
    inverted relation between score and outcome. With
    `inverted_tail`, the outcomes of the latest quarter are flipped: a model of the earlier rows then ranks
    the holdout backwards, which the gate must refuse."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.random(n))  # share of the period elapsed, in date order
    job = rng.choice(JOBS, n)
    marital = rng.choice(MARITAL, n, p=[0.6, 0.3, 0.1])
    balance = np.round(rng.lognormal(7, 1.2, n)).astype(int)  # integers, as exports have them
    duration = rng.integers(5, 900, n)
    campaign = rng.integers(1, 8, n)
    # A market rate that falls over the period (like a bank-marketing export's euribor3m): a level of time,
    # not of the customer, which trees split on and which blocks of time see in disjoint ranges.
    euribor = np.round(4.9 - 4.0 * t + rng.normal(0, 0.05, n), 3)
    logit = (
        -2.8
        + 2.4 * (t > 0.5)  # a regime change: the response rate jumps in the last part of the period
        + (1.0 - 0.5 * t) * (np.log1p(balance) - 7) / 1.2  # the signal weakens
        + 0.004 * (duration - 300)
        - 0.15 * (campaign - 2)
        + np.array([JOB_EFFECT[j] for j in job])
        + np.where(marital == "single", 0.3, 0.0)
    )
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    if inverted_tail:
        tail = t >= np.quantile(t, 0.75)
        y = np.where(tail, ~y, y)
    start = date(2023, 1, 2)
    return pd.DataFrame(
        {
            "contact_date": [(start + timedelta(days=int(d * 730))).isoformat() for d in t],
            "job": job,
            "marital": marital,
            "balance": balance,
            "duration": duration,
            "campaign": campaign,
            "euribor3m": euribor,
            "subscribed": np.where(y, "yes", "no"),
        }
    )


def write_history(frame: pd.DataFrame, path: Path, sep: str = ";") -> Path:
    frame.to_csv(path, sep=sep, index=False)
    return path
