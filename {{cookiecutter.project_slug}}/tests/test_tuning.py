"""Tuning writes its best parameters where training picks them up."""

from __future__ import annotations

import pytest
import yaml

from {{ cookiecutter.package_name }}.config import (
    Config,
    TuningConfig,
    with_tuned_params,
)
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.tuning import tune


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
