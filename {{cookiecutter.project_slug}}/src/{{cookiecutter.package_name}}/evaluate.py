"""Task-appropriate metrics on held-out data, and the quality gate that judges them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics

from .config import Config, QualityGate, Task
from .data import row_hashes
from .errors import DataError

# The key, under the metadata's "data", of hashes of training rows drawn at random.
TRAINING_ROW_SAMPLE = "training_row_sample"


def score(task: Task, model: Any, features: pd.DataFrame, target: pd.Series) -> dict[str, float]:
    """Score a fitted pipeline on labelled rows, with every metric the task knows."""
    if task == "regression":
        predicted = model.predict(features)
        return {
            "rmse": float(np.sqrt(metrics.mean_squared_error(target, predicted))),
            "mae": float(metrics.mean_absolute_error(target, predicted)),
            "r2": float(metrics.r2_score(target, predicted)),
        }
    predicted, probabilities = labels_and_probabilities(model, features)
    classes = list(model.classes_)
    # Metrics on integer class codes: scikit-learn sorts string labels on every call.
    truth = class_codes(target, classes)
    guessed = class_codes(pd.Series(predicted, index=target.index), classes)
    codes = list(range(len(classes)))
    if len(classes) == 2:
        auc = metrics.roc_auc_score(truth == 1, probabilities[:, 1])
    else:
        auc = metrics.roc_auc_score(truth, probabilities, multi_class="ovr", labels=codes)
    return {
        "accuracy": float(metrics.accuracy_score(truth, guessed)),
        "f1_macro": float(metrics.f1_score(truth, guessed, average="macro", labels=codes)),
        "roc_auc": float(auc),
        "log_loss": float(metrics.log_loss(truth, probabilities, labels=codes)),
    }


def labels_and_probabilities(model: Any, features: pd.DataFrame) -> tuple[Any, Any]:
    """Each row's most probable class, and the probabilities it comes from.

    One ``predict_proba`` call transforms and checks the rows once; ``predict`` beside it
    would do both again (on large held-out sets that doubles the work; on one online
    record it is 0.3 ms of about 5). Taking the label from the probabilities also means an
    answer never names a class its own probabilities rank lower, as estimators with
    separately calibrated probabilities (``SVC(probability=True)``) otherwise can.
    """
    probabilities = model.predict_proba(features)
    return np.asarray(model.classes_)[probabilities.argmax(axis=1)], probabilities


def class_codes(labels: pd.Series, classes: list[Any]) -> np.ndarray:
    """Each label's position in ``classes``; a label the model never saw is a data error."""
    codes: np.ndarray = pd.Index(classes).get_indexer(labels)
    if (codes < 0).any():
        unseen = ", ".join(map(str, pd.unique(labels[codes < 0])[:5]))
        known = ", ".join(map(str, classes))
        raise DataError(
            f"target holds classes the model was not trained on: {unseen} (known: {known})"
        )
    return codes


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
