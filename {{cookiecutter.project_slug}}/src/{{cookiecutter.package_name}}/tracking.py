"""Experiment tracking with MLflow: training runs and tuning studies.

Every training run is logged with its parameters, metrics, lineage tags, dataset, model
(with signature and input example) and the reports of its run folder; one that passes the
quality gate is handed to the registry (``registry.py``).

The logged model is the run folder's own pickle, wrapped in MLflow's scikit-learn
format: the model is serialized once per run, and the file MLflow's tools load is the
one whose hash the registry keeps.
"""

from __future__ import annotations

import contextlib
import getpass
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from importlib.metadata import packages_distributions, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.data.pandas_dataset import PandasDataset
from mlflow.entities import Metric, Param
from mlflow.models import Model, ModelSignature
from mlflow.models.model import ModelInfo
from mlflow.types import ColSpec, Schema
from mlflow.utils.mlflow_tags import (
    MLFLOW_GIT_COMMIT,
    MLFLOW_PARENT_RUN_ID,
    MLFLOW_SOURCE_NAME,
    MLFLOW_SOURCE_TYPE,
    MLFLOW_USER,
)

from . import __version__
from .artifacts import EXAMPLE_ROWS, METADATA_FILE, METADATA_HASH, MODEL_FILE, MODEL_HASH
from .config import CategoricalColumn, Column, Config
from .leftovers import owner
from .mlflow_store import OWNER_TAG, open_experiment, retrying, session
from .registry import HELD_OUT_TAG, HeldOut, Promotion, promote, register

if TYPE_CHECKING:
    from .artifacts import TrainingRun

# The run folder but its model file, logged with the run; the model is logged once, as the model.
RUN_FILES = (
    METADATA_FILE,
    "model_card.md",
    "feature_importance.png",
    "metrics.json",
    "config.yaml",
)
# What MLflow's tools need installed to load and serve the pickled pipeline.
MODEL_PACKAGES = ("mlflow", "scikit-learn", "scipy", "numpy", "pandas")


def _flat(params: dict[str, Any]) -> dict[str, str]:
    return {key: str(value)[:500] for key, value in params.items()}


# MLflow's names for the config's column types; numbers and booleans (1 and 0 by the time
# the model sees them) are doubles.
MLFLOW_TYPES = {"categorical": "string", "datetime": "datetime"}


def mlflow_schema(columns: list[Column]) -> Schema:
    """The config's schema in MLflow's terms: declared once, never inferred from the rows."""
    return Schema(
        [
            ColSpec(
                MLFLOW_TYPES.get(column.type, "double"), column.name, required=not column.nullable
            )
            for column in columns
        ]
    )


class TrainingDataset(PandasDataset):
    """The training rows as an MLflow dataset, described by the config and the run's counts.

    MLflow would otherwise infer the schema by inspecting every value of every text
    column, which takes seconds on a large table and can only rediscover the config; the
    rows themselves need not reach the process that logs the run.
    """

    def __init__(self, config: Config, source: str, digest: str, rows: int) -> None:
        with warnings.catch_warnings():
            # MLflow registers two equal sources for local paths and warns that it picked one.
            warnings.filterwarnings("ignore", "The specified dataset source", UserWarning)
            resolved = resolve_dataset_source(source)
        target = config.data.target
        columns = [*config.data.features, target]
        empty = pd.DataFrame(columns=[column.name for column in columns])
        super().__init__(
            empty, source=resolved, targets=target.name, name="training", digest=digest
        )
        self._declared = mlflow_schema(columns)
        self._profile = {"num_rows": rows, "num_elements": rows * len(columns)}

    @property
    def schema(self) -> Schema:
        return self._declared

    @property
    def profile(self) -> dict[str, int]:
        return self._profile


