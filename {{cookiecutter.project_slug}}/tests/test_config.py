"""The config file is validated up front, with errors that name the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.config import (
    CategoricalColumn,
    Config,
    load_config,
)
from {{ cookiecutter.package_name }}.errors import ConfigError


def write_config(tmp_path: Path, base: Config, **changes: object) -> Path:
    raw = base.model_dump(mode="json")
    raw.update(changes)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_shipped_config_is_valid(base_config: Config) -> None:
    assert base_config.data.feature_names
    assert base_config.data.path.is_file()


def test_unknown_key_names_file_and_key(tmp_path: Path, base_config: Config) -> None:
    path = write_config(tmp_path, base_config, sead=1)
    with pytest.raises(ConfigError, match=r"config\.yaml: sead: Extra inputs are not permitted"):
        load_config(path)


def test_wrong_type_names_the_nested_key(tmp_path: Path, base_config: Config) -> None:
    path = write_config(tmp_path, base_config, split={"test_size": 2})
    with pytest.raises(ConfigError, match=r"split\.test_size"):
        load_config(path)


def test_gate_metric_must_fit_the_task(tmp_path: Path, base_config: Config) -> None:
    path = write_config(tmp_path, base_config, quality_gate={"minimum": {"no_such_metric": 1}})
    with pytest.raises(ConfigError, match="unknown metric no_such_metric"):
        load_config(path)


def test_a_gate_bound_on_the_wrong_side_says_where_it_belongs(
    tmp_path: Path, base_config: Config
) -> None:
    worse_when_higher = next(name for name, up in base_config.task.metrics.items() if not up)
    path = write_config(tmp_path, base_config, quality_gate={"minimum": {worse_when_higher: 1}})
    with pytest.raises(ConfigError, match=f"{worse_when_higher} belongs under maximum"):
        load_config(path)


@pytest.mark.parametrize(
    ("task", "message"), [(None, "name the task"), ("Clasification", "unknown task")]
)
def test_a_missing_or_unknown_task_lists_the_tasks(
    tmp_path: Path, base_config: Config, task: str | None, message: str
) -> None:
    path = write_config(tmp_path, base_config, task=task)
    with pytest.raises(ConfigError, match=f"task: {message}.*classification.*regression"):
        load_config(path)


def test_repeated_feature_is_rejected(tmp_path: Path, base_config: Config) -> None:
    data = base_config.data.model_dump(mode="json")
    data["features"].append(data["features"][0])
    path = write_config(tmp_path, base_config, data=data)
    with pytest.raises(ConfigError, match="feature names must be unique"):
        load_config(path)


def test_an_error_in_a_column_names_the_column(tmp_path: Path, base_config: Config) -> None:
    data = base_config.data.model_dump(mode="json")
    second = data["features"][1]
    second["nullable"] = "sometimes"
    path = write_config(tmp_path, base_config, data=data)
    where = f"data.features[2] ({second['name']}).nullable"
    with pytest.raises(ConfigError, match=re.escape(where)):
        load_config(path)


def test_a_passthrough_column_cannot_be_modelled(tmp_path: Path, base_config: Config) -> None:
    data = base_config.data.model_dump(mode="json")
    data["passthrough"] = [data["features"][0]["name"], data["target"]["name"]]
    path = write_config(tmp_path, base_config, data=data)
    with pytest.raises(ConfigError, match=r"passthrough column.* are also modelled"):
        load_config(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "config file not found"), ("a: [1", "not valid YAML at line"), ("- 1\n", "mapping")],
)
def test_unreadable_config(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "config.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_malformed_tuned_parameters_name_the_file(tmp_path: Path, base_config: Config) -> None:
    tuned = tmp_path / "tuned_params.yaml"
    tuned.write_text("{}\nC: 0.5\n", encoding="utf-8")  # a line added after the shipped {}
    model = base_config.model.model_copy(update={"params_file": tuned})
    path = write_config(tmp_path, base_config, model=model.model_dump(mode="json"))
    with pytest.raises(ConfigError, match=r"tuned_params\.yaml: not valid YAML at line 2"):
        load_config(path)


@pytest.mark.parametrize("which", ["config", "tuned parameters"])
def test_a_file_that_is_not_utf8_is_one_error(
    tmp_path: Path, base_config: Config, which: str
) -> None:
    tuned = tmp_path / "tuned_params.yaml"
    tuned.write_text("{}\n", encoding="utf-8")
    model = base_config.model.model_copy(update={"params_file": tuned})
    path = write_config(tmp_path, base_config, model=model.model_dump(mode="json"))
    latin1 = path if which == "config" else tuned
    latin1.write_bytes(latin1.read_bytes() + "# José\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=rf"^{latin1}: not UTF-8 text \(byte 0xe9 at "):
        load_config(path)


def test_a_tuned_parameter_the_estimator_lacks_names_the_file(
    tmp_path: Path, base_config: Config
) -> None:
    """tune searched one estimator; the config now names another: the error says where to look."""
    from {{ cookiecutter.package_name }}.train import build_estimator

    tuned = tmp_path / "tuned_params.yaml"
    tuned.write_text("no_such_parameter: 0.5\n", encoding="utf-8")
    model = base_config.model.model_copy(update={"params_file": tuned})
    config = load_config(write_config(tmp_path, base_config, model=model.model_dump(mode="json")))
    with pytest.raises(
        ConfigError, match=rf"no_such_parameter.* \(with the parameters in {tuned},"
    ):
        build_estimator(config)


def test_fingerprint_follows_the_settings(base_config: Config) -> None:
    changed = base_config.model_copy(update={"seed": base_config.seed + 1})
    assert base_config.fingerprint() == base_config.model_copy().fingerprint()
    assert base_config.fingerprint() != changed.fingerprint()


def test_numeric_category_codes_need_no_quotes(tmp_path: Path, base_config: Config) -> None:
    data = base_config.data.model_dump(mode="json")
    data["features"].append({"name": "segment", "type": "categorical", "allowed": [1, 2, True]})
    path = tmp_path / "config.yaml"
    raw = {**base_config.model_dump(mode="json"), "data": data}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    segment = load_config(path).data.features[-1]
    assert isinstance(segment, CategoricalColumn)
    assert segment.allowed == ["1", "2", "True"]


@pytest.mark.parametrize(
    ("dimension", "message"),
    [
        ({"type": "float", "low": 0, "high": 1, "log": True}, "needs 'low' > 0"),
        ({"type": "int", "low": 0.5, "high": 10}, "whole numbers"),
        ({"type": "float", "low": 2, "high": 1}, "needs 'low' < 'high'"),
    ],
    ids=["log from zero", "int from a fraction", "reversed"],
)
def test_a_search_range_optuna_would_refuse_is_a_config_error(
    tmp_path: Path, base_config: Config, dimension: dict[str, object], message: str
) -> None:
    tuning = base_config.tuning.model_dump(mode="json") | {"space": {"C": dimension}}
    with pytest.raises(ConfigError, match=rf"tuning\.space\.C.*{re.escape(message)}"):
        load_config(write_config(tmp_path, base_config, tuning=tuning))
