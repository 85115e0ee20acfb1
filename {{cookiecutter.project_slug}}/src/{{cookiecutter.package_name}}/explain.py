"""Why the model predicts what it does: global importance and single-row explanations.

Both work on the raw input columns (not the one-hot encoded ones), so they speak the
language of the data schema and hold for any estimator the config names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from .config import CategoricalColumn, Config, DataConfig


def feature_importance(
    model: Any, features: pd.DataFrame, target: pd.Series, config: Config
) -> dict[str, float]:
    """Mean drop in the model's score when one column is shuffled, largest first."""
    sample = features.sample(
        n=min(len(features), config.importance.max_rows), random_state=config.seed
    )
    result = permutation_importance(
        model,
        sample,
        target.loc[sample.index],
        n_repeats=config.importance.repeats,
        random_state=config.seed,
    )
    means = dict(zip(features.columns, result.importances_mean, strict=True))
    return {name: float(value) for name, value in sorted(means.items(), key=lambda kv: -kv[1])}


def plot_importance(importance: dict[str, float], path: Path) -> None:
    """A horizontal bar chart of ``importance``, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed: the plot only goes to a file
    import matplotlib.pyplot as plt

    names = list(importance)[::-1]
    figure, axes = plt.subplots(figsize=(7, 0.4 * len(names) + 1.2))
    axes.barh(names, [importance[name] for name in names], color="#3b7dd8")
    axes.set_xlabel("mean score drop when the column is shuffled")
    axes.set_title("Permutation feature importance (held-out data)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


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
