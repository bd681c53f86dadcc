"""What a training run produced: the registered version, the alias it got and a metrics table."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

_SHOWN = (
    "split",
    "chosen",
    "auc",
    "oracle_auc",
    "auc_vs_oracle",
    "pr_auc",
    "log_loss",
    "ece",
    "lift_at_10",
    "auc_logistic",
    "auc_boosted",
    "positives_holdout",
)


@dataclass
class TrainingReport:
    model_name: str
    version: str
    alias: str  # "champion", "challenger", or "none" when the gate refused it
    mean_auc: float
    previous_champion_auc: float | None
    run_id: str
    feature_set_version: str
    metrics: pd.DataFrame  # one row per product
    split: str = "random"  # "time" (train on an earlier period, evaluate on a later one) or "random"
    split_detail: str = ""
    refusal: str | None = None  # why the gate gave no alias
    notes: list[str] = field(default_factory=list)  # what was done to the input (bank CSVs)

    @property
    def promoted(self) -> bool:
        return self.alias == "champion"

    def table(self) -> str:
        shown = self.metrics[[c for c in _SHOWN if c in self.metrics]]
        head = f"{self.model_name} v{self.version} → @{self.alias}  mean holdout AUC {self.mean_auc:.3f}" + (
            f" (champion had {self.previous_champion_auc:.3f})"
            if self.previous_champion_auc is not None and not math.isnan(self.previous_champion_auc)
            else ""
        )
        split = (
            f"holdout: {self.split_detail or self.split}; "
            "candidates compared on a validation split of the training rows"
        )
        lines = [head, *(f"input: {n}" for n in self.notes), split]
        if self.refusal:
            lines.append(f"NOT PROMOTED: {self.refusal}")
        return "\n".join(lines) + "\n" + shown.to_string(float_format=lambda v: f"{v:.3f}", na_rep="-")
