"""The configured MLflow store, opened one way for run logging and the registry alike.

With no server the store is a SQLite file inside the project; ``MLFLOW_TRACKING_URI``
(or ``tracking.uri`` in the config) points everything at a shared server instead.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mlflow
from filelock import FileLock
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from .config import Config
from .errors import ProjectError
from .leftovers import HOST, abandoned

# A tracking server that does not answer fails a command within seconds: MLflow's own
# defaults retry for minutes first. Setting these variables yourself overrides them.
HTTP_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
SQLITE = "sqlite:///"
OWNER_TAG = "owner"  # <host>-<pid> of the process that holds the run open
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


def open_store(config: Config) -> None:
    """Open the configured store; MLflow keeps it open for the rest of the process.

    The first store a process opens imports MLflow's database layer, which costs as much
    as importing MLflow itself; the CLI does it while it loads the other libraries.
    """
    with session(config):
        pass


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


def open_experiment(client: MlflowClient, config: Config) -> str:
    """The configured experiment's id, once the runs dead processes left open are ended."""
    experiment = retrying(lambda: use_experiment(config))
    fail_abandoned_runs(client, experiment.experiment_id)
    return str(experiment.experiment_id)


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
