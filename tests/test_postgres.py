"""Integration tier: a baked project's team paths on a real PostgreSQL server.

The server is started here, on a private socket (``scripts/local_postgres.py``). Two
tuning workers share one Optuna study in it, and an MLflow tracking server keeps its
runs and registry in it while two trainings log, register and promote at once: the
commands the baked README gives for each, with only the URLs changed.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import load_script, mlflow_server, run, user_env
from cookiecutter.main import cookiecutter

pytestmark = pytest.mark.integration

local_postgres = load_script("local_postgres")
TRIALS = 12


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    with local_postgres.local_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default bake, with the PostgreSQL driver group the README names."""
    from matrix import TEMPLATE

    root = Path(
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path_factory.mktemp("pg")))
    )
    run(["uv", "sync", "--group", "postgres"], root)
    return root


def at_once(commands: list[list[str]], cwd: Path, env: dict[str, str]) -> list[str]:
    """Start every command, then wait for all; their standard outputs, in order."""
    processes = [
        subprocess.Popen(
            command,
            cwd=cwd,
            env={**user_env(), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, f"{process.args}\n{stdout}\n{stderr}"
    return [stdout for stdout, _ in outputs]


def test_two_tuning_workers_share_one_study(project: Path, postgres: Any) -> None:
    """Both workers add trials to one study until it holds the budget; no trial is lost
    or run twice, and the best written equals the best trial in the database."""
    slug = project.name
    env = {"TUNING_STORAGE": postgres.create_database("optuna")}
    budget = ["--trials", str(TRIALS), "--max-study-trials", str(TRIALS)]
    worker = ["uv", "run", slug, "tune", "--study", "search-1", *budget]
    outputs = at_once([worker, worker], project, env)
    ran = [int(re.search(r"\((\d+) by this process\)", out).group(1)) for out in outputs]
    assert sum(ran) == TRIALS, outputs  # how they shared it depends on who started first

    written = run(
        ["uv", "run", slug, "tune", "--study", "search-1", "--write-best"], project, extra_env=env
    )
    assert f"after {TRIALS} trials" in written.stdout

    finished = [
        row.split("|")
        for row in postgres.psql(
            "optuna",
            "SELECT t.number, v.value FROM trials t JOIN trial_values v USING (trial_id) "
            "WHERE t.state = 'COMPLETE' ORDER BY t.number",
        ).split()
    ]
    assert [int(number) for number, _ in finished] == list(range(TRIALS)), "none lost or twice"
    best_number = max(finished, key=lambda row: float(row[1]))[0]
    params = postgres.psql(
        "optuna",
        "SELECT t.number, p.param_name, p.param_value FROM trial_params p JOIN trials t "
        "USING (trial_id)",
    ).split()
    best_params = {
        name: value
        for number, name, value in (row.split("|") for row in params)
        if number == best_number
    }
    tuned = yaml.safe_load((project / "configs" / "tuned_params.yaml").read_text(encoding="utf-8"))
    assert set(tuned) == set(best_params)
    for name, value in tuned.items():  # a float search space: stored as the float itself
        assert math.isclose(value, float(best_params[name]), rel_tol=1e-12), name


@pytest.fixture
def tracking_server(project: Path, postgres: Any, tmp_path: Path) -> Iterator[str]:
    """`mlflow server` with its backend store in PostgreSQL, as the baked README shows."""
    backend = postgres.create_database("mlflow")
    with mlflow_server(project, backend, tmp_path / "artifacts") as url:
        yield url


def test_two_trainings_log_register_and_promote_at_once(
    project: Path, tracking_server: str
) -> None:
    slug = project.name
    env = {"MLFLOW_TRACKING_URI": tracking_server}
    outputs = at_once([["uv", "run", slug, "train"]] * 2, project, env)
    decisions = sorted(out.splitlines()[-1] for out in outputs)
    assert all(line.startswith("registry: version ") for line in decisions), outputs
    assert {line.split()[2] for line in decisions} == {"1", "2"}, "two versions, one each"
    listed = run(
        ["uv", "run", "python", "-c", CHAMPION_AND_HISTORY, slug], project, extra_env=env
    ).stdout.split()
    champion, history = listed[0], listed[1].split(",")
    assert history[0] in {"1", "2"}, listed
    assert champion == history[-1], listed
    promoted = run(["uv", "run", slug, "promote", "2"], project, extra_env=env)
    assert promoted.stdout.startswith("version 2 "), promoted.stdout


CHAMPION_AND_HISTORY = """
import sys
from mlflow import MlflowClient
client = MlflowClient()
model = client.get_registered_model(sys.argv[1])
print(client.get_model_version_by_alias(sys.argv[1], "champion").version, model.tags["champion_history"])
"""
