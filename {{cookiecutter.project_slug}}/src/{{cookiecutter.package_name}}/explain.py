"""Why the model predicts what it does: global importance and single-row explanations.

Both work on the raw input columns (not the one-hot encoded ones), so they speak the
language of the data schema and hold for any estimator the config names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics

from .config import CategoricalColumn, Config, DataConfig
from .evaluate import class_codes


def feature_importance(
    model: Any, features: pd.DataFrame, target: pd.Series, config: Config
) -> dict[str, float]:
    """Mean drop in the model's score when one column is shuffled, largest first.

    The score is accuracy (classification) or R² (regression) on at most
    ``importance.max_rows`` held-out rows. This is scikit-learn's permutation importance
    with every shuffle of a column scored in one ``predict`` call: the pipeline's fixed
    cost per call, not the rows, is what dominates on small samples.
    """
    sample = features.sample(
        n=min(len(features), config.importance.max_rows), random_state=config.seed
    )
    comparable = _comparable(model, config.task)
    truth = comparable(target.loc[sample.index].to_numpy())
    rng = np.random.default_rng(config.seed)
    repeats = config.importance.repeats
    baseline = _score(truth, comparable(model.predict(sample)), config.task)
    stacked = pd.concat([sample] * repeats, ignore_index=True)
    drops = {}
    for name in sample.columns:
        permuted = pd.concat(
            [sample[name].iloc[rng.permutation(len(sample))] for _ in range(repeats)],
            ignore_index=True,
        )
        predicted = comparable(model.predict(stacked.assign(**{name: permuted})))
        scores = [_score(truth, row, config.task) for row in predicted.reshape(repeats, -1)]
        drops[name] = baseline - float(np.mean(scores))
    return dict(sorted(drops.items(), key=lambda item: -item[1]))


def _comparable(model: Any, task: str) -> Callable[[Any], np.ndarray]:
    """Labels as integer class codes, which scikit-learn compares far faster than text."""
    if task == "regression":
        return np.asarray
    classes = list(model.classes_)
    return lambda labels: class_codes(pd.Series(labels), classes)


def _score(truth: np.ndarray, predicted: np.ndarray, task: str) -> float:
    if task == "regression":
        return float(metrics.r2_score(truth, predicted))
    return float(metrics.accuracy_score(truth, predicted))


def plot_importance(importance: dict[str, float], path: Path) -> None:
    """A bar chart of ``importance``, one row per column in the given order, saved as PNG."""
    from .charts import bar_chart

    chart = bar_chart(
        "Permutation feature importance (held-out data)",
        list(importance),
        {"importance": list(importance.values())},
        note="mean drop in score when the column is shuffled",
    )
    path.write_bytes(chart)


def reference_row(features: pd.DataFrame, config: DataConfig) -> dict[str, Any]:
    """A typical row: the median of each numeric column, the mode of each categorical one."""
    row: dict[str, Any] = {}
    for column in config.features:
        values = features[column.name].dropna()
        if values.empty:
            row[column.name] = None
        elif isinstance(column, CategoricalColumn):
            row[column.name] = str(values.mode().iloc[0])
        else:
            row[column.name] = float(values.median())
    return row


def explain_rows(
    model: Any, features: pd.DataFrame, reference: dict[str, Any], task: str
) -> pd.DataFrame:
    """Per row and column, how much the output moves when that column takes its typical value.

    The output is the predicted value (regression) or the probability of the last class
    (classification). A positive number means the row's own value pushed the output up.
    """

    def output(frame: pd.DataFrame) -> np.ndarray:
        if task == "regression":
            return np.asarray(model.predict(frame), dtype=float)
        return np.asarray(model.predict_proba(frame)[:, -1], dtype=float)

    actual = output(features)
    contributions = {}
    for name in features.columns:
        replaced = features.copy()
        replaced[name] = pd.Series([reference[name]] * len(features), index=features.index).astype(
            features[name].dtype
        )
        contributions[name] = actual - output(replaced)
    return pd.DataFrame(contributions, index=features.index)
