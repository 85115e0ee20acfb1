"""Batch prediction with the saved pipeline: the same validation and preprocessing as training."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .artifacts import SavedModel, load_run, refuse_overwriting
from .config import CategoricalColumn, Config
from .data import (
    TableWriter,
    checked_rows,
    no_valid_row_error,
    read_batches,
    read_table,
    validate,
)
from .errors import ModelNotFoundError
from .explain import explain_rows

PREDICTION = "prediction"
MODEL_VERSION = "model_version"
EXPLAINED = "explained"


def load_for_inference(
    config: Config, reference: str | None = None, *, allow_external: bool = False
) -> SavedModel:
    """A run folder or run id (default: the latest good run){{ ', or a registry URI such as ``models:/<name>@champion``' if cookiecutter.experiment_tracking == 'mlflow' }}.

    A run folder outside ``paths.models`` is refused unless ``allow_external``.
    """
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    if reference is not None and reference.startswith("models:/"):
        from .registry import load_registered

        saved = load_registered(config, reference)
    else:
        saved = load_run(config.paths.models, reference, allow_external=allow_external)
{%- else %}
    if reference is not None and reference.startswith("models:/"):
        raise ModelNotFoundError(
            f"{reference!r} names a registered model, and the model registry comes with "
            "MLflow tracking, which this project was made without: give a run folder or a "
            "run id"
        )
    saved = load_run(config.paths.models, reference, allow_external=allow_external)
{%- endif %}
    check_trained_on(saved, config)
    return saved


def takes_the_features(saved: SavedModel, config: Config) -> bool:
    """Whether the model was trained on the config's features, in the config's order and
    of the same types (a column that became boolean reaches the model as 1 and 0, where
    it used to be text)."""
    trained = saved.metadata.get("features")
    types = saved.metadata.get("feature_types")
    return (not isinstance(trained, list) or trained == config.data.feature_names) and (
        not isinstance(types, dict)
        or types == {column.name: column.type for column in config.data.features}
    )


def fits_config(saved: SavedModel, config: Config) -> bool:
    """Whether the model can stand in for one trained on ``config``: the same features, the
    same task, and a target of the same type with the same classes.

    A registry champion trained before the data or the task changed can be neither
    compared with nor served in place of a model of the new config.
    """
    metadata, target = saved.metadata, config.data.target
    same_classes = (
        not isinstance(target, CategoricalColumn)
        or not target.allowed
        or set(metadata.get("classes", [])) == set(map(str, target.allowed))
    )
    return (
        takes_the_features(saved, config)
        and metadata.get("task") == config.task.name
        and metadata.get("target_type", target.type) == target.type
        and same_classes
    )


def check_trained_on(saved: SavedModel, config: Config) -> None:
    """Refuse a model trained on other columns than the config lists: it would fail mid-way.

    A user who edits ``data.features`` and predicts before training again gets one line
    that says so, not a traceback from inside the pipeline (or a 500 from the API).
    """
    if not takes_the_features(saved, config):
        trained = ", ".join(
            f"{name} ({kind})" for name, kind in _trained_types(saved.metadata).items()
        )
        listed = ", ".join(f"{c.name} ({c.type})" for c in config.data.features)
        raise ModelNotFoundError(
            f"model {saved.version} was trained on features {trained}; "
            f"the config lists {listed}: train again, or predict "
            "with the config the model was trained with (config.yaml in its run folder)"
        )


def _trained_types(metadata: dict[str, Any]) -> dict[str, str]:
    """The features a model was trained on, with their types where the run recorded them."""
    types = metadata.get("feature_types") or {}
    return {str(name): str(types.get(name, "?")) for name in metadata.get("features", [])}


def probability_column(label: object) -> str:
    """The output column that holds the probability of class ``label``."""
    return f"probability_{label}"


def predict_frame(
    saved: SavedModel, frame: pd.DataFrame, config: Config, *, source: str
) -> pd.DataFrame:
    """Validate ``frame`` and return one row per input: prediction, probabilities, version."""
    features = validate(frame, config.data, with_target=False, source=source)
    return prediction_columns(saved, features, config)


def prediction_columns(saved: SavedModel, features: pd.DataFrame, config: Config) -> pd.DataFrame:
    """For rows already validated: prediction, probabilities and version, one row each."""
    predictions = config.task.predict(saved.model, features)
    output = pd.DataFrame(index=features.index)
    output[PREDICTION] = predictions.labels
    if predictions.probabilities is not None:
        for position, label in enumerate(predictions.classes):
            output[probability_column(label)] = predictions.probabilities[:, position]
    output[MODEL_VERSION] = saved.version
    return output


def explanation_columns(saved: SavedModel, features: pd.DataFrame, config: Config) -> pd.DataFrame:
    """For rows already validated: per-column contributions (see ``explain.explain_rows``),
    after an ``explained`` column that names the output column they explain:
    ``prediction``, or the probability column of the class predicted for that row."""
    contributions, classes = explain_rows(
        saved.model, features, saved.metadata["reference_row"], config.task
    )
    explained = (
        pd.Series(PREDICTION, index=features.index)
        if classes is None
        else classes.map(probability_column)
    )
    return pd.concat(
        [explained.rename(EXPLAINED), contributions.add_prefix("contribution_")], axis=1
    )


BATCH_ROWS = 100_000
"""Rows read, checked and scored at a time: a file of any length takes the memory of one
batch, and a batch is long enough that what each one costs on its own is lost in it."""


@dataclass(frozen=True)
class Scored:
    """What ``predict_file`` wrote: how many rows, and where."""

    output_path: Path
    rows: int
    rejected_rows: int | None = None  # None unless invalid rows were to be set aside
    rejected_path: Path | None = None

    def read_predictions(self) -> pd.DataFrame:
        """The output file, read back whole: for a look at a small one."""
        return read_table(self.output_path)


def rejected_path_for(output_path: Path) -> Path:
    """Where the rows set aside go: ``scored.csv`` -> ``scored.rejected.csv``."""
    return output_path.with_name(f"{output_path.stem}.rejected{output_path.suffix}")


def predict_file(
    config: Config,
    input_path: Path,
    output_path: Path,
    *,
    model: str | None = None,
    allow_external_model: bool = False,
    explain: bool = False,
    skip_invalid: bool = False,
    batch_rows: int | None = None,
) -> Scored:
    """Predict every row of ``input_path``; write its configured columns and the predictions.

    The configured columns are the features, the target when the file has it, and
    ``data.passthrough`` (the keys to join predictions back on); no others are read.
    The file is read, checked, scored and written ``batch_rows`` rows at a time
    (``BATCH_ROWS`` by default); the output appears only once every row is in it. One
    invalid row fails the whole file, unless ``skip_invalid``: then the valid rows are
    scored and the others written beside the output with a ``reason`` column.
    """
    refuse_overwriting(output_path, input_path)
    rejected_path = rejected_path_for(output_path) if skip_invalid else None
    if rejected_path is not None:
        refuse_overwriting(rejected_path, input_path)
    saved = load_for_inference(config, model, allow_external=allow_external_model)
    source = str(input_path)
    with contextlib.ExitStack() as open_files:
        output = open_files.enter_context(TableWriter(output_path, config.data.numeric_features))
        rejected = (
            None if rejected_path is None else open_files.enter_context(TableWriter(rejected_path))
        )
        for frame in read_batches(input_path, config.data, batch_rows or BATCH_ROWS):
            valid, features = checked_rows(
                frame, config.data, source, rejected, passthrough_out=True
            )
            if not features.empty:
                output.write(with_predictions(saved, valid, features, config, explain=explain))
        if rejected is not None and rejected_path is not None and output.rows == 0:
            rejected.close()
            raise no_valid_row_error(rejected.rows, rejected_path, source=source)
    if rejected is None:  # rows set aside by an earlier run would pass for this one's
        rejected_path_for(output_path).unlink(missing_ok=True)
    return Scored(
        output_path, output.rows, None if rejected is None else rejected.rows, rejected_path
    )


def with_predictions(
    saved: SavedModel,
    frame: pd.DataFrame,
    features: pd.DataFrame,
    config: Config,
    *,
    explain: bool,
) -> pd.DataFrame:
    """The rows as read, with the prediction columns (and explanations) after them.

    Batch scoring on one machine and on Spark (``spark_scoring``) both write this.
    """
    added = added_columns(saved, features, config, explain=explain)
    # Scoring an earlier output again replaces its prediction columns instead of doubling them.
    return pd.concat([frame.drop(columns=replaced_by(added, frame)), added], axis=1)


def added_columns(
    saved: SavedModel, features: pd.DataFrame, config: Config, *, explain: bool
) -> pd.DataFrame:
    """For rows already validated: the columns scoring adds, predictions then explanations."""
    added = [prediction_columns(saved, features, config)]
    if explain:
        added.append(explanation_columns(saved, features, config))
    return pd.concat(added, axis=1)


def replaced_by(added: pd.DataFrame, frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` that ``added`` replaces: those of an earlier output."""
    return [column for column in added.columns if column in frame.columns]
