"""Offline training: per-product candidates, holdout evaluation, one registered MLflow model, and a
promotion gate on the `champion` alias."""

from scoring.training.pipeline import train_and_register
from scoring.training.report import TrainingReport

__all__ = ["TrainingReport", "train_and_register"]