class RunFolderFlavor:
    """Saves an MLflow model around the pickle training already wrote, not a new copy.

    ``mlflow.models.Model.log`` calls ``save_model`` with the folder to fill; what it
    writes is what ``mlflow.sklearn.save_model`` would write for a pickled pipeline
    (``MLmodel``, the model file, an input example, requirements), plus the run's
    ``metadata.json``, so the registered model alone is enough to load it back here.
    """

    @staticmethod
    def save_model(
        path: str,
        mlflow_model: Model,
        *,
        run_dir: Path,
        signature: ModelSignature,
        input_example: pd.DataFrame,
        requirements: list[str],
        **_: Any,
    ) -> None:
        from mlflow.models.utils import _save_example  # the sklearn flavour's own helper

        folder = Path(path)
        folder.mkdir(parents=True)
        for name in (MODEL_FILE, METADATA_FILE):
            shutil.copyfile(run_dir / name, folder / name)
        mlflow_model.signature = signature
        _save_example(mlflow_model, input_example, path)
        mlflow.pyfunc.add_to_model(
            mlflow_model, loader_module="mlflow.sklearn", model_path=MODEL_FILE
        )
        mlflow_model.add_flavor(
            mlflow.sklearn.FLAVOR_NAME,
            pickled_model=MODEL_FILE,
            sklearn_version=version("scikit-learn"),
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
            code=None,
        )
        mlflow_model.save(str(folder / "MLmodel"))
        (folder / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")


def model_requirements(config: Config) -> list[str]:
    """Pinned requirements of the logged model, from what is installed, not from a resolver.

    An estimator from outside scikit-learn (``xgboost.XGBRegressor``, say) adds the
    distribution that provides it.
    """
    packages = list(MODEL_PACKAGES)
    top_module = config.model.estimator.split(".")[0]
    if top_module != "sklearn":
        packages += packages_distributions().get(top_module, [])
    return [f"{package}=={version(package)}" for package in dict.fromkeys(packages)]


def _signature(config: Config) -> ModelSignature:
    target = config.data.target
    output = {"categorical": "string", "boolean": "boolean"}.get(target.type, "double")
    if isinstance(target, CategoricalColumn) and target.numbered_classes:
        output = "long"
    return ModelSignature(
        inputs=mlflow_schema(list(config.data.features)), outputs=Schema([ColSpec(output)])
    )


def _run_tags(run: TrainingRun) -> dict[str, str]:
    """Lineage tags, plus the user, source and commit tags MLflow's UI shows.

    MLflow's own guesses for those would look for the commit of the command's script,
    which lives in the git-ignored virtual environment: they cost a GitPython import and
    a ``git`` call on every run to find nothing.
    """
    metadata = run.metadata
    commit = metadata["git"]["commit"]
    tags = {
        "run_id": run.run_id,
        "git_commit": commit or "none",
        "git_dirty": str(metadata["git"]["dirty"]),
        "data_sha256": metadata["data"]["sha256"],
        "config_sha256": metadata["config_sha256"],
        "package_version": __version__,
        "quality_gate": "passed" if run.passed else "failed",
        OWNER_TAG: owner(),
        MLFLOW_SOURCE_NAME: f"{__package__}.train",
        MLFLOW_SOURCE_TYPE: "LOCAL",
    }
    with contextlib.suppress(Exception):  # no login name in some containers
        tags[MLFLOW_USER] = getpass.getuser()
    if commit:
        tags[MLFLOW_GIT_COMMIT] = commit
    return tags


def log_training(
    config: Config, run: TrainingRun, example: pd.DataFrame, held_out: HeldOut
) -> Promotion | None:
    """Log one training run; register and compete for the alias if it passed the gate.

    ``example`` holds a few rows of features, saved with the model as its input example.
    """
    with session(config) as client:
        experiment_id = open_experiment(client, config)
        created = client.create_run(experiment_id, run_name=run.run_id, tags=_run_tags(run))
        with mlflow.start_run(run_id=created.info.run_id):
            _log_results(config, run)
            logged = _log_model(config, run, example)
            for name in RUN_FILES:
                mlflow.log_artifact(str(run.run_dir / name), artifact_path="run")
        if not run.passed:
            return None
        name = config.tracking.registered_model
        version = retrying(lambda: register(client, name, logged, _version_tags(run)))
        return promote(config, version, held_out, run.metrics[config.tracking.promotion.metric])


def _log_results(config: Config, run: TrainingRun) -> None:
    """The run's parameters, metrics and training dataset."""
    metadata = run.metadata
    params = {"estimator": config.model.estimator, "seed": config.seed, **metadata["params"]}
    mlflow.log_params(_flat(params))
    mlflow.log_metrics({**run.metrics, **metadata["cv"]})
    # The data file's own hash is the digest: no second pass over the rows.
    data = metadata["data"]
    dataset = TrainingDataset(config, data["path"], data["sha256"][:8], data["train_rows"])
    # Two runs that log the same dataset at once race to create it; the loser looks again.
    retrying(lambda: mlflow.log_input(dataset, context="training"))


def _log_model(config: Config, run: TrainingRun, example: pd.DataFrame) -> ModelInfo:
    """The run folder's model, as an MLflow model with its signature and input example."""
    logged: ModelInfo = Model.log(
        artifact_path=None,  # superseded by name, but still a required argument
        name="model",
        flavor=RunFolderFlavor,
        flavor_name="mlflow.sklearn",
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        run_dir=run.run_dir,
        signature=_signature(config),
        input_example=example.head(EXAMPLE_ROWS),
        requirements=model_requirements(config),
        validate_serving_input=False,  # the pipeline just scored these rows
    )
    return logged


def _version_tags(run: TrainingRun) -> dict[str, str]:
    """What the registry keeps on the version: the hashes its loading checks, and the rows
    its metrics were measured on."""
    metadata = run.metadata
    return {
        "run_id": run.run_id,
        MODEL_HASH: metadata[MODEL_HASH],
        METADATA_HASH: metadata[METADATA_HASH],
        HELD_OUT_TAG: metadata["data"][HELD_OUT_TAG],
    }


@contextlib.contextmanager
def tuning_runs(config: Config) -> Iterator[Callable[[dict[str, Any], float], None]]:
    """A parent run for a tuning study; the yielded function logs one trial as a child.

    The store is opened for each write rather than for the whole study: with a SQLite
    store, the session's lock would otherwise keep a second worker on this machine
    waiting until the first had finished.
    """
    with session(config) as client:
        experiment_id = open_experiment(client, config)
        parent = client.create_run(experiment_id, run_name="tuning", tags={OWNER_TAG: owner()})
    parent_id = parent.info.run_id
    metric = f"cv_{config.task.cross_validation.name}"

    def log_trial(params: dict[str, Any], value: float) -> None:
        with session(config) as client:
            tags = {OWNER_TAG: owner(), MLFLOW_PARENT_RUN_ID: parent_id}
            trial = client.create_run(experiment_id, tags=tags).info.run_id
            client.log_batch(
                trial,
                metrics=[Metric(metric, value, int(time.time() * 1000), 0)],
                params=[Param(name, value) for name, value in _flat(params).items()],
            )
            client.set_terminated(trial)

    status = "FAILED"
    try:
        yield log_trial
        status = "FINISHED"
    finally:
        with session(config) as client:
            client.set_terminated(parent_id, status)
