"""Judging scores: a saved model's on a labelled file, the quality gate's verdict, and
whether the rows were new to the model at all.

The scores themselves come from the task (``config.task.scores``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .config import Config, QualityGate
from .data import read_configured, row_hashes, validate

# The key, under the metadata's "data", of hashes of training rows drawn at random.
TRAINING_ROW_SAMPLE = "training_row_sample"


def gate_failures(scores: dict[str, float], gate: QualityGate) -> list[str]:
    """Every threshold the scores miss, as readable phrases (empty: the gate passes)."""
    failures = [
        f"{name} {scores[name]:.4f} < minimum {bound}"
        for name, bound in gate.minimum.items()
        if scores[name] < bound
    ]
    failures += [
        f"{name} {scores[name]:.4f} > maximum {bound}"
        for name, bound in gate.maximum.items()
        if scores[name] > bound
    ]
    return failures


def share_of_training_rows(metadata: dict[str, Any], frame: pd.DataFrame, config: Config) -> float:
    """About how many of the rows the model was trained on are in ``frame``, as a share.

    Scores on rows a model has seen overstate how it does on new ones; ``evaluate``
    says so when the share is not zero. Estimated from the sample training recorded.
    """
    sample = metadata.get("data", {}).get(TRAINING_ROW_SAMPLE) or []
    if not sample:
        return 0.0
    columns = [*config.data.feature_names, config.data.target.name]
    present = set(row_hashes(frame, columns).tolist())
    return sum(int(value, 16) in present for value in sample) / len(sample)


@dataclass(frozen=True)
class Evaluation:
    """A saved model's scores on a labelled file, and how much of the file it trained on."""

    model_version: str
    scores: dict[str, float]
    training_share: float  # of the file's rows: scores on them overstate the model

    def as_dict(self) -> dict[str, Any]:
        return {"model_version": self.model_version, **self.scores}


def evaluate_file(
    config: Config, path: Path, model: str | None = None, *, allow_external: bool = False
) -> Evaluation:
    """Score the model ``model`` names (default: the latest good run) on the rows of ``path``."""
    from .predict import load_for_inference

    saved = load_for_inference(config, model, allow_external=allow_external)
    frame = validate(
        read_configured(path, config.data), config.data, with_target=True, source=str(path)
    )
    features, target = frame[config.data.feature_names], frame[config.data.target.name]
    return Evaluation(
        saved.version,
        config.task.scores(saved.model, features, target),
        share_of_training_rows(saved.metadata, frame, config),
    )
