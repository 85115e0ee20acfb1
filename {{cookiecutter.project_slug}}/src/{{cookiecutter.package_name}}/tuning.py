"""Hyperparameter search with Optuna over the space declared in ``tuning.space``.

Each trial scores a candidate by cross-validation on the training part only, so the
held-out rows that judge the final model never guide the search. The best parameters
are written to ``model.params_file``, where ``train`` picks them up.

By default a search is one process and one in-memory study, seeded by the config. A
``SharedStudy`` lives in a database (PostgreSQL for workers on several machines) that
any number of ``tune`` processes join: each runs its own number of trials (the study
as a whole optionally capped), and ``write_best`` writes the best parameters once,
when asked.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .artifacts import atomic_write_text
from .config import Config, SearchDimension, write_yaml
from .data import file_sha256, load_dataset
from .errors import ConfigError, ProjectError
from .tasks import CrossValidationMetric
from .train import build_pipeline, split

if TYPE_CHECKING:
    import optuna

TrialLogger = Callable[[dict[str, Any], float], None]
"""Records one trial: its parameters and its cross-validated score, in the metric's terms."""

SEARCH_ATTRIBUTE = "search_sha256"  # on a shared study: which search its trials belong to
PARAMS_FILE_HEADER = (
    "# Written by `tune`: the best parameters found; `train` merges them over model.params.\n"
)


@dataclass(frozen=True)
class SharedStudy:
    """A study kept in a database (an SQLAlchemy URL) that several workers add trials to."""

    storage: str
    name: str


@dataclass(frozen=True)
class TuningResult:
    best_params: dict[str, Any]
    best_score: float  # in the metric's own terms: a positive RMSE, not its negation
    trials: int  # finished trials in the study
    ran: int  # of those, the trials this process ran
    metric: CrossValidationMetric
    written: Path | None  # where the best parameters went, if they were written


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
    shared: SharedStudy | None = None,
    max_study_trials: int | None = None,
) -> TuningResult:
    """Search ``tuning.space`` for ``trials`` trials (``tuning.trials``).

    On a shared study, ``max_study_trials`` caps the study as a whole, other workers'
    trials included: this worker stops once the study holds that many, and a trial it
    draws past the cap is recorded as pruned, so workers that reach it together never
    overshoot it.

    The search reads ``data_path`` (default: ``data.path``) and, like ``train``, keeps its
    held-out part out of every trial. A local search writes the best parameters to
    ``model.params_file``; a shared one leaves that to ``write_best``, as other workers
    may still be adding trials.
    """
    import optuna
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    _check_search(config)
    source = Path(data_path or config.data.path)
    train_rows, _ = split(load_dataset(config.data, source), config)
    features, target = train_rows[config.data.feature_names], train_rows[config.data.target.name]
    metric = config.task.cross_validation
    budget = trials or config.tuning.trials
    study = _open_study(config, shared, search_sha256(config, source))
    ran = 0

    def objective(trial: optuna.Trial) -> float:
        nonlocal ran
        if max_study_trials is not None and trial.number >= max_study_trials:
            study.stop()  # another worker took the last trial first
            raise optuna.TrialPruned("the study's budget is spent")
        value = _cross_validated(config, trial, features, target)
        ran += 1
        if log_trial is not None:
            log_trial(trial.params, metric.value(value))
        return value

    # Stops as soon as the study holds its cap, trials of other workers included.
    callbacks = []
    if max_study_trials is not None:
        callbacks.append(optuna.study.MaxTrialsCallback(max_study_trials, states=None))
    # One thread for the numerical libraries: tuning workers often share a machine, and
    # two of them on two cores, each with a thread per core, took 1.4x the time of one
    # worker alone; with one thread each, 0.6x (120 trials). One worker alone loses
    # nothing by it.
    with threadpool_limits(limits=1):
        study.optimize(objective, n_trials=budget, callbacks=callbacks)
    return _result(config, study, ran, write=shared is None)


def write_best(config: Config, shared: SharedStudy, data_path: Path | None = None) -> TuningResult:
    """Write the best parameters of a shared study to ``model.params_file``."""
    _check_search(config)
    source = Path(data_path or config.data.path)
    study = _open_study(config, shared, search_sha256(config, source), create=False)
    return _result(config, study, 0, write=True)


def search_sha256(config: Config, data_file: Path) -> str:
    """What makes two trials comparable: the data, its split, the estimator and the space.

    A shared study records it when created; a worker whose config or data differ is
    refused rather than mixing its scores in.
    """
    search = {
        "data": file_sha256(data_file),
        "schema": config.data.model_dump(mode="json", exclude={"path"}),
        "split": config.split.model_dump(mode="json"),
        "seed": config.seed,
        "task": config.task.name,
        "estimator": config.model.estimator,
        # The fixed parameters only: those of the space are what the search varies, and
        # what `--write-best` writes back must not make the study another search.
        "params": {
            name: value
            for name, value in config.model.params.items()
            if name not in config.tuning.space
        },
        "cv_folds": config.tuning.cv_folds,
        "space": {name: dim.model_dump(mode="json") for name, dim in config.tuning.space.items()},
    }
    return hashlib.sha256(json.dumps(search, sort_keys=True).encode()).hexdigest()


