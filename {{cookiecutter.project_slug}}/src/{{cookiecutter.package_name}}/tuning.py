"""Hyperparameter search with Optuna over the space declared in ``tuning.space``.

Each trial scores a candidate by cross-validation on the training part only, so the
held-out rows that judge the final model never guide the search. The best parameters
are written to ``model.params_file``, where ``train`` picks them up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .artifacts import atomic_write_text
from .config import Config, SearchDimension, write_yaml
from .data import load_dataset
from .errors import ConfigError
from .tasks import CrossValidationMetric
from .train import build_pipeline, split

TrialLogger = Callable[[dict[str, Any], float], None]
"""Records one trial: its parameters and its cross-validated score, in the metric's terms."""


@dataclass(frozen=True)
class TuningResult:
    best_params: dict[str, Any]
    best_score: float  # in the metric's own terms: a positive RMSE, not its negation
    trials: int
    metric: CrossValidationMetric


def _suggest(trial: Any, name: str, dimension: SearchDimension) -> Any:
    if dimension.type == "categorical":
        return trial.suggest_categorical(name, dimension.choices)
    if dimension.type == "int":
        return trial.suggest_int(
            name, int(dimension.low or 0), int(dimension.high or 0), log=dimension.log
        )
    return trial.suggest_float(name, dimension.low, dimension.high, log=dimension.log)


def tune(
    config: Config,
    data_path: Path | None = None,
    trials: int | None = None,
    log_trial: TrialLogger | None = None,
) -> TuningResult:
    """Search ``tuning.space``; write the best parameters to ``model.params_file``.

    The search reads ``data_path`` (default: ``data.path``) and, like ``train``, keeps its
    held-out part out of every trial.
    """
    import optuna
    from sklearn.model_selection import cross_val_score

    if not config.tuning.space:
        raise ConfigError("tuning.space is empty: declare the parameters to search")
    if config.model.params_file is None:
        raise ConfigError(
            "model.params_file is not set: it is where tune writes the best parameters"
        )
    frame = load_dataset(config.data, data_path)
    train_rows, _ = split(frame, config)
    features, target = train_rows[config.data.feature_names], train_rows[config.data.target.name]
    metric = config.task.cross_validation

    def objective(trial: Any) -> float:
        params = {name: _suggest(trial, name, dim) for name, dim in config.tuning.space.items()}
        model = config.model.model_copy(update={"params": {**config.model.params, **params}})
        candidate = config.model_copy(update={"model": model})
        scores = cross_val_score(
            build_pipeline(candidate),
            features,
            target,
            cv=config.tuning.cv_folds,
            scoring=metric.scorer,
        )
        value = float(scores.mean())
        if log_trial is not None:
            log_trial(params, metric.value(value))
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=config.seed)
    )
    study.optimize(objective, n_trials=trials or config.tuning.trials)
    atomic_write_text(
        config.model.params_file,
        "# Written by `tune`: the best parameters found; `train` merges them over model.params.\n"
        + write_yaml(study.best_params),
    )
    return TuningResult(
        study.best_params, metric.value(float(study.best_value)), len(study.trials), metric
    )
