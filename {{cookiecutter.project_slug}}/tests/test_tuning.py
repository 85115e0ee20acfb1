"""Tuning writes its best parameters where training picks them up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import (
    Config,
    TuningConfig,
    with_tuned_params,
)
from {{ cookiecutter.package_name }}.errors import ConfigError, ProjectError
from {{ cookiecutter.package_name }}.tuning import SharedStudy, tune, write_best


def test_best_parameters_reach_training(config: Config) -> None:
    quick = config.model_copy(update={"tuning": config.tuning.model_copy(update={"cv_folds": 2})})
    result = tune(quick, trials=2)
    assert result.trials == 2
    assert config.model.params_file is not None
    written = yaml.safe_load(config.model.params_file.read_text(encoding="utf-8"))
    assert written == result.best_params
    assert set(written) == set(config.tuning.space)
    merged = with_tuned_params(config)
    assert merged.model.params == {**config.model.params, **written}


def test_empty_search_space_is_a_config_error(config: Config) -> None:
    with pytest.raises(ConfigError, match=r"tuning\.space is empty"):
        tune(config.model_copy(update={"tuning": TuningConfig()}), trials=1)


def quick(config: Config) -> Config:
    """Two folds: each trial costs a fraction of a second."""
    return config.model_copy(update={"tuning": config.tuning.model_copy(update={"cv_folds": 2})})


def test_workers_of_a_shared_study_share_one_budget(config: Config, tmp_path: Path) -> None:
    """Under a cap on the study, a second worker adds only the trials the study still
    lacks; the best is written once, on request, and is the best finished trial in the
    database."""
    import optuna

    shared = SharedStudy(f"sqlite:///{tmp_path / 'study.db'}", "search-1")
    first = tune(quick(config), trials=3, shared=shared)
    assert (first.trials, first.ran, first.written) == (3, 3, None)
    assert config.model.params_file is not None
    assert not config.model.params_file.exists(), "workers leave writing to --write-best"
    second = tune(quick(config), trials=5, shared=shared, max_study_trials=5)
    assert (second.trials, second.ran) == (5, 2)
    best = write_best(quick(config), shared)
    assert best.written == config.model.params_file
    stored = optuna.load_study(study_name="search-1", storage=shared.storage)
    finished = [trial for trial in stored.trials if trial.state.name == "COMPLETE"]
    assert [trial.number for trial in finished] == [0, 1, 2, 3, 4]
    winner = max(finished, key=lambda trial: trial.value or float("-inf"))
    assert yaml.safe_load(config.model.params_file.read_text(encoding="utf-8")) == winner.params
    # A worker that starts after --write-best, the written parameters merged over its
    # own, still belongs to the same search; without a cap it runs all its trials.
    tuned = with_tuned_params(quick(config))
    after = tune(tuned, trials=2, shared=shared)
    assert (after.trials, after.ran) == (7, 2)


def test_a_worker_joining_a_spent_study_runs_no_trial(config: Config, tmp_path: Path) -> None:
    """Another worker's trial still running counts: the budget is never overshot by a
    finished trial, even when two workers reach it at the same moment."""
    import optuna

    shared = SharedStudy(f"sqlite:///{tmp_path / 'study.db'}", "search-1")
    tune(quick(config), trials=2, shared=shared)
    study = optuna.load_study(study_name="search-1", storage=shared.storage)
    study.ask()  # a trial another worker has started and not finished
    joined = tune(quick(config), trials=3, shared=shared, max_study_trials=2)
    assert (joined.trials, joined.ran) == (2, 0)
    states = [trial.state.name for trial in study.get_trials(deepcopy=False)]
    assert states.count("COMPLETE") == 2


def test_a_shared_study_of_another_search_is_refused(config: Config, tmp_path: Path) -> None:
    shared = SharedStudy(f"sqlite:///{tmp_path / 'study.db'}", "search-1")
    tune(quick(config), trials=1, shared=shared)
    other = quick(config).model_copy(update={"seed": config.seed + 1})
    with pytest.raises(ConfigError, match=r"^study 'search-1' holds trials of another search"):
        tune(other, trials=2, shared=shared)
    with pytest.raises(ConfigError, match=r"^study 'search-1' holds trials of another search"):
        write_best(other, shared)


def test_a_storage_that_cannot_be_used_is_one_clear_error(config: Config, tmp_path: Path) -> None:
    database = tmp_path / "study.db"
    with pytest.raises(ConfigError, match=r"^study 'search-1': the storage .+ does not exist$"):
        write_best(config, SharedStudy(f"sqlite:///{database}", "search-1"))
    assert not database.exists(), "only reading a study, --write-best creates no database"
    tune(quick(config), trials=1, shared=SharedStudy(f"sqlite:///{database}", "search-1"))
    with pytest.raises(ConfigError, match=r"^study 'missing' does not exist in that storage$"):
        write_best(config, SharedStudy(f"sqlite:///{database}", "missing"))
    with pytest.raises(ProjectError, match=r"^tuning storage: Could not parse"):
        tune(config, trials=1, shared=SharedStudy("not a url", "search-1"))
    unreachable = SharedStudy(f"sqlite:///{tmp_path / 'no-such-folder' / 'study.db'}", "search-1")
    with pytest.raises(ProjectError, match=r"^tuning storage: \(sqlite3\.OperationalError\)"):
        tune(config, trials=1, shared=unreachable)


def test_a_missing_database_driver_says_how_to_install_one(config: Config) -> None:
    absent_driver = SharedStudy("postgresql+pg8000://u@127.0.0.1/db", "search-1")
    with pytest.raises(ConfigError, match=r"driver is not installed \(pg8000\);.*postgres"):
        tune(config, trials=1, shared=absent_driver)


@pytest.mark.parametrize(
    "arguments",
    [
        ["--study", "search-1"],
        ["--write-best"],
        ["--max-study-trials", "10"],
        ["--storage", "sqlite:///s.db"],
        ["--storage", "sqlite:///s.db", "--study", ""],
        ["--storage", "sqlite:///s.db", "--study", "s", "--write-best", "--trials", "3"],
        ["--storage", "sqlite:///s.db", "--study", "s", "--write-best", "--max-study-trials", "3"],
        ["--storage", "sqlite:///s.db", "--study", "s", "--max-study-trials", "0"],
    ],
)
def test_shared_study_options_that_do_not_fit_are_usage_errors(
    arguments: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TUNING_STORAGE", raising=False)
    result = CliRunner().invoke(app, ["tune", *arguments])
    assert result.exit_code == 2, result.output


def test_a_worker_that_loses_the_race_to_create_the_tables_looks_again(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers started together on a new database all create Optuna's tables; the
    database refuses all but one, and the others go on with the tables it made."""
    from sqlalchemy.exc import IntegrityError

    from {{ cookiecutter.package_name }} import tuning

    real = tuning._rdb_storage
    attempts: list[str] = []

    def lose_once(url: str) -> Any:
        attempts.append(url)
        if len(attempts) == 1:
            real(url)  # the winner makes the tables
            raise IntegrityError("CREATE TABLE studies", {}, Exception("duplicate key"))
        return real(url)

    monkeypatch.setattr(tuning, "_rdb_storage", lose_once)
    shared = SharedStudy(f"sqlite:///{tmp_path / 'study.db'}", "search-1")
    assert tune(quick(config), trials=1, shared=shared).trials == 1
    assert len(attempts) == 2
