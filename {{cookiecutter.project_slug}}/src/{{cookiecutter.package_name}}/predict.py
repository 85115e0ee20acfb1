"""Batch prediction with the saved pipeline: the same validation and preprocessing as training."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .artifacts import SavedModel, load_run
from .config import Config
from .data import read_table, validate, write_table
from .explain import explain_rows

PREDICTION = "prediction"
MODEL_VERSION = "model_version"


def load_for_inference(config: Config, reference: str | None = None) -> SavedModel:
    """A run folder or run id (default: the latest good run){{ ', or a registry URI such as ``models:/<name>@champion``' if cookiecutter.experiment_tracking == 'mlflow' }}."""
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    if reference is not None and reference.startswith("models:/"):
        from .tracking import load_registered

        return load_registered(config, reference)
{%- endif %}
    return load_run(config.paths.models, reference)


def predict_frame(
    saved: SavedModel, frame: pd.DataFrame, config: Config, *, source: str
) -> pd.DataFrame:
    """Validate ``frame`` and return one row per input: prediction, probabilities, version."""
    features = validate(frame, config.data, with_target=False, source=source)
    output = pd.DataFrame(index=features.index)
    output[PREDICTION] = saved.model.predict(features)
    if config.task == "classification":
        probabilities = saved.model.predict_proba(features)
        for position, label in enumerate(saved.model.classes_):
            output[f"probability_{label}"] = probabilities[:, position]
    output[MODEL_VERSION] = saved.version
    return output


def explain_frame(
    saved: SavedModel, frame: pd.DataFrame, config: Config, *, source: str
) -> pd.DataFrame:
    """Per-column contributions for each row (see ``explain.explain_rows``)."""
    features = validate(frame, config.data, with_target=False, source=source)
    contributions = explain_rows(
        saved.model, features, saved.metadata["reference_row"], config.task
    )
    return contributions.add_prefix("contribution_")


def predict_file(
    config: Config,
    input_path: Path,
    output_path: Path,
    *,
    model: str | None = None,
    explain: bool = False,
) -> pd.DataFrame:
    """Predict every row of ``input_path`` and write input + predictions to ``output_path``."""
    saved = load_for_inference(config, model)
    frame = read_table(input_path)
    predictions = predict_frame(saved, frame, config, source=str(input_path))
    parts = [frame, predictions]
    if explain:
        parts.append(explain_frame(saved, frame, config, source=str(input_path)))
    result = pd.concat(parts, axis=1)
    write_table(result, output_path)
    return result
