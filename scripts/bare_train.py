"""The bare baseline benchmark.py compares ``train`` with: the same preprocessing and model
on the same churn table, read, fit and scored, and nothing else.

    python bare_train.py <churn CSV>

Importing this module loads the libraries the bare script needs and does nothing more;
``timed_import.py`` times other imports on top of those.
"""

from __future__ import annotations

import sys

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["tenure_months", "monthly_charges", "support_calls"]
CATEGORICAL = ["contract", "internet_service", "payment_method"]


def main(path: str) -> None:
    frame = pd.read_csv(path)
    numeric = Pipeline([("i", SimpleImputer(strategy="median")), ("s", StandardScaler())])
    encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    preprocess = ColumnTransformer([("n", numeric, NUMERIC), ("c", encode, CATEGORICAL)])
    model = Pipeline([("p", preprocess), ("m", LogisticRegression(C=1.0, max_iter=1000))])
    train, test = train_test_split(frame, test_size=0.2, random_state=42, stratify=frame["churned"])
    model.fit(train[NUMERIC + CATEGORICAL], train["churned"])
    probabilities = model.predict_proba(test[NUMERIC + CATEGORICAL])[:, 1]
    print(roc_auc_score(test["churned"] == "yes", probabilities))


if __name__ == "__main__":
    main(sys.argv[1])
