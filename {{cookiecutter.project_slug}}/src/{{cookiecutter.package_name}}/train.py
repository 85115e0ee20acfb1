"""Training: validated data in, a gated, documented and reproducible model run out.

load + validate -> split -> Pipeline(preprocessing, estimator) -> fit
  -> score on held-out rows -> quality gate -> importance -> run folder + model card
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import warnings
{%- if cookiecutter.experiment_tracking == "mlflow" %}
from collections.abc import Callable
{%- endif %}
from dataclasses import dataclass{{ ", replace" if cookiecutter.experiment_tracking == "mlflow" }}
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import Pipeline

from . import artifacts, evaluate, explain, lineage, model_card
from .artifacts import TrainingRun
from .config import FOR_THE_RECORD, Config, portable_path, read_yaml_file, write_yaml
from .data import file_sha256, load_dataset, row_hashes
from .errors import CheckFailedError, ConfigError, ProjectWarning
from .features import build_preprocessor
from .profiles import PROFILE, profile


{%- if cookiecutter.experiment_tracking == "mlflow" %}

LogRun = Callable[[TrainingRun, pd.DataFrame], "str | None"]
"""Logs a finished run, given its held-out rows; returns what the model registry decided."""
{%- endif %}


def build_estimator(config: Config) -> BaseEstimator:
    """Instantiate the estimator the config names, seeding it when it takes a seed."""
    module_name, _, class_name = config.model.estimator.rpartition(".")
    try:
        estimator_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise ConfigError(f"model.estimator: cannot import {config.model.estimator!r}") from None
    # Checked on the class, before anything is built: the config names what is imported
    # and called, and only an estimator class may be.
    if not (isinstance(estimator_class, type) and issubclass(estimator_class, BaseEstimator)):
        raise ConfigError(
            f"model.estimator: {config.model.estimator!r} is not a scikit-learn estimator class"
        )
    params = dict(config.model.params)
    if "random_state" in inspect.signature(estimator_class).parameters:
        params.setdefault("random_state", config.seed)
    try:
        estimator = estimator_class(**params)
    except TypeError as error:
        raise ConfigError(f"model.params: {error}{_tuned_hint(config)}") from None
    if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
        raise ConfigError(f"model.estimator: {config.model.estimator!r} is not an estimator")
    # scikit-learn checks parameter values only when fitting; check them now, in one line.
    validate_params = getattr(estimator, "_validate_params", None)
    if callable(validate_params):
        try:
            validate_params()
        except (ValueError, TypeError) as error:
            first_line = str(error).strip().splitlines()[0]
            raise ConfigError(f"model.params: {first_line}{_tuned_hint(config)}") from None
    problem = config.task.estimator_problem(estimator)
    if problem is not None:
        raise ConfigError(f"model.estimator: {config.model.estimator!r} {problem}")
    return estimator


def _tuned_hint(config: Config) -> str:
    """Where a parameter may have come from when it was not in ``model.params``."""
    tuned_file = config.model.params_file
    if tuned_file is None or not tuned_file.is_file():
        return ""
    if not read_yaml_file(tuned_file, "tuned parameters"):
        return ""
    return (
        f" (with the parameters in {tuned_file}, which tune found for the estimator it "
        "searched: run tune again, or empty that file)"
    )


def build_pipeline(config: Config) -> Pipeline:
    """Preprocessing and estimator in one object: the artifact every consumer loads."""
    return Pipeline(
        [("preprocess", build_preprocessor(config.data)), ("model", build_estimator(config))]
    )


def split(frame: pd.DataFrame, config: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A deterministic train/test split, stratified by class when asked to."""
    target = frame[config.data.target.name]
    stratify = config.task.stratify_by(target) if config.split.stratify else None
    try:
        train, test = train_test_split(
            frame, test_size=config.split.test_size, random_state=config.seed, stratify=stratify
        )
    except ValueError as error:
        raise ConfigError(f"split: {error}") from None
    return train, test


SAMPLED_ROWS = 1000


