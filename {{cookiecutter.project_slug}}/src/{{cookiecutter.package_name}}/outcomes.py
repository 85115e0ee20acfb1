"""Served predictions joined to the outcomes clients report for them.

The API logs every prediction it makes (``serving.prediction_log``) and every true
outcome sent to ``/feedback`` (``serving.feedback_log``), both keyed by request id and
record index. Joined, they say how each model does on live traffic: ``monitor
--feedback`` scores them per model version and time window, and ``experiment-report``
compares the champion with a challenger.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from .config import Config
from .errors import DataError, ProjectWarning
from .experiments import CHAMPION
from .json_lines import EXPERIMENT, SHADOW_ENTRY, log_files, read_entries
from .tasks import Predictions

# The columns of ``Outcomes.labelled``: one row per prediction whose outcome came back.
COLUMNS = [
    "request_id",
    "index",
    "time",
    "model_version",
    "arm",
    "shadow",
    "prediction",
    "probabilities",
    "actual",
    "experiment",
]


@dataclass(frozen=True)
class Outcomes:
    """How many records each model answered (or shadowed), and those with an outcome."""

    served: Counter[tuple[str, str, bool]]  # (arm, model version, shadow) -> records
    labelled: pd.DataFrame  # COLUMNS
    experiment: str | None = None  # the one experiment read, with ``latest_experiment``


def read_outcomes(
    prediction_log: Path, feedback_log: Path, *, latest_experiment: bool = False
) -> Outcomes:
    """The prediction log joined to the feedback log, reading the predictions once;
    with ``latest_experiment``, only the predictions of the last champion-against-
    challenger experiment the log holds (every prediction, if it holds none).

    Only the predictions that have an outcome are kept, so memory grows with the
    feedback, not with the traffic. A record a shadow model also predicted has two
    rows, one per model: both are scored against the same outcome.
    """
    for log in (prediction_log, feedback_log):
        if not log_files(log):
            raise DataError(f"{log}: log not found")
    actual = _reported_outcomes(feedback_log)
    served: dict[str | None, Counter[tuple[str, str, bool]]] = {}  # per experiment
    latest = None
    rows: list[tuple[Any, ...]] = []
    for entry in read_entries(prediction_log):
        output = entry.get("output")
        if not isinstance(output, dict) or "prediction" not in output:
            continue
        experiment = entry.get(EXPERIMENT)
        if experiment is not None:
            experiment = latest = str(experiment)
        arm, version = str(entry.get("arm", CHAMPION)), str(entry.get("model_version"))
        shadow = bool(entry.get(SHADOW_ENTRY))
        served.setdefault(experiment, Counter())[arm, version, shadow] += 1
        outcome = actual.get((entry.get("request_id"), entry.get("index")), _NONE)
        if outcome is not _NONE:
            probabilities = output.get("probabilities")
            rows.append(
                (
                    entry.get("request_id"),
                    entry.get("index"),
                    entry.get("time"),
                    version,
                    arm,
                    shadow,
                    output["prediction"],
                    probabilities,
                    outcome,
                    experiment,
                )
            )
    if not served and _holds_anything(prediction_log):
        raise DataError(
            f"{prediction_log}: not one of its records is a logged prediction: "
            "is it the prediction log (serving.prediction_log)?"
        )
    labelled = pd.DataFrame(rows, columns=COLUMNS)
    labelled["time"] = pd.to_datetime(labelled["time"], utc=True, errors="coerce")
    if latest_experiment and latest is not None:
        return Outcomes(served[latest], labelled[labelled["experiment"] == latest], latest)
    return Outcomes(sum(served.values(), Counter()), labelled)


_NONE = object()  # no outcome reported: told apart from an outcome of null
OUTCOME_FIELDS = ("request_id", "index", "actual")


def _holds_anything(log: Path) -> bool:
    """Whether the log or a file it was rotated into has any content at all."""
    for file in log_files(log):
        with file.open("rb") as stream:
            if any(line.strip() for line in stream):
                return True
    return False


def _reported_outcomes(feedback_log: Path) -> dict[tuple[Any, Any], Any]:
    """Each reported outcome by (request id, record index). A log none of whose records
    is an outcome is not a feedback log: an error, where a few odd records only warn."""
    actual = {}
    odd = 0
    for entry in read_entries(feedback_log):
        if all(field in entry for field in OUTCOME_FIELDS):
            actual[entry["request_id"], entry["index"]] = entry["actual"]
        else:
            odd += 1
    if not actual and _holds_anything(feedback_log):
        raise DataError(
            f"{feedback_log}: not one of its records is an outcome "
            f"({', '.join(OUTCOME_FIELDS)}): is it the feedback log?"
        )
    if odd:
        warnings.warn(
            f"{feedback_log}: records without an outcome ({', '.join(OUTCOME_FIELDS)}) "
            f"skipped: {odd}",
            ProjectWarning,
            stacklevel=3,
        )
    return actual


class _ClassesOnly:
    """What ``Task.scores_of`` asks of a model, the classes in the order of its
    probabilities, as the log gives them."""

    def __init__(self, classes: list[str]) -> None:
        self.classes_ = np.asarray(classes, dtype=object)


def scores(config: Config, rows: pd.DataFrame) -> dict[str, float] | None:
    """The task's metrics for labelled ``rows`` (``COLUMNS``), or None when they cannot
    be computed from them: too few rows, or a metric that needs what they lack (an
    area under the curve needs outcomes of more than one class)."""
    if len(rows) < 2:
        return None
    task = config.task
    try:
        if not task.has_classes:
            predicted = Predictions(rows["prediction"].to_numpy(float), None, [])
            return task.scores_of(None, predicted, rows["actual"].astype(float))
        classes = list(rows["probabilities"].iloc[0])
        probabilities = np.array([[p[c] for c in classes] for p in rows["probabilities"]])
        labels = rows["prediction"].astype(str).to_numpy()
        predicted = Predictions(labels, probabilities, classes)
        return task.scores_of(_ClassesOnly(classes), predicted, rows["actual"].astype(str))
    except (ValueError, KeyError, TypeError):
        return None


OK, BELOW_GATE, INSUFFICIENT_DATA = "ok", "below_gate", "insufficient_data"
LIVE_FILE = "live_performance.json"


@dataclass(frozen=True)
class LivePerformance:
    """The task's metrics per model version and time window, on the labelled records.

    ``status`` judges the champion on the latest window in which it answered: OK,
    BELOW_GATE (a ``quality_gate`` threshold missed, each in ``failures``) or
    INSUFFICIENT_DATA (fewer labelled records than ``monitoring.min_rows``).
    """

    window: str
    figures: list[dict[str, Any]]
    status: str
    champion: dict[str, Any] | None
    failures: list[str]

    def summary(self) -> str:
        if self.champion is None:
            return "live performance: no outcome of a champion's prediction yet"
        figure = self.champion
        scored = ", ".join(
            f"{name}={value:.4f}" for name, value in (figure["metrics"] or {}).items()
        )
        said = {
            OK: "meets the quality gate",
            BELOW_GATE: "misses the quality gate: " + "; ".join(self.failures),
            INSUFFICIENT_DATA: "too few outcomes to judge (monitoring.min_rows)",
        }[self.status]
        return (
            f"live performance of {figure['model_version']} since {figure['window_start']}: "
            f"{scored or 'not scored'} on {figure['labelled_rows']} labelled records; {said}"
        )


def live_performance(
    config: Config, prediction_log: Path, feedback_log: Path, window: str
) -> LivePerformance:
    """Score every model on its labelled records, per ``window`` (a pandas frequency such
    as ``1D`` or ``6h``), and judge the champion's latest window against the gate."""
    from .evaluate import gate_failures

    labelled = read_outcomes(prediction_log, feedback_log).labelled.dropna(subset=["time"])
    labelled = labelled.assign(window_start=labelled["time"].dt.floor(window))
    keys = ["model_version", "arm", "shadow", "window_start"]
    figures: list[dict[str, Any]] = [
        {
            "model_version": str(version),
            "arm": str(arm),
            "shadow": bool(shadow),
            "window_start": cast(pd.Timestamp, start).isoformat(),
            "labelled_rows": len(rows),
            "metrics": scores(config, rows),
        }
        for (version, arm, shadow, start), rows in labelled.groupby(keys, sort=True)
    ]
    answered = [f for f in figures if f["arm"] == CHAMPION and not f["shadow"]]
    if not answered:
        return LivePerformance(window, figures, INSUFFICIENT_DATA, None, [])
    latest = max(answered, key=lambda figure: figure["window_start"])
    if latest["labelled_rows"] < config.monitoring.min_rows or latest["metrics"] is None:
        return LivePerformance(window, figures, INSUFFICIENT_DATA, latest, [])
    failures = gate_failures(latest["metrics"], config.quality_gate)
    return LivePerformance(window, figures, BELOW_GATE if failures else OK, latest, failures)
