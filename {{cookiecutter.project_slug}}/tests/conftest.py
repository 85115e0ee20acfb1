"""Shared fixtures: the project's own config, pointed at temporary output folders."""

from __future__ import annotations

import functools
from collections.abc import Callable{{ ", Iterator" if cookiecutter.experiment_tracking == "mlflow" }}
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from {{ cookiecutter.package_name }}.config import (
    DEFAULT_CONFIG,
    Config,
    PathsConfig,
    load_config,
)

if TYPE_CHECKING:  # the ML libraries load on first use: pytest-xdist's controller never needs them
    import pandas as pd

    from {{ cookiecutter.package_name }}.artifacts import TrainingRun

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Modules whose fixtures start processes in the background (trainings, a server) come
# first, so that those processes overlap the rest of the suite instead of trailing it.
BACKGROUND_FIRST = ("test_tracking.py", "test_api.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return BACKGROUND_FIRST.index(name) if name in BACKGROUND_FIRST else len(BACKGROUND_FIRST)

    items.sort(key=rank)


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


@pytest.fixture(scope="session")
def isolated_in(base_config: Config) -> Callable[[Path], Config]:
    """Makes configs that write every output under a given folder."""
    return functools.partial(isolated, base_config)


@pytest.fixture
def config(base_config: Config, tmp_path: Path) -> Config:
    return isolated(base_config, tmp_path)


@pytest.fixture(scope="session")
def sample(base_config: Config) -> pd.DataFrame:
    from {{ cookiecutter.package_name }}.data import read_table

    return read_table(base_config.data.path)


@pytest.fixture(scope="session")
def validated(base_config: Config, sample: pd.DataFrame) -> pd.DataFrame:
    """The sample as every command hands it to a model: checked and typed by the schema
    (booleans as 1 and 0, dates as dates)."""
    from {{ cookiecutter.package_name }}.data import validate

    return validate(sample, base_config.data, with_target=True, source="the sample")


@pytest.fixture(scope="session")
def trained(
    base_config: Config, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, TrainingRun]:
    """One real training run on the sample data, shared by the tests that only read it."""
    from {{ cookiecutter.package_name }}.train import train

    config = isolated(base_config, tmp_path_factory.mktemp("trained"))
    return config, train(config)
