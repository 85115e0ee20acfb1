"""Shared fixtures: the project's own config, pointed at temporary output folders."""

from __future__ import annotations

from pathlib import Path

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
    """The same config, writing models and reports under ``root`` instead of the project."""
    return config.model_copy(
        update={"paths": PathsConfig(models=root / "models", reports=root / "reports")}
    )


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
