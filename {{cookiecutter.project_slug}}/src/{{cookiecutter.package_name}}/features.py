"""Preprocessing built from the data schema, stored inside the model pipeline.

Because imputation, scaling and encoding live in the same scikit-learn ``Pipeline`` as
the estimator, training, batch prediction and the API all transform inputs with the
very same fitted steps: there is no second copy of the feature code to drift apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from .config import CategoricalColumn, DataConfig, DatetimeColumn

# What each date column becomes for the model, in this order.
DATE_PARTS = ("year", "month", "weekday")


def date_parts(dates: pd.DataFrame) -> pd.DataFrame:
    """Year, month (1 to 12) and day of the week (0 is Monday) of each date column, as
    numbers; a missing date gives missing numbers, for the imputer that follows."""
    parts = {}
    for name in dates.columns:
        values = pd.to_datetime(dates[name])
        parts[f"{name}_year"] = values.dt.year
        parts[f"{name}_month"] = values.dt.month
        parts[f"{name}_weekday"] = values.dt.day_of_week
    return pd.DataFrame(parts, index=dates.index).astype("float64")


def date_part_names(transformer: Any, columns: Any) -> np.ndarray:
    return np.array([f"{name}_{part}" for name in columns for part in DATE_PARTS], dtype=object)


def build_preprocessor(config: DataConfig) -> ColumnTransformer:
    """Impute and scale numbers (booleans are 1 and 0 by then); one-hot encode categories;
    turn dates into the numbers of ``DATE_PARTS``, then impute and scale those.

    A missing category is a category of its own (the encoder's own handling, no
    imputer needed), and categories never seen in training encode as all zeros instead
    of failing, so a new value at serving time cannot break a prediction.
    """
    categorical = [c.name for c in config.features if isinstance(c, CategoricalColumn)]
    dates = [c.name for c in config.features if isinstance(c, DatetimeColumn)]
    numeric = [c.name for c in config.features if c.name not in {*categorical, *dates}]
    encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    steps: list[tuple[str, Any, list[str]]] = [
        ("numeric", _imputed_and_scaled(), numeric),
        ("categorical", Pipeline([_as_array(), ("encode", encode)]), categorical),
    ]
    if dates:  # a transformer with no columns would still cost every prediction its call
        as_numbers = FunctionTransformer(date_parts, feature_names_out=date_part_names)
        steps.append(("dates", _imputed_and_scaled(("parts", as_numbers)), dates))
    return ColumnTransformer(steps, verbose_feature_names_out=False)


def _imputed_and_scaled(*first: tuple[str, Any]) -> Pipeline:
    impute = SimpleImputer(strategy="median")
    return Pipeline([*first, _as_array(), ("impute", impute), ("scale", StandardScaler())])


def _as_array() -> tuple[str, FunctionTransformer]:
    """A first step that hands the columns on as a plain array, names kept for the output.

    Each scikit-learn transformer inspects a DataFrame it is given (types, names, which
    library made it) on every call, even for one row. The ColumnTransformer has already
    selected the columns by name and checked them, so the steps after it can take an
    array: that saves about 1 ms of the 5 ms one online prediction takes, and the
    predictions are the same.
    """
    return "as_array", FunctionTransformer(np.asarray, feature_names_out="one-to-one")
