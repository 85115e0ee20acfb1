"""Preprocessing built from the data schema, stored inside the model pipeline.

Because imputation, scaling and encoding live in the same scikit-learn ``Pipeline`` as
the estimator, training, batch prediction and the API all transform inputs with the
very same fitted steps: there is no second copy of the feature code to drift apart.
"""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .config import CategoricalColumn, DataConfig


def build_preprocessor(config: DataConfig) -> ColumnTransformer:
    """Impute and scale numeric columns; one-hot encode categorical ones.

    A missing category is a category of its own (the encoder's own handling, no
    imputer needed), and categories never seen in training encode as all zeros instead
    of failing, so a new value at serving time cannot break a prediction.
    """
    categorical = [c.name for c in config.features if isinstance(c, CategoricalColumn)]
    numeric = [c.name for c in config.features if not isinstance(c, CategoricalColumn)]
    numeric_steps = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    )
    encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return ColumnTransformer(
        [("numeric", numeric_steps, numeric), ("categorical", encode, categorical)],
        verbose_feature_names_out=False,
    )
