"""Shared fixtures: the project's own config, pointed at temporary output folders."""

from __future__ import annotations

{% set api = cookiecutter.serving == "fastapi" -%}
{% if api -%}
import contextlib
{% endif -%}
import functools
from collections.abc import Callable{{ ", Iterator" if cookiecutter.experiment_tracking == "mlflow" or api }}
from pathlib import Path
from typing import TYPE_CHECKING{{ ", Any" if api }}

import pytest

from {{ cookiecutter.package_name }}.config import (
    DEFAULT_CONFIG,
    Config,
    PathsConfig,
    load_config,
)

if TYPE_CHECKING:  # the ML libraries load on first use: pytest-xdist's controller never needs them
{%- if cookiecutter.serving == "fastapi" %}
    import httpx2
{%- endif %}
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
{%- if cookiecutter.serving == "fastapi" %}


@pytest.fixture(scope="session")
def running() -> Callable[..., contextlib.AbstractContextManager[httpx2.Client]]:
    """Starts the API behind a real server for the length of a ``with`` block."""
    return serving_over_http


@contextlib.contextmanager
def serving_over_http(config: Config, **options: Any) -> Iterator[httpx2.Client]:
    """The API for ``config`` (``create_app``'s ``options`` too) behind a real uvicorn
    server, in a thread of this process, and a client of it.

    Real HTTP on a socket bound before the server starts (no port to race for), without
    the seconds a server process of its own spends importing its libraries.
    """
    import threading
    import time

    import httpx2
    import uvicorn

    from {{ cookiecutter.package_name }}.api import create_app, listening_socket

    listening = listening_socket("127.0.0.1", 0)
    port = listening.getsockname()[1]
    app = create_app(config, **options)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server stopped while starting"
            time.sleep(0.01)
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listening.close()
{%- endif %}
