"""Shared fixtures: the project's own config, pointed at temporary output folders."""

from __future__ import annotations

{% if cookiecutter.experiment_tracking == "mlflow" %}from collections.abc import Iterator
{% endif %}from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import (
    DEFAULT_CONFIG,
    Config,
    PathsConfig,
    load_config,
)
from {{ cookiecutter.package_name }}.data import read_table
from {{ cookiecutter.package_name }}.train import (
    TrainingRun,
    train,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def isolated(config: Config, root: Path) -> Config:
    """The same config, writing every output under ``root`` instead of the project."""
    model = config.model.model_copy(update={"params_file": root / "tuned_params.yaml"})
    update: dict[str, object] = {
        "paths": PathsConfig(models=root / "models", reports=root / "reports"),
        "model": model,
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


@pytest.fixture(scope="session")
def registered(
    base_config: Config, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, TrainingRun]:
    """One tracked training run, the first champion of its own store; tests only read it."""
    config = isolated(base_config, tmp_path_factory.mktemp("registered"))
    tracking = config.tracking.model_copy(update={"enabled": True})
    config = config.model_copy(update={"tracking": tracking})
    return config, train(config)
{%- endif %}
