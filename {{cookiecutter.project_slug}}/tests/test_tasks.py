"""A task added as the README's "Add a task" section says: its class, then its config."""

from __future__ import annotations
import __future__

import re
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }} import tasks
from {{ cookiecutter.package_name }}.artifacts import load_run
from {{ cookiecutter.package_name }}.config import Config
from {{ cookiecutter.package_name }}.errors import CheckFailedError, ConfigError
from {{ cookiecutter.package_name }}.predict import predict_frame
from {{ cookiecutter.package_name }}.train import train

README = Path(__file__).resolve().parents[1] / "README.md"


def walk_through(language: str) -> str:
    """The first ``language`` block of the README's "Add a task" section."""
    text = README.read_text(encoding="utf-8")
    section = text.partition("### Add a task\n")[2].partition("\n### ")[0]
    blocks = re.findall(rf"^ *```{language}\n(.*?)^ *```", section, re.S | re.M)
    assert blocks, f"README.md: the 'Add a task' section has no {language} block"
    return textwrap.dedent(blocks[0])


@pytest.fixture
def count_task(monkeypatch: pytest.MonkeyPatch) -> tasks.Task:
    """The README's class, defined in the tasks module's namespace and listed in TASKS."""
    namespace = dict(vars(tasks))
    flags = __future__.annotations.compiler_flag  # as in tasks.py
    code = compile(walk_through("python"), str(README), "exec", flags=flags, dont_inherit=True)
    exec(code, namespace)  # noqa: S102 - the project's own README
    task: tasks.Task = namespace["Count"]()
    monkeypatch.setitem(tasks.TASKS, task.name, task)
    return task


@pytest.fixture
def count_config(config: Config, count_task: tasks.Task) -> Config:
    """The suite's config with the README's changes: each key it names is replaced."""
    settings: dict[str, Any] = config.model_dump()
    for section, value in yaml.safe_load(walk_through("yaml")).items():
        if isinstance(value, dict):
            settings[section] = {**settings[section], **value}
        else:
            settings[section] = value
    target = settings["data"]["target"]["name"]
    features = [column for column in settings["data"]["features"] if column["name"] != target]
    settings["data"]["features"] = features
    return Config.model_validate(settings)


def test_the_readme_task_trains_predicts_and_is_gated(
    count_config: Config, count_task: tasks.Task, sample: pd.DataFrame
) -> None:
    assert count_config.task is count_task
    run = train(count_config)
    assert set(run.metrics) == set(count_task.metrics)
    assert load_run(count_config.paths.models).metadata["task"] == "count"

    saved = load_run(count_config.paths.models)
    predicted = predict_frame(saved, sample, count_config, source="sample")
    assert (predicted["prediction"] > 0).all(), "a Poisson model predicts positive counts"

    gate = count_config.quality_gate.model_copy(update={"maximum": {"poisson_deviance": 0.0}})
    with pytest.raises(CheckFailedError, match="poisson_deviance"):
        train(count_config.model_copy(update={"quality_gate": gate}))


def test_a_task_whose_scores_miss_its_metrics_is_one_config_error(
    count_config: Config, count_task: tasks.Task, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(type(count_task).metrics, "spearman", True)
    with pytest.raises(ConfigError, match="scores\\(\\) gave mae, poisson_deviance where"):
        train(count_config)
