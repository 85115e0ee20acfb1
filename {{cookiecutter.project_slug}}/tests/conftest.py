"""Shared fixtures: the project's own config, pointed at temporary output folders."""

from __future__ import annotations

{% if cookiecutter.experiment_tracking == "mlflow" -%}
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
{% endif -%}
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.artifacts import TrainingRun
from {{ cookiecutter.package_name }}.config import (
    DEFAULT_CONFIG,
    Config,
    PathsConfig,
    load_config,
)
from {{ cookiecutter.package_name }}.data import read_table
from {{ cookiecutter.package_name }}.train import train

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def isolated(config: Config, root: Path) -> Config:
    """The same config, writing every output under ``root`` instead of the project.

    Permutation importance shuffles each column twice rather than five times: every check
    here holds either way, and each of the suite's trainings takes less time.
    """
    model = config.model.model_copy(update={"params_file": root / "tuned_params.yaml"})
    update: dict[str, object] = {
        "paths": PathsConfig(models=root / "models", reports=root / "reports"),
        "model": model,
        "importance": config.importance.model_copy(update={"repeats": 2}),
    }
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    # Tracking is off except in test_tracking.py, which turns it on against this store.
    tracking = {"uri": f"sqlite:///{root / 'mlflow.db'}", "enabled": False}
    update["tracking"] = config.tracking.model_copy(update=tracking)
{%- endif %}
    return config.model_copy(update=update)


{%- if cookiecutter.experiment_tracking == "mlflow" %}


@pytest.fixture(autouse=True, scope="session")
def _no_outside_settings() -> Iterator[None]:
    """Tests never write to a tracking server or store named in the user's environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        yield
{%- endif %}


@pytest.fixture(scope="session")
def base_config() -> Config:
    config = load_config(PROJECT_ROOT / DEFAULT_CONFIG)
    data = config.data.model_copy(update={"path": PROJECT_ROOT / config.data.path})
    return config.model_copy(update={"data": data})


@pytest.fixture
def config(base_config: Config, tmp_path: Path) -> Config:
    return isolated(base_config, tmp_path)


@pytest.fixture(scope="session")
def sample(base_config: Config) -> pd.DataFrame:
    return read_table(base_config.data.path)


@pytest.fixture(scope="session")
def trained(
    base_config: Config, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, TrainingRun]:
    """One real training run on the sample data, shared by the tests that only read it."""
    config = isolated(base_config, tmp_path_factory.mktemp("trained"))
    return config, train(config)
{%- if cookiecutter.experiment_tracking == "mlflow" %}


class EmptyStore:
    """An MLflow SQLite store with its tables created and nothing in them.

    MLflow takes a couple of seconds to create the tables, so a separate process does it
    while the first tests run; each test that needs a store of its own gets a copy.
    """

    CREATE = "import sys; from mlflow import MlflowClient; MlflowClient(sys.argv[1], sys.argv[1])"

    def __init__(self, path: Path) -> None:
        self.path = path
        uri = f"sqlite:///{path}"
        self._process = subprocess.Popen(
            [sys.executable, "-c", self.CREATE, uri], stderr=subprocess.PIPE, text=True
        )

    def copy_to(self, destination: Path) -> None:
        _, errors = self._process.communicate(timeout=300)
        assert self._process.returncode == 0, f"creating the MLflow store failed:\n{errors}"
        shutil.copyfile(self.path, destination)


@pytest.fixture(scope="session", autouse=True)
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> EmptyStore:
    """Started with the session, so the store is ready when the tracking tests come."""
    return EmptyStore(tmp_path_factory.mktemp("empty-store") / "mlflow.db")


@pytest.fixture(scope="session")
def tracked_config_in(base_config: Config, empty_store: EmptyStore) -> Callable[[Path], Config]:
    """Makes configs that write under a given folder and track into a fresh store there."""

    def make(root: Path) -> Config:
        config = isolated(base_config, root)
        empty_store.copy_to(Path(config.tracking.uri.removeprefix("sqlite:///")))
        tracking = config.tracking.model_copy(update={"enabled": True})
        return config.model_copy(update={"tracking": tracking})

    return make


@pytest.fixture
def tracked_config(tracked_config_in: Callable[[Path], Config], tmp_path: Path) -> Config:
    """The isolated config with tracking on, against a store of its own."""
    return tracked_config_in(tmp_path)


@pytest.fixture(scope="session")
def registered(
    tracked_config_in: Callable[[Path], Config], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, TrainingRun]:
    """One tracked training run, the first champion of its own store; tests only read it."""
    config = tracked_config_in(tmp_path_factory.mktemp("registered"))
    return config, train(config)
{%- endif %}