def training_row_sample(train_rows: pd.DataFrame, config: Config) -> list[str]:
    """Hashes of up to 1,000 training rows, drawn at random, for ``evaluate`` to tell when
    it is handed rows the model was trained on. A whole training file is found for sure;
    a share of training rows is estimated to within a few percent."""
    count = min(SAMPLED_ROWS, len(train_rows))
    sample = train_rows.sample(n=count, random_state=config.seed)
    columns = [*config.data.feature_names, config.data.target.name]
    return [f"{value:016x}" for value in row_hashes(sample, columns)]


def held_out_fingerprint(config: Config, data_sha256: str) -> str:
    """A name for the held-out rows that takes no pass over them.

    The same data file, read through the same schema and split with the same settings
    and seed, gives the same rows: two scores recorded with the same fingerprint were
    measured on the same rows and can be compared without scoring either model again.
    """
    recipe = {
        "data": data_sha256,
        "schema": config.data.model_dump(mode="json", exclude={"path"}),
        "split": config.split.model_dump(mode="json"),
        "seed": config.seed,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()

{%- if cookiecutter.experiment_tracking == "mlflow" %}


def held_out_rows(config: Config, data_path: Path) -> pd.DataFrame:
    """The rows ``train`` held out of ``data_path``: the split is deterministic."""
    return split(load_dataset(config.data, data_path), config)[1]


def log_in_process(config: Config, run: TrainingRun, test_rows: pd.DataFrame) -> str | None:
    """Log ``run`` to MLflow from this process; see ``tracking_worker`` for the other way."""
    from .registry import HeldOut
    from .tracking import log_training

    fingerprint = run.metadata["data"]["held_out_fingerprint"]
    example = test_rows[config.data.feature_names]
    promotion = log_training(config, run, example, HeldOut(fingerprint, lambda: test_rows))
    return None if promotion is None else promotion.describe()
{%- endif %}


def train(
    config: Config,
    data_path: Path | None = None,
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    log_run: LogRun | None = None,
{%- endif %}
) -> TrainingRun:
    """Train, evaluate, gate and save one run; raise ``CheckFailedError`` if the gate fails.

    A failed run is still saved for inspection, but ``latest`` keeps pointing at the last
    good model, so batch prediction and serving never pick up a model that missed the gate.
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    With tracking on, ``log_run`` logs the run (by default from this process).
{%- endif %}
    """
    source = Path(data_path or config.data.path)
    frame = load_dataset(config.data, source)
    misleading_card = model_card.describes_other_data(config, source)
    if misleading_card:
        warnings.warn(misleading_card, ProjectWarning, stacklevel=2)
    train_rows, test_rows = split(frame, config)
    fitted = fit_and_score(config, train_rows, test_rows)
    run = save_run(config, fitted, describe_run(config, source, fitted, train_rows, test_rows))
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    if config.tracking.enabled:
        log = log_run or (lambda run, rows: log_in_process(config, run, rows))
        run = replace(run, promotion=log(run, test_rows))
{%- endif %}
    if not run.passed:
        raise CheckFailedError(
            f"quality gate failed for run {run.run_id}: {'; '.join(run.failures)} "
            f"(saved in {run.run_dir} for inspection, not marked as latest)"
        )
    artifacts.mark_latest(config.paths.models, run.run_id)
    publish_reports(run.run_dir, config.paths.reports)
    return run


@dataclass(frozen=True)
class FittedModel:
    """A pipeline fitted on the training rows, and what it scored on the held-out ones."""

    pipeline: Pipeline
    metrics: dict[str, float]
    cv_scores: dict[str, float]  # empty unless cv_folds is set
    failures: list[str]  # quality-gate failures
    importance: dict[str, float]


def fit_and_score(config: Config, train_rows: pd.DataFrame, test_rows: pd.DataFrame) -> FittedModel:
    """Cross-validate if asked, fit, score on the held-out rows, gate, rank the features."""
    features, target = config.data.feature_names, config.data.target.name
    cv_scores = cross_validate(config, train_rows) if config.cv_folds else {}
    pipeline = build_pipeline(config)
    pipeline.fit(train_rows[features], train_rows[target])
    metrics = config.task.scores(pipeline, test_rows[features], test_rows[target])
    if set(metrics) != set(config.task.metrics):
        raise ConfigError(
            f"task {config.task}: scores() gave {', '.join(sorted(metrics))} where its "
            f"metrics declare {', '.join(sorted(config.task.metrics))}: make the two agree"
        )
    return FittedModel(
        pipeline,
        metrics,
        cv_scores,
        evaluate.gate_failures(metrics, config.quality_gate),
        explain.feature_importance(pipeline, test_rows[features], test_rows[target], config),
    )


def cross_validate(config: Config, train_rows: pd.DataFrame) -> dict[str, float]:
    """Mean and spread of the task's cross-validation metric over ``cv_folds`` folds."""
    folds = cross_val_score(
        build_pipeline(config),
        train_rows[config.data.feature_names],
        train_rows[config.data.target.name],
        cv=config.cv_folds,
        scoring=config.task.cross_validation.scorer,
    )
    cv_mean = config.task.cross_validation.value(float(folds.mean()))
    return {"cv_mean": cv_mean, "cv_std": float(folds.std())}


def describe_run(
    config: Config,
    source: Path,
    fitted: FittedModel,
    train_rows: pd.DataFrame,
    test_rows: pd.DataFrame,
) -> dict[str, Any]:
    """The run's metadata: results, what the model expects, and where it came from."""
    features = config.data.feature_names
    data_sha256 = file_sha256(source)
    return {
        "run_id": artifacts.new_run_id(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "task": config.task.name,
        "seed": config.seed,
        "estimator": config.model.estimator,
        "params": fitted.pipeline.named_steps["model"].get_params(),
        "metrics": fitted.metrics,
        "cv": fitted.cv_scores,
        "quality_gate": {"passed": not fitted.failures, "failures": fitted.failures},
        "feature_importance": fitted.importance,
        "features": features,  # what the pipeline expects, in order
        "feature_types": {column.name: column.type for column in config.data.features},
        "target_type": config.data.target.type,
        "reference_row": explain.reference_row(train_rows[features], config.data),
        PROFILE: profile(train_rows, config).to_dict(),
        "classes": [str(c) for c in getattr(fitted.pipeline, "classes_", [])],
        "data": {
            "path": portable_path(source),
            "sha256": data_sha256,
            "train_rows": len(train_rows),
            "test_rows": len(test_rows),
            "held_out_fingerprint": held_out_fingerprint(config, data_sha256),
            evaluate.TRAINING_ROW_SAMPLE: training_row_sample(train_rows, config),
        },
        "config_sha256": config.fingerprint(),
        "git": lineage.git_state(),
        "versions": lineage.package_versions(),
    }


def save_run(config: Config, fitted: FittedModel, metadata: dict[str, Any]) -> TrainingRun:
    """Write the run folder at once or not at all: model, metadata, metrics, config, card."""
    run_id = metadata["run_id"]
    models_dir = config.paths.models
    with artifacts.staged_run(models_dir, run_id) as staging:
        metadata[artifacts.MODEL_HASH] = artifacts.save_model(
            fitted.pipeline, staging / artifacts.MODEL_FILE
        )
        metadata = artifacts.sealed(metadata)
        artifacts.write_json(staging / artifacts.METADATA_FILE, metadata)
        artifacts.write_json(staging / "metrics.json", {**fitted.metrics, **fitted.cv_scores})
        artifacts.atomic_write_text(
            staging / "config.yaml",
            write_yaml(config.model_dump(mode="json", context=FOR_THE_RECORD), sort_keys=False),
        )
        artifacts.atomic_write_text(staging / "model_card.md", model_card.render(metadata, config))
        explain.plot_importance(fitted.importance, staging / "feature_importance.png")
    run_dir = models_dir / "runs" / run_id
    return TrainingRun(
        run_id, run_dir, fitted.metrics, not fitted.failures, fitted.failures, metadata
    )


def publish_reports(run_dir: Path, reports_dir: Path) -> None:
    """Copy the latest good run's card and plot to ``reports/`` where people look for them."""
    for name in ("model_card.md", "feature_importance.png", "metrics.json"):
        artifacts.atomic_copy(run_dir / name, reports_dir / name)
