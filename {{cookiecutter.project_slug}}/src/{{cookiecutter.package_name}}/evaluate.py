"""Judging held-out scores: the quality gate, and whether the rows were held out at all.

The scores themselves come from the task (``config.task.scores``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .config import Config, QualityGate
from .data import row_hashes

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
