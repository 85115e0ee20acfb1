"""Experiment tracking and the model registry, with MLflow.

Every training run is logged with its parameters, metrics, lineage tags, dataset, model
(with signature and input example) and the files of its run folder. A run that passes
the quality gate becomes a registered model version; it takes the ``champion`` alias
only if it beats the current champion on the same held-out rows by the configured
margin. ``rollback`` gives the alias back to the previous champion.

With no server the store is a SQLite file inside the project; ``MLFLOW_TRACKING_URI``
(or ``tracking.uri`` in the config) points everything at a shared server instead.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from filelock import FileLock
from mlflow import MlflowClient
from mlflow.data.pandas_dataset import from_pandas
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from . import __version__
from .artifacts import MODEL_HASH, SavedModel, load_run
from .config import Config
from .errors import ModelNotFoundError, ProjectError
from .evaluate import is_better, score

CHAMPION = "champion"
SQLITE = "sqlite:///"
SIGNATURE_ROWS = 100
HISTORY_TAG = "champion_history"
TRUSTED_MODULES = ("sklearn.", "numpy.", "builtins.", "collections.")


@dataclass(frozen=True)
class Promotion:
    """The outcome of comparing a challenger version with the champion."""

    version: str
    promoted: bool
    metric: str
    challenger_score: float
    champion_version: str | None
    champion_score: float | None

    def describe(self) -> str:
        if self.champion_version is None:
            return f"version {self.version} is the first champion ({self.metric}={self.challenger_score:.4f})"
        verdict = "takes" if self.promoted else "does not take"
        return (
            f"version {self.version} ({self.metric}={self.challenger_score:.4f}) {verdict} the "
            f"{CHAMPION} alias from version {self.champion_version} ({self.metric}={self.champion_score:.4f})"
        )


_LOCKS: dict[str, FileLock] = {}


@contextmanager
def session(config: Config) -> Iterator[MlflowClient]:
    """A client for the configured store, with tracking and registry both pointed at it.

    A SQLite store is a single file that two processes must not migrate or write at the
    same moment (two trainings started together would corrupt it), so for SQLite the
    session holds a lock file beside the database; within one process it is reentrant.
    A tracking server does its own locking.
    """
    uri = config.tracking.uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if not uri.startswith(SQLITE):
        yield MlflowClient(tracking_uri=uri, registry_uri=uri)
        return
    path = uri.removeprefix(SQLITE) + ".lock"
    with _LOCKS.setdefault(path, FileLock(path)):
        yield MlflowClient(tracking_uri=uri, registry_uri=uri)  # creates the tables on first use


def retrying(action: Callable[[], Any], attempts: int = 5) -> Any:
    """Run ``action``, retrying when another process changed the store at the same moment.

    Two trainings that start together both try to create the experiment or the next
    model version; the store lets one win and the other must simply look again.
    """
    for attempt in range(attempts - 1):
        try:
            return action()
        except MlflowException:
            time.sleep(0.2 * (attempt + 1) + random.random() * 0.2)  # noqa: S311 - jitter only
    return action()


def skops_trusted_types(model: Any) -> list[str]:
    """The types MLflow's skops copy of ``model`` needs trusted: scikit-learn's and NumPy's.

    MLflow stores its own copy of the model for MLflow's tools, in skops, its safe
    default; the project itself loads the hash-checked file in the run folder.
    """
    import skops.io

    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    refused = [name for name in untrusted if not name.startswith(TRUSTED_MODULES)]
    if refused:
        raise ProjectError(f"model: refusing to log untrusted types {', '.join(refused)}")
    return list(untrusted)


def _flat(params: dict[str, Any]) -> dict[str, str]:
    return {key: str(value)[:500] for key, value in params.items()}


def log_training(
    config: Config, run: Any, pipeline: Any, train_rows: pd.DataFrame, test_rows: pd.DataFrame
) -> Promotion | None:
    """Log one training run; register and compete for the alias if it passed the gate."""
    with session(config) as client:
        retrying(lambda: mlflow.set_experiment(config.tracking.experiment))
        metadata = run.metadata
        # A sample is enough to describe the model's inputs and outputs.
        features = test_rows[config.data.feature_names].head(SIGNATURE_ROWS)
        with mlflow.start_run(run_name=run.run_id) as active:
            mlflow.log_params(
                _flat(
                    {"estimator": config.model.estimator, "seed": config.seed, **metadata["params"]}
                )
            )
            mlflow.log_metrics({**run.metrics, **metadata["cv"]})
            mlflow.set_tags(
                {
                    "run_id": run.run_id,
                    "git_commit": metadata["git"]["commit"] or "none",
                    "git_dirty": str(metadata["git"]["dirty"]),
                    "data_sha256": metadata["data"]["sha256"],
                    "config_sha256": metadata["config_sha256"],
                    "package_version": __version__,
                    "quality_gate": "passed" if run.passed else "failed",
                }
            )
            dataset = from_pandas(
                train_rows,
                source=metadata["data"]["path"],
                targets=config.data.target.name,
                name="training",
                # The data file's own hash: no second pass over the rows.
                digest=metadata["data"]["sha256"][:8],
            )
            mlflow.log_input(dataset, context="training")
            logged = mlflow.sklearn.log_model(
                pipeline,
                name="model",
                serialization_format="skops",
                skops_trusted_types=skops_trusted_types(pipeline),
                signature=infer_signature(features, pipeline.predict(features)),
                input_example=features.head(3),
            )
            mlflow.log_artifacts(str(run.run_dir), artifact_path="run")
        if not run.passed:
            return None
        version = retrying(
            lambda: mlflow.register_model(
                logged.model_uri,
                config.tracking.registered_model,
                tags={"run_id": run.run_id, MODEL_HASH: metadata[MODEL_HASH]},
            )
        )
        client.set_model_version_tag(
            config.tracking.registered_model,
            str(version.version),
            "mlflow_run_id",
            active.info.run_id,
        )
        return promote(config, str(version.version), test_rows, challenger=pipeline)


def load_version(config: Config, version: str) -> SavedModel:
    """The saved run behind a registered version, loaded with the project's own loader.

    The model file must match the hash kept on the version in the registry, not only the
    one in the downloaded run folder: whoever can write to the artifact store alone
    cannot get a different model unpickled.
    """
    with session(config) as client:
        try:
            model_version = client.get_model_version(config.tracking.registered_model, version)
        except MlflowException:
            raise ModelNotFoundError(
                f"no version {version} of registered model {config.tracking.registered_model!r}"
            ) from None
        run_id = model_version.tags["mlflow_run_id"]
        expected = model_version.tags.get(MODEL_HASH)
        if expected is None:
            raise ModelNotFoundError(
                f"version {version} of {config.tracking.registered_model!r} has no "
                f"{MODEL_HASH} tag, so its model will not be unpickled"
            )
        # The model and metadata are in memory once loaded; the download need not outlive it.
        with tempfile.TemporaryDirectory(prefix="registered-") as download:
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path="run", dst_path=download
            )
            return load_run(Path(download), str(Path(download) / "run"), expected_sha256=expected)


def load_registered(config: Config, uri: str) -> SavedModel:
    """Load ``models:/<name>@<alias>`` or ``models:/<name>/<version>``."""
    reference = uri.removeprefix("models:/")
    with session(config) as client:
        if "@" in reference:
            name, alias = reference.split("@", 1)
            try:
                version = client.get_model_version_by_alias(name, alias).version
            except MlflowException:
                raise ModelNotFoundError(f"{uri}: no model version has alias {alias!r}") from None
        else:
            name, _, version = reference.partition("/")
        if name != config.tracking.registered_model:
            raise ModelNotFoundError(
                f"{uri}: this project registers {config.tracking.registered_model!r}"
            )
        return load_version(config, version)


def _champion(client: MlflowClient, name: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def _history(client: MlflowClient, name: str) -> list[str]:
    tags = client.get_registered_model(name).tags
    return [v for v in tags.get(HISTORY_TAG, "").split(",") if v]


def _crown(client: MlflowClient, name: str, version: str, history: list[str]) -> None:
    client.set_registered_model_alias(name, CHAMPION, version)
    client.set_registered_model_tag(name, HISTORY_TAG, ",".join([*history, version]))


def promote(
    config: Config, version: str, held_out: pd.DataFrame, challenger: Any = None
) -> Promotion:
    """Give ``version`` the champion alias if it beats the champion on ``held_out``.

    ``challenger`` is the version's model when the caller already holds it in memory.
    """
    with session(config) as client:
        name = config.tracking.registered_model
        rule = config.tracking.promotion
        features, target = held_out[config.data.feature_names], held_out[config.data.target.name]

        def measure(model: Any) -> float:
            return score(config.task, model, features, target)[rule.metric]

        model = challenger if challenger is not None else load_version(config, version).model
        challenger_score = measure(model)
        champion = _champion(client, name)
        if champion is None or champion == version:
            _crown(client, name, version, _history(client, name))
            return Promotion(version, True, rule.metric, challenger_score, None, None)
        champion_score = measure(load_version(config, champion).model)
        promoted = is_better(
            config.task, rule.metric, challenger_score, champion_score, rule.min_improvement
        )
        if promoted:
            _crown(client, name, version, _history(client, name))
        client.set_model_version_tag(
            name, version, "promotion", "champion" if promoted else "rejected"
        )
        return Promotion(version, promoted, rule.metric, challenger_score, champion, champion_score)


def rollback(config: Config) -> str:
    """Give the champion alias back to the previous champion; return its version."""
    with session(config) as client:
        name = config.tracking.registered_model
        try:
            history = _history(client, name)
        except MlflowException:
            raise ProjectError(
                f"registered model {name!r} does not exist yet: train first"
            ) from None
        if len(history) < 2:
            raise ProjectError(f"{name!r} has no earlier champion to roll back to")
        previous = history[-2]
        client.set_registered_model_alias(name, CHAMPION, previous)
        client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history[:-1]))
        return previous


@contextmanager
def tuning_runs(config: Config) -> Iterator[Callable[[dict[str, Any], float], None]]:
    """A parent run for a tuning study; the yielded function logs one trial as a child."""
    with session(config):
        retrying(lambda: mlflow.set_experiment(config.tracking.experiment))
        with mlflow.start_run(run_name="tuning"):

            def log_trial(params: dict[str, Any], value: float) -> None:
                with mlflow.start_run(nested=True):
                    mlflow.log_params(_flat(params))
                    mlflow.log_metric("cv_score", value)

            yield log_trial
