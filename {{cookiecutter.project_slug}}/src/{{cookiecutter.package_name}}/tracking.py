"""Experiment tracking and the model registry, with MLflow.

Every training run is logged with its parameters, metrics, lineage tags, dataset, model
(with signature and input example) and the reports of its run folder. A run that passes
the quality gate becomes a registered model version; it takes the ``champion`` alias
only if it beats the current champion on the same held-out rows by the configured
margin. ``rollback`` gives the alias back to the previous champion.

The logged model is the run folder's own pickle, wrapped in MLflow's scikit-learn
format: the model is serialized once per run, and the file MLflow's tools load is the
one whose hash the registry keeps.

With no server the store is a SQLite file inside the project; ``MLFLOW_TRACKING_URI``
(or ``tracking.uri`` in the config) points everything at a shared server instead.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
import random
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import packages_distributions, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
from filelock import FileLock
from mlflow import MlflowClient
from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.data.pandas_dataset import PandasDataset
from mlflow.exceptions import MlflowException
from mlflow.models import Model, ModelSignature
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode
from mlflow.types import ColSpec, Schema
from mlflow.utils.mlflow_tags import (
    MLFLOW_GIT_COMMIT,
    MLFLOW_SOURCE_NAME,
    MLFLOW_SOURCE_TYPE,
    MLFLOW_USER,
)

from . import __version__
from .artifacts import (
    EXAMPLE_ROWS,
    METADATA_FILE,
    METADATA_HASH,
    MODEL_FILE,
    MODEL_HASH,
    SavedModel,
    load_run,
)
from .config import CategoricalColumn, Column, Config
from .errors import ModelNotFoundError, ProjectError
from .leftovers import HOST, abandoned, owner

if TYPE_CHECKING:
    from .artifacts import TrainingRun

# A tracking server that does not answer fails a command within seconds: MLflow's own
# defaults retry for minutes first. Setting these variables yourself overrides them.
HTTP_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
CHAMPION = "champion"
SQLITE = "sqlite:///"
HISTORY_TAG = "champion_history"
HELD_OUT_TAG = "held_out_fingerprint"  # which held-out rows the version's metrics came from
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
        if self.champion_version == self.version:
            return f"version {self.version} already holds the {CHAMPION} alias"
        if self.champion_version is None:
            return f"version {self.version} is the first champion ({self.metric}={self.challenger_score:.4f})"
        if self.champion_score is None:
            return (
                f"version {self.version} ({self.metric}={self.challenger_score:.4f}) takes the "
                f"{CHAMPION} alias from version {self.champion_version}, which the config no "
                "longer fits (other columns or types, or another task): not compared"
            )
        verdict = "takes" if self.promoted else "does not take"
        return (
            f"version {self.version} ({self.metric}={self.challenger_score:.4f}) {verdict} the "
            f"{CHAMPION} alias from version {self.champion_version} ({self.metric}={self.champion_score:.4f})"
        )


_LOCKS: dict[str, FileLock] = {}


@contextlib.contextmanager
def session(config: Config) -> Iterator[MlflowClient]:
    """A client for the configured store, with tracking and registry both pointed at it.

    A SQLite store is a single file that two processes must not migrate or write at the
    same moment (two trainings started together would corrupt it), so for SQLite the
    session holds a lock file beside the database; within one process it is reentrant.
    A tracking server does its own locking. An error MLflow raises inside the session
    becomes one readable line; the store's address is left out, as it may hold a password.
    """
    uri = config.tracking.uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        if not uri.startswith(SQLITE):
            for name, value in HTTP_RETRIES.items():
                os.environ.setdefault(name, value)
            yield MlflowClient(tracking_uri=uri, registry_uri=uri)
            return
        path = uri.removeprefix(SQLITE) + ".lock"
        with _LOCKS.setdefault(path, FileLock(path)):
            # Creates the tables on first use, which is what the lock guards.
            yield MlflowClient(tracking_uri=uri, registry_uri=uri)
    except MlflowException as error:
        summary = str(error.message).strip().splitlines()[0] if str(error.message).strip() else ""
        raise ProjectError(f"tracking: {summary or type(error).__name__}") from None


OWNER_TAG = "owner"  # <host>-<pid> of the process that holds the run open


def fail_abandoned_runs(client: MlflowClient, experiment_id: str) -> None:
    """Mark FAILED the runs still RUNNING whose process, on this host, is gone.

    A command killed while it logs leaves its run RUNNING for ever; the next one to log
    ends it. Runs of live processes, and of other hosts, are left alone.
    """
    running = client.search_runs(
        [experiment_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.{OWNER_TAG} LIKE '{HOST}-%'",
    )
    for run in running:
        if abandoned(run.data.tags[OWNER_TAG]):
            client.set_terminated(run.info.run_id, "FAILED")


def use_experiment(config: Config) -> Any:
    """Make the configured experiment the active one, creating it on first use.

    With a SQLite store its artifacts go in ``mlruns/`` beside the database file:
    MLflow's own default is ``mlruns/`` in whatever folder the command happened to run in.
    """
    name = config.tracking.experiment
    uri = config.tracking.uri
    if uri.startswith(SQLITE) and mlflow.get_experiment_by_name(name) is None:
        artifacts = Path(uri.removeprefix(SQLITE)).resolve().parent / "mlruns"
        mlflow.create_experiment(name, artifact_location=artifacts.as_uri())
    return mlflow.set_experiment(name)


def retrying(action: Callable[[], Any], attempts: int = 5) -> Any:
    """Run ``action``, retrying when another process changed the store at the same moment.

    Two trainings that start together both try to create the experiment or the next
    model version; the store lets one win and the other must simply look again.
    """
    for attempt in range(attempts - 1):
        try:
            return action()
        except MlflowException as error:
            if _server_unreachable(error):
                raise  # MLflow's own HTTP retries have already been spent
            time.sleep(0.2 * (attempt + 1) + random.random() * 0.2)  # noqa: S311 - jitter only
    return action()


def _server_unreachable(error: BaseException) -> bool:
    """Whether MLflow gave up on a request the tracking server never answered.

    MLflow wraps the network error it gave up on; those (``requests``' included) are
    ``OSError``s, which no conflict between two writers to the store ever is.
    """
    cause = error.__cause__ or error.__context__
    while cause is not None:
        if isinstance(cause, OSError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


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


def _register(client: MlflowClient, name: str, logged: Any, tags: dict[str, str]) -> str:
    """Create the next version of ``name`` from the logged model (and ``name`` if new)."""
    try:
        client.create_registered_model(name)
    except MlflowException as error:
        if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
    version = client.create_model_version(
        name, logged.model_uri, run_id=logged.run_id, tags=tags, model_id=logged.model_id
    )
    return str(version.version)


def open_store(config: Config) -> None:
    """Open the configured store; MLflow keeps it open for the rest of the process.

    The first store a process opens imports MLflow's database layer, which costs as much
    as importing MLflow itself; the CLI does it while it loads the other libraries.
    """
    with session(config):
        pass


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
    metadata = run.metadata
    with session(config) as client:
        experiment = retrying(lambda: use_experiment(config))
        fail_abandoned_runs(client, experiment.experiment_id)
        created = client.create_run(
            experiment.experiment_id, run_name=run.run_id, tags=_run_tags(run)
        )
        with mlflow.start_run(run_id=created.info.run_id):
            mlflow.log_params(
                _flat(
                    {"estimator": config.model.estimator, "seed": config.seed, **metadata["params"]}
                )
            )
            mlflow.log_metrics({**run.metrics, **metadata["cv"]})
            # The data file's own hash is the digest: no second pass over the rows.
            data = metadata["data"]
            dataset = TrainingDataset(config, data["path"], data["sha256"][:8], data["train_rows"])
            mlflow.log_input(dataset, context="training")
            logged = Model.log(
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
            for name in RUN_FILES:
                mlflow.log_artifact(str(run.run_dir / name), artifact_path="run")
        if not run.passed:
            return None
        version = retrying(
            lambda: _register(
                client,
                config.tracking.registered_model,
                logged,
                {
                    "run_id": run.run_id,
                    MODEL_HASH: metadata[MODEL_HASH],
                    METADATA_HASH: metadata[METADATA_HASH],
                    HELD_OUT_TAG: metadata["data"][HELD_OUT_TAG],
                },
            )
        )
        return promote(config, version, held_out, run.metrics[config.tracking.promotion.metric])


def load_version(config: Config, version: str) -> SavedModel:
    """A registered version's model, loaded with the project's own hash-checked loader.

    The model file must match the hash kept on the version in the registry, not only the
    one in the downloaded metadata: whoever can write to the artifact store alone
    cannot get a different model unpickled.
    """
    name = config.tracking.registered_model
    with session(config) as client:
        try:
            model_version = client.get_model_version(name, version)
        except MlflowException:
            raise ModelNotFoundError(f"no version {version} of registered model {name!r}") from None
        expected = model_version.tags.get(MODEL_HASH)
        expected_metadata = model_version.tags.get(METADATA_HASH)
        if expected is None or expected_metadata is None:
            raise ModelNotFoundError(
                f"version {version} of {name!r} lacks the {MODEL_HASH} or {METADATA_HASH} "
                "tag, so its model will not be unpickled"
            )
        # The model and metadata are in memory once loaded; the download need not outlive it.
        with tempfile.TemporaryDirectory(prefix="registered-") as download:
            mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{name}/{version}", dst_path=download
            )
            if not (Path(download) / MODEL_FILE).is_file():
                raise ModelNotFoundError(
                    f"version {version} of {name!r} holds no {MODEL_FILE}: it was not logged "
                    "by this project's train command"
                )
            return load_run(
                Path(download),
                download,
                expected_sha256=expected,
                expected_metadata_sha256=expected_metadata,
            )


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


PROMOTION_LOCK = "{name}.promotion-lock"
LOCK_WAIT_SECONDS = 60.0
LOCK_STALE_SECONDS = 600.0  # a lock this old, held from another host, is taken as abandoned


def _lock_is_abandoned(client: MlflowClient, lock: str) -> bool:
    try:
        held = client.get_registered_model(lock)
    except MlflowException:
        return False  # released meanwhile: simply try again
    holder = held.tags.get(OWNER_TAG, "")
    age = time.time() - (held.creation_timestamp or 0) / 1000
    return abandoned(holder) or age > LOCK_STALE_SECONDS


@contextlib.contextmanager
def promotion_lock(client: MlflowClient, name: str) -> Iterator[None]:
    """Hold the lock on ``name``'s champion alias while comparing and setting it.

    MLflow has no compare-and-set, but creating a registered model either succeeds or
    fails because it exists, on a tracking server as on a file: the lock is a registered
    model that exists while a promotion holds it. Two promotions racing thus compare in
    turn, and neither overwrites a champion it did not compare against. A lock whose
    holder died is taken over.
    """
    lock = PROMOTION_LOCK.format(name=name)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            client.create_registered_model(
                lock,
                tags={OWNER_TAG: owner()},
                description=f"Held while a promotion sets the champion of {name}; deleted after.",
            )
            break
        except MlflowException as error:
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
        if _lock_is_abandoned(client, lock):
            with contextlib.suppress(MlflowException):
                client.delete_registered_model(lock)
            continue
        if time.monotonic() > deadline:
            raise ProjectError(
                f"registry: another promotion of {name!r} held {lock!r} for over "
                f"{LOCK_WAIT_SECONDS:.0f} s; if none is running, delete that registered model"
            )
        time.sleep(random.uniform(0.05, 0.25))  # noqa: S311 - jitter only
    try:
        yield
    finally:
        client.delete_registered_model(lock)


@dataclass(frozen=True)
class HeldOut:
    """The rows a challenger and the champion are compared on, named by their fingerprint.

    The rows are read only if a model has to be scored on them: a score recorded with the
    same fingerprint was measured on these very rows.
    """

    fingerprint: str
    read_rows: Callable[[], pd.DataFrame]

    @classmethod
    def of_configured_data(cls, config: Config) -> HeldOut:
        """The rows ``train`` holds out of ``data.path``: the split is deterministic."""
        from .data import file_sha256
        from .train import held_out_fingerprint, held_out_rows

        path = config.data.path
        fingerprint = held_out_fingerprint(config, file_sha256(path))
        return cls(fingerprint, lambda: held_out_rows(config, path))

    @functools.cached_property
    def rows(self) -> pd.DataFrame:
        return self.read_rows()


def _recorded_score(
    client: MlflowClient, name: str, version: str, metric: str, held_out: HeldOut
) -> float | None:
    """The version's ``metric`` from its own training run, if measured on these very rows."""
    model_version = client.get_model_version(name, version)
    if model_version.tags.get(HELD_OUT_TAG) != held_out.fingerprint or not model_version.run_id:
        return None
    recorded = client.get_run(model_version.run_id).data.metrics.get(metric)
    return None if recorded is None else float(recorded)


def promote(
    config: Config, version: str, held_out: HeldOut, challenger_score: float | None = None
) -> Promotion:
    """Give ``version`` the champion alias if it beats the champion on the held-out rows.

    ``challenger_score`` is the version's score when the caller already measured it, as
    training does. The champion is scored again only if its recorded score came from
    other rows (other data, another split): on a large held-out set that is most of
    what a comparison costs.
    """
    with session(config) as client:
        name = config.tracking.registered_model
        rule = config.tracking.promotion

        def measure(version: str) -> float | None:
            """The version's score on the held-out rows; None if it cannot take them."""
            recorded = _recorded_score(client, name, version, rule.metric, held_out)
            if recorded is not None:
                return recorded
            from .predict import fits_config

            saved = load_version(config, version)
            if not fits_config(saved, config):
                return None
            model = saved.model
            rows = held_out.rows
            features, target = rows[config.data.feature_names], rows[config.data.target.name]
            return config.task.scores(model, features, target)[rule.metric]

        if challenger_score is None:
            challenger_score = measure(version)
            if challenger_score is None:
                raise ProjectError(
                    f"version {version} of {name!r} takes other columns or another task "
                    "than the config: it cannot be compared on this data"
                )
        with promotion_lock(client, name):
            champion = _champion(client, name)
            if champion == version:
                return Promotion(
                    version, True, rule.metric, challenger_score, version, challenger_score
                )
            if champion is None:
                _crown(client, name, version, _history(client, name))
                return Promotion(version, True, rule.metric, challenger_score, None, None)
            champion_score = measure(champion)
            promoted = champion_score is None or config.task.is_better(
                rule.metric, challenger_score, champion_score, rule.min_improvement
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
            client.get_registered_model(name)
        except MlflowException:
            raise ProjectError(
                f"registered model {name!r} does not exist yet: train first"
            ) from None
        with promotion_lock(client, name):
            history = _history(client, name)
            if len(history) < 2:
                raise ProjectError(f"{name!r} has no earlier champion to roll back to")
            previous = history[-2]
            client.set_registered_model_alias(name, CHAMPION, previous)
            client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history[:-1]))
        return previous


@contextlib.contextmanager
def tuning_runs(config: Config) -> Iterator[Callable[[dict[str, Any], float], None]]:
    """A parent run for a tuning study; the yielded function logs one trial as a child."""
    with session(config) as client:
        experiment = retrying(lambda: use_experiment(config))
        fail_abandoned_runs(client, experiment.experiment_id)
        with mlflow.start_run(run_name="tuning", tags={OWNER_TAG: owner()}):

            def log_trial(params: dict[str, Any], value: float) -> None:
                with mlflow.start_run(nested=True, tags={OWNER_TAG: owner()}):
                    mlflow.log_params(_flat(params))
                    mlflow.log_metric(f"cv_{config.task.cross_validation.name}", value)

            yield log_trial
