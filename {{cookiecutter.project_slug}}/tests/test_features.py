"""The preprocessing inside the pipeline copes with missing values and unseen categories."""

from __future__ import annotations

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.config import (
    CategoricalColumn,
    Config,
)
from {{ cookiecutter.package_name }}.data import validate
from {{ cookiecutter.package_name }}.features import build_preprocessor, date_parts


def test_missing_and_unseen_values_transform_to_finite_numbers(
    config: Config, sample: pd.DataFrame
) -> None:
    frame = validate(sample, config.data, with_target=False, source="sample")
    preprocessor = build_preprocessor(config.data).fit(frame)
    odd = frame.head(3).copy()
    for column in config.data.features:
        if isinstance(column, CategoricalColumn):
            odd[column.name] = ["brand-new", None, "brand-new"]
        else:
            odd[column.name] = [np.nan, np.nan, 1.0]
    transformed = preprocessor.transform(odd)
    assert transformed.shape == (3, preprocessor.transform(frame.head(3)).shape[1])
    assert np.isfinite(transformed).all()


def test_every_configured_column_is_used(config: Config, sample: pd.DataFrame) -> None:
    frame = validate(sample, config.data, with_target=False, source="sample")
    preprocessor = build_preprocessor(config.data).fit(frame)
    used = {name for _, _, columns in preprocessor.transformers_ for name in columns}
    assert used >= set(config.data.feature_names)


def test_a_date_becomes_its_year_month_and_weekday() -> None:
    dates = pd.DataFrame({"joined": pd.to_datetime(pd.Series(["2024-01-31", None, "2025-06-01"]))})
    parts = date_parts(dates)
    assert list(parts.columns) == ["joined_year", "joined_month", "joined_weekday"]
    assert parts.iloc[0].tolist() == [2024.0, 1.0, 2.0]  # a Wednesday
    assert parts.iloc[1].isna().all()
    assert parts.iloc[2].tolist() == [2025.0, 6.0, 6.0]  # a Sunday
