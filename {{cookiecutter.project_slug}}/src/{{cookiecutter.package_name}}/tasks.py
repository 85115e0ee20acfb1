"""Everything that differs between learning tasks, in one class per task.

The rest of the project never asks which task it runs: it asks the config's task object
(``config.task``) for its metrics, how to split, score, predict and explain. Another task
is one more subclass of ``Task`` added to ``TASKS``, then named by ``task:`` in the config
(the README's "Add a task" walks through it).

The libraries a task computes with are imported inside its methods: reading the config,
which every command does first, loads none of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass(frozen=True)
class CrossValidationMetric:
    """What cross-validation scores by: scikit-learn's scorer, and the name users read.

    scikit-learn's scorers are all "higher is better", so a loss comes negated; ``value``
    turns a scorer's number back into the metric's own (a positive RMSE, say).
    """

    scorer: str
    name: str
    higher_is_better: bool

    def value(self, score: float) -> float:
        return score if self.higher_is_better else -score

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"


@dataclass(frozen=True)
class OnlineMetric:
    """What an online experiment compares between two models: the mean of one value per
    labelled record (right or wrong, an absolute error), which a test can take apart."""

    name: str
    higher_is_better: bool
    proportion: bool  # every value is 0 or 1


@dataclass(frozen=True)
class Predictions:
    """What the model says about each row, as arrays in row order."""

    labels: np.ndarray
    probabilities: np.ndarray | None  # one column per class (tasks with classes only)
    classes: list[str]

    @classmethod
    def joined(cls, parts: list[Predictions]) -> Predictions:
        """Predictions for batches of rows, as one for all their rows in turn."""
        import numpy as np

        probabilities = [part.probabilities for part in parts if part.probabilities is not None]
        return cls(
            np.concatenate([part.labels for part in parts]),
            np.concatenate(probabilities) if probabilities else None,
            parts[0].classes,
        )

    def take(self, rows: np.ndarray) -> Predictions:
        """The predictions for the rows at the positions ``rows`` only."""
        probabilities = None if self.probabilities is None else self.probabilities[rows]
        return Predictions(self.labels[rows], probabilities, self.classes)


class Task(ABC):
    """What one kind of learning problem asks of the code around it."""

    name: ClassVar[str]
    # Every metric the task scores, and whether a higher value is better.
    metrics: ClassVar[dict[str, bool]]
    # What cross-validation reports, and tune searches by.
    cross_validation: ClassVar[CrossValidationMetric]
    # The ``type`` values of ``data.target`` the task learns from.
    target_types: ClassVar[tuple[str, ...]]
    # Whether the model answers with one of a set of classes (and their probabilities).
    has_classes: ClassVar[bool] = False
    # What ``init-config`` writes when a table calls for this task: the estimator, its
    # parameters, the tuning space and the registry's promotion metric.
    default_model: ClassVar[dict[str, Any]]
    # What ``experiment-report`` compares champion and challenger by.
    online_metric: ClassVar[OnlineMetric]

    def __str__(self) -> str:
        return self.name

    def is_better(self, metric: str, challenger: float, champion: float, margin: float) -> bool:
        """Whether ``challenger`` beats ``champion`` on ``metric`` by more than ``margin``."""
        if self.metrics[metric]:
            return challenger > champion + margin
        return challenger < champion - margin

    def target_problem(self, target_type: str, allowed: list[Any] | None) -> str | None:
        """Why a target of this type cannot be learned by the task (None: it can), as a
        config error: the setting at fault, then what is wrong with it."""
        if target_type not in self.target_types:
            return f"data.target: {self.name} needs a {' or '.join(self.target_types)} target"
        return None

    def estimator_problem(self, estimator: Any) -> str | None:
        """Why ``estimator`` cannot serve this task (None: it can)."""
        return None

    def stratify_by(self, target: pd.Series) -> pd.Series | None:
        """What a stratified split keeps the shares of, if anything."""
        return None

    def scores(self, model: Any, features: pd.DataFrame, target: pd.Series) -> dict[str, float]:
        """Every metric in ``metrics``, for a fitted pipeline on labelled rows."""
        return self.scores_of(model, self.predict(model, features), target)

    @abstractmethod
    def scores_of(
        self, model: Any, predictions: Predictions, target: pd.Series
    ) -> dict[str, float]:
        """Every metric in ``metrics``, for what ``model`` predicted for rows whose true
        values are ``target``."""

    @abstractmethod
    def outcome_values(self, predicted: pd.Series, actual: pd.Series) -> np.ndarray:
        """One value per record for ``online_metric``, from what was predicted and what
        happened, as the prediction and feedback logs hold them."""

    @abstractmethod
    def predict(self, model: Any, features: pd.DataFrame) -> Predictions:
        """The model's answer for each row, transforming the rows once."""

    @abstractmethod
    def comparable(self, model: Any) -> Callable[[Any], np.ndarray]:
        """Turns predictions (or truths) into numbers the importance score compares."""

    @abstractmethod
    def importance_scores(self, truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
        """One score per row of ``predicted`` (repeats x rows) against ``truth``, higher
        being better: what permutation importance measures the drop of."""

    @abstractmethod
    def explained_output(
        self, model: Any, features: pd.DataFrame
    ) -> tuple[Callable[[pd.DataFrame], np.ndarray], pd.Series | None]:
        """The number per row that explanations account for, as a function of the rows,
        and what that number is for each row (None when it is the prediction itself)."""


class Classification(Task):
    """Rows to one of a fixed set of classes, with a probability for each."""

    name = "classification"
    metrics: ClassVar[dict[str, bool]] = {
        "accuracy": True,
        "f1_macro": True,
        "roc_auc": True,
        "log_loss": False,
    }
    cross_validation = CrossValidationMetric("roc_auc_ovr", "roc_auc", higher_is_better=True)
    online_metric = OnlineMetric("accuracy", higher_is_better=True, proportion=True)
    target_types = ("boolean", "categorical")
    has_classes = True
    default_model: ClassVar[dict[str, Any]] = {
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": {"C": 1.0, "max_iter": 1000},
        "space": {"C": {"type": "float", "low": 0.001, "high": 100.0, "log": True}},
        "promotion_metric": "roc_auc",
    }

    def target_problem(self, target_type: str, allowed: list[Any] | None) -> str | None:
        if target_type == "boolean":
            return None  # two classes, false and true
        if target_type != "categorical" or not allowed:
            return (
                "data.target: classification needs a boolean target, or a categorical one "
                "with 'allowed' classes"
            )
        if len(allowed) < 2:
            return "data.target.allowed: classification needs at least two classes"
        return None

    def estimator_problem(self, estimator: Any) -> str | None:
        if not hasattr(estimator, "predict_proba"):
            return "cannot predict probabilities"
        return None

    def stratify_by(self, target: pd.Series) -> pd.Series | None:
        return target

    def outcome_values(self, predicted: pd.Series, actual: pd.Series) -> np.ndarray:
        """1 for a record predicted right, 0 otherwise (labels compared as text)."""
        import numpy as np

        return np.asarray(predicted.astype(str).to_numpy() == actual.astype(str).to_numpy(), float)

    def scores_of(
        self, model: Any, predictions: Predictions, target: pd.Series
    ) -> dict[str, float]:
        import pandas as pd
        from sklearn import metrics

        labels, probabilities = predictions.labels, predictions.probabilities
        if probabilities is None:  # this task's own predict always gives them
            raise TypeError("classification metrics need the predicted probabilities")
        classes = list(model.classes_)
        # Metrics on integer class codes: scikit-learn sorts string labels on every call.
        truth = class_codes(target, classes)
        guessed = class_codes(pd.Series(labels, index=target.index), classes)
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

    def predict(self, model: Any, features: pd.DataFrame) -> Predictions:
        labels, probabilities = self._labels_and_probabilities(model, features)
        return Predictions(labels, probabilities, [str(label) for label in model.classes_])

    @staticmethod
    def _labels_and_probabilities(model: Any, features: pd.DataFrame) -> tuple[Any, Any]:
        """Each row's most probable class, and the probabilities it comes from.

        One ``predict_proba`` call transforms and checks the rows once; ``predict`` beside
        it would do both again (on large held-out sets that doubles the work; on one online
        record it is 0.3 ms of about 5). Taking the label from the probabilities also means
        an answer never names a class its own probabilities rank lower, as estimators with
        separately calibrated probabilities (``SVC(probability=True)``) otherwise can.
        """
        import numpy as np

        probabilities = model.predict_proba(features)
        return np.asarray(model.classes_)[probabilities.argmax(axis=1)], probabilities

    def comparable(self, model: Any) -> Callable[[Any], np.ndarray]:
        """Labels as integer class codes, which compare far faster than text."""
        import pandas as pd

        classes = list(model.classes_)
        return lambda labels: class_codes(pd.Series(labels), classes)

    def importance_scores(self, truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
        """Accuracy: the share of rows predicted right, one vectorised mean per repeat."""
        import numpy as np

        return np.asarray((predicted == truth).mean(axis=1))

    def explained_output(
        self, model: Any, features: pd.DataFrame
    ) -> tuple[Callable[[pd.DataFrame], np.ndarray], pd.Series | None]:
        """The probability of the class predicted for each row, whichever class it is."""
        import numpy as np
        import pandas as pd

        classes = list(model.classes_)
        predicted = class_codes(pd.Series(self.predict(model, features).labels), classes)
        explained = pd.Series([classes[code] for code in predicted], index=features.index)
        rows = np.arange(len(features))

        def output(frame: pd.DataFrame) -> np.ndarray:
            return np.asarray(model.predict_proba(frame)[rows, predicted], dtype=float)

        return output, explained


class Regression(Task):
    """Rows to a number."""

    name = "regression"
    metrics: ClassVar[dict[str, bool]] = {"rmse": False, "mae": False, "r2": True}
    cross_validation = CrossValidationMetric(
        "neg_root_mean_squared_error", "rmse", higher_is_better=False
    )
    online_metric = OnlineMetric("mae", higher_is_better=False, proportion=False)
    target_types = ("numeric",)
    default_model: ClassVar[dict[str, Any]] = {
        "estimator": "sklearn.linear_model.Ridge",
        "params": {"alpha": 1.0},
        "space": {"alpha": {"type": "float", "low": 0.001, "high": 100.0, "log": True}},
        "promotion_metric": "rmse",
    }

    def scores_of(
        self, model: Any, predictions: Predictions, target: pd.Series
    ) -> dict[str, float]:
        import numpy as np
        from sklearn import metrics

        predicted = predictions.labels
        return {
            "rmse": float(np.sqrt(metrics.mean_squared_error(target, predicted))),
            "mae": float(metrics.mean_absolute_error(target, predicted)),
            "r2": float(metrics.r2_score(target, predicted)),
        }

    def predict(self, model: Any, features: pd.DataFrame) -> Predictions:
        return Predictions(model.predict(features), None, [])

    def outcome_values(self, predicted: pd.Series, actual: pd.Series) -> np.ndarray:
        """Each record's absolute error."""
        import numpy as np

        return np.asarray(np.abs(predicted.to_numpy(float) - actual.to_numpy(float)), float)

    def comparable(self, model: Any) -> Callable[[Any], np.ndarray]:
        import numpy as np

        return np.asarray

    def importance_scores(self, truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
        """R², for every repeat at once."""
        import numpy as np
        from sklearn import metrics

        every_repeat = np.repeat(truth[:, np.newaxis], len(predicted), axis=1)
        return np.asarray(metrics.r2_score(every_repeat, predicted.T, multioutput="raw_values"))

    def explained_output(
        self, model: Any, features: pd.DataFrame
    ) -> tuple[Callable[[pd.DataFrame], np.ndarray], pd.Series | None]:
        """The predicted value itself."""
        import numpy as np

        def output(frame: pd.DataFrame) -> np.ndarray:
            return np.asarray(model.predict(frame), dtype=float)

        return output, None


CLASSIFICATION = Classification()
REGRESSION = Regression()
# Every task ``task:`` in the config may name.
TASKS: dict[str, Task] = {task.name: task for task in (CLASSIFICATION, REGRESSION)}


def task_named(name: object) -> Task:
    """The task called ``name`` in the config (a task object passes through)."""
    if isinstance(name, Task):
        return name
    if name is None or name == "":
        raise ValueError(f"name the task: {' or '.join(TASKS)}")
    if not isinstance(name, str) or name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    return TASKS[name]


def class_codes(labels: pd.Series, classes: list[Any]) -> np.ndarray:
    """Each label's position in ``classes``; a label the model never saw is a data error."""
    import pandas as pd

    from .errors import DataError

    codes: np.ndarray = pd.Index(classes).get_indexer(labels)
    if (codes < 0).any():
        unseen = ", ".join(map(str, pd.unique(labels[codes < 0])[:5]))
        known = ", ".join(map(str, classes))
        raise DataError(
            f"target holds classes the model was not trained on: {unseen} (known: {known})"
        )
    return codes