def _check_search(config: Config) -> None:
    if not config.tuning.space:
        raise ConfigError("tuning.space is empty: declare the parameters to search")
    if config.model.params_file is None:
        raise ConfigError(
            "model.params_file is not set: it is where tune writes the best parameters"
        )


def _cross_validated(config: Config, trial: Any, features: Any, target: Any) -> float:
    """The mean cross-validated score of the trial's parameters (higher is better)."""
    from sklearn.model_selection import cross_val_score

    params = {name: _suggest(trial, name, dim) for name, dim in config.tuning.space.items()}
    model = config.model.model_copy(update={"params": {**config.model.params, **params}})
    candidate = config.model_copy(update={"model": model})
    scores = cross_val_score(
        build_pipeline(candidate),
        features,
        target,
        cv=config.tuning.cv_folds,
        scoring=config.task.cross_validation.scorer,
    )
    return float(scores.mean())


def _open_study(
    config: Config, shared: SharedStudy | None, search: str, *, create: bool = True
) -> optuna.Study:
    """A new in-memory study, seeded by the config; or the shared study, joined or created.

    Workers of a shared study sample with seeds of their own: with one seed, workers that
    start together would try the same parameters.
    """
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if shared is None:
        sampler = optuna.samplers.TPESampler(seed=config.seed)
        return optuna.create_study(direction="maximize", sampler=sampler)
    absent = None if create else _missing_sqlite_file(shared.storage)
    if absent is not None:
        raise ConfigError(f"study {shared.name!r}: the storage {absent} does not exist")
    try:
        storage = _storage(shared.storage)
        if create:
            study = optuna.create_study(
                storage=storage,
                study_name=shared.name,
                direction="maximize",
                sampler=optuna.samplers.TPESampler(),
                load_if_exists=True,
            )
        else:
            study = optuna.load_study(study_name=shared.name, storage=storage)
    except KeyError:
        raise ConfigError(f"study {shared.name!r} does not exist in that storage") from None
    except ImportError as error:  # Optuna's own, around the driver's
        missing = getattr(error.__cause__ or error.__context__, "name", None) or "its driver"
        raise ConfigError(
            f"tuning storage: the database driver is not installed ({missing}); "
            "for PostgreSQL run `uv sync --group postgres`"
        ) from None
    except SQLAlchemyError as error:  # a bad URL, no server, no access
        raise ProjectError(f"tuning storage: {_first_line(error)}") from None
    recorded = study.user_attrs.get(SEARCH_ATTRIBUTE)
    if recorded is None and create:
        study.set_user_attr(SEARCH_ATTRIBUTE, search)
    elif recorded != search:
        raise ConfigError(
            f"study {shared.name!r} holds trials of another search (other data, split, "
            "estimator or space): name a new study with --study"
        )
    return study


def _missing_sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names, if it does not exist: opening the storage would create
    it, and a command that only reads a study must leave nothing behind."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # opening the storage reports the bad URL
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def _storage(url: str, attempts: int = 5) -> optuna.storages.RDBStorage:
    """Optuna's storage in the database at ``url``, its tables created on first use.

    Workers started together on a new database all try to create those tables, and the
    database lets one win; the others find them made when they look again.
    """
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    for attempt in range(attempts - 1):
        try:
            return _rdb_storage(url)
        except (IntegrityError, ProgrammingError):
            time.sleep(0.2 * (attempt + 1) + random.random() * 0.3)  # noqa: S311 - jitter only
    return _rdb_storage(url)


def _rdb_storage(url: str) -> optuna.storages.RDBStorage:
    """Heartbeats mark the trials of a worker that died as failed, not running for ever;
    Optuna still calls them experimental."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(url, heartbeat_interval=30)


def _first_line(error: BaseException) -> str:
    """An error's first line, without the URL SQLAlchemy may quote (it can hold a password)."""
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else type(error).__name__
    return first if "://" not in first else type(error).__name__


def _result(config: Config, study: optuna.Study, ran: int, *, write: bool) -> TuningResult:
    import optuna

    finished = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not finished:
        raise ProjectError("the study has no finished trial yet: nothing to write")
    params_file = config.model.params_file
    if write and params_file is not None:
        atomic_write_text(params_file, PARAMS_FILE_HEADER + write_yaml(study.best_params))
    metric = config.task.cross_validation
    return TuningResult(
        study.best_params,
        metric.value(float(study.best_value)),
        len(finished),
        ran,
        metric,
        params_file if write else None,
    )
