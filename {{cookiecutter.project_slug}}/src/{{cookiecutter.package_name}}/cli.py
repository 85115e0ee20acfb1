"""The ``{{ cookiecutter.project_slug }}`` command: one thin, typed sub-command per pipeline step.

Heavy libraries are imported inside the commands, after the config is read, so
``--help``, ``--version`` and a bad config answer at once, and through
``loading_libraries``, so the garbage collector leaves them alone. A command prints its
own lines only; the libraries' logs, warnings and progress bars appear with
``--verbose``. Expected failures (bad config, bad data, a missed quality gate) print a
single ``error:`` line and exit non-zero; see ``errors.py`` for the exit codes.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import logging
{%- if cookiecutter.experiment_tracking == "mlflow" %}
import os
{%- endif %}
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import {{ 'TYPE_CHECKING, ' if cookiecutter.experiment_tracking == 'mlflow' }}Annotated, Any

import typer

from .errors import ProjectError
{%- if cookiecutter.experiment_tracking == "mlflow" %}

if TYPE_CHECKING:
    from .config import Config
{%- endif %}

app = typer.Typer(
    help={{ cookiecutter.description | python_string }},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help text: answers in a fraction of the time
)

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Pipeline config (YAML).", show_default=True)
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Run folder or run id{{ ', or models:/<name>@champion' if cookiecutter.experiment_tracking == 'mlflow' }}; default: the latest good run.",
    ),
]
DEFAULT_CONFIG = Path("configs/config.yaml")


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ``ProjectError`` into one ``error:`` line on stderr and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ProjectError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(error.exit_code) from None

    return wrapper


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Keep a command's output to its own lines: results, paths written, decisions.

    The libraries underneath log at INFO, warn about their own internals and draw
    progress bars; none of it is about the user's model, and it buries what is. Real
    failures still surface, as exceptions that ``reports_errors`` prints as one line.
    """
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    # MLflow's own switches for what it prints without logging: download progress bars,
    # and links to each run when the store is a tracking server.
    switches = {
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    }
    previous = {name: os.environ.get(name) for name in switches}
    os.environ.update(switches)
{%- endif %}
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)
{%- if cookiecutter.experiment_tracking == "mlflow" %}
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
{%- endif %}


@contextlib.contextmanager
def loading_libraries() -> Iterator[None]:
    """Import the ML libraries with the cycle collector paused, then freeze what they built.

    Importing pandas, scikit-learn and pandera creates over a hundred thousand objects
    that live as long as the process, and next to no garbage. Left alone, the collector
    walks them all again while they load, while the command runs and once more at exit:
    about half a second of a short command. Frozen, they are out of its way; it still
    collects what the command itself leaves behind.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


{%- if cookiecutter.experiment_tracking == "mlflow" %}


def _open_tracking_store(settings: Config) -> None:
    """Import MLflow and open the store; call it inside ``loading_libraries``.

    Opening the first store imports MLflow's database layer too: together most of what
    tracking costs a command, and as many long-lived objects again as the ML libraries.
    """
    from .tracking import open_store

    open_store(settings)


def _uses_registry(model: str | None) -> bool:
    return model is not None and model.startswith("models:/")
{%- endif %}


def _show_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"{{ cookiecutter.project_slug }} {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    context: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Also show the libraries' logs, warnings and progress bars."
        ),
    ] = False,
) -> None:
    """Train, evaluate, predict and monitor the model."""
    if not verbose:
        context.with_resource(quiet_libraries())  # for as long as the command runs


@app.command()
@reports_errors
def validate(
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="CSV or Parquet file to check.")
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    labelled: Annotated[bool, typer.Option(help="Require the target column too.")] = True,
) -> None:
    """Check a data file against the schema in the config."""
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .data import read_table
        from .data import validate as validate_frame

    frame = validate_frame(
        read_table(input_path), settings.data, with_target=labelled, source=str(input_path)
    )
    missing = int(frame.isna().sum().sum())
    typer.echo(
        f"{input_path}: {len(frame)} rows, {frame.shape[1]} columns, {missing} missing values: valid"
    )


@app.command()
@reports_errors
def ingest(
    input_path: Annotated[Path, typer.Option("--input", "-i", help="Raw CSV or Parquet file.")],
    output_path: Annotated[Path, typer.Option("--output", "-o", help="Validated copy to write.")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Validate labelled data and write the configured columns, typed, to a new file."""
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .data import load_dataset, write_table

    frame = load_dataset(settings.data, input_path)
    write_table(frame, output_path)
    typer.echo(f"wrote {len(frame)} validated rows to {output_path}")


@app.command()
@reports_errors
def train(
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    context: typer.Context,
{%- endif %}
    config: ConfigOption = DEFAULT_CONFIG,
    data: Annotated[Path | None, typer.Option(help="Training data; default: data.path.")] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-d",
            help="Also copy the run here, replacing an earlier copy (DVC's models/pipeline).",
        ),
    ] = None,
) -> None:
    """Train, evaluate and gate a model; save the run with its model card."""
    from .artifacts import copy_run, ensure_replaceable
    from .config import load_config

    settings = load_config(config)
    if output_dir is not None:
        ensure_replaceable(output_dir)
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    with contextlib.ExitStack() as stack:
        log_run = None
        if settings.tracking.enabled:
            from .tracking_worker import TrackingWorker

            verbose = context.find_root().params["verbose"]
            log_run = stack.enter_context(TrackingWorker(settings, verbose=verbose)).log
        with loading_libraries():
            from .train import train as train_model

        run = train_model(settings, data, log_run)
{%- else %}
    with loading_libraries():
        from .train import train as train_model

    run = train_model(settings, data)
{%- endif %}
    scores = ", ".join(f"{name}={value:.4f}" for name, value in run.metrics.items())
    typer.echo(f"run {run.run_id}: {scores}")
    typer.echo(f"saved {run.run_dir} (model card: {run.run_dir / 'model_card.md'})")
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    if run.promotion:
        typer.echo(f"registry: {run.promotion}")
{%- endif %}
    if output_dir is not None:
        copy_run(run.run_dir, output_dir)
        typer.echo(f"copied it to {output_dir}")


@app.command()
@reports_errors
def evaluate(
    data: Annotated[Path, typer.Option(help="Labelled CSV or Parquet file.")],
    config: ConfigOption = DEFAULT_CONFIG,
    model: ModelOption = None,
    output: Annotated[
        Path | None, typer.Option(help="Also write the metrics to this JSON file.")
    ] = None,
) -> None:
    """Score a saved model on labelled data and print the metrics as JSON."""
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .data import read_table
        from .data import validate as validate_frame
        from .evaluate import score
        from .predict import load_for_inference
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if _uses_registry(model):
            _open_tracking_store(settings)
{%- endif %}

    saved = load_for_inference(settings, model)
    frame = validate_frame(read_table(data), settings.data, with_target=True, source=str(data))
    scores = score(
        settings.task,
        saved.model,
        frame[settings.data.feature_names],
        frame[settings.data.target.name],
    )
    result = {"model_version": saved.version, **scores}
    if output is not None:
        from .artifacts import write_json

        write_json(output, result)
    typer.echo(json.dumps(result, indent=2))


@app.command()
@reports_errors
def predict(
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="CSV or Parquet rows to score.")
    ],
    output_path: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write predictions.")
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    model: ModelOption = None,
    explain: Annotated[
        bool, typer.Option(help="Add per-column contributions for each row.")
    ] = False,
) -> None:
    """Predict every row of a file with the saved pipeline."""
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .predict import predict_file
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if _uses_registry(model):
            _open_tracking_store(settings)
{%- endif %}

    result = predict_file(settings, input_path, output_path, model=model, explain=explain)
    typer.echo(f"wrote {len(result)} predictions to {output_path}")


@app.command()
@reports_errors
def monitor(
    current: Annotated[Path, typer.Option(help="Recent data (CSV or Parquet) to check.")],
    reference: Annotated[
        Path | None, typer.Option(help="Baseline data; default: data.path.")
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    output_dir: Annotated[Path, typer.Option(help="Where drift.json and drift.html go.")] = Path(
        "reports/monitoring"
    ),
    model: ModelOption = None,
) -> None:
    """Compare current data with the reference; exit 3 when the features drift.

    When the current rows carry the target, the report also scores the model on them.
    """
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .monitoring import monitor as measure_drift
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if _uses_registry(model):
            _open_tracking_store(settings)
{%- endif %}

    report = measure_drift(settings, reference or settings.data.path, current, output_dir, model)
    typer.echo(
        f"no drift ({report.drifted_share:.0%} of features drifted); report: {output_dir / 'drift.html'}"
    )


@app.command()
@reports_errors
def tune(
    config: ConfigOption = DEFAULT_CONFIG,
    trials: Annotated[int | None, typer.Option(help="Default: tuning.trials.")] = None,
) -> None:
    """Search hyperparameters; write the best to model.params_file for train."""
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .tuning import tune as search
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if settings.tracking.enabled:
            _open_tracking_store(settings)
{%- endif %}
{% if cookiecutter.experiment_tracking == "mlflow" %}
    if settings.tracking.enabled:
        from .tracking import tuning_runs

        with tuning_runs(settings) as log_trial:
            result = search(settings, trials, log_trial)
    else:
        result = search(settings, trials)
{%- else %}
    result = search(settings, trials)
{%- endif %}
    typer.echo(
        f"best cv score {result.best_score:.4f} after {result.trials} trials: {result.best_params}"
    )
    typer.echo(f"wrote {settings.model.params_file}; run train to use them")
{%- if cookiecutter.experiment_tracking == "mlflow" %}


@app.command()
@reports_errors
def promote(
    version: Annotated[str, typer.Argument(help="Registered model version to consider.")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Make VERSION champion if it beats the champion on the held-out rows."""
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .data import file_sha256
        from .tracking import HeldOut
        from .tracking import promote as compete
        from .train import held_out_fingerprint, held_out_rows

        _open_tracking_store(settings)

    path = settings.data.path
    held_out = HeldOut(
        held_out_fingerprint(settings, file_sha256(path)), lambda: held_out_rows(settings, path)
    )
    typer.echo(compete(settings, version, held_out).describe())


@app.command()
@reports_errors
def rollback(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Give the champion alias back to the previous champion."""
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .tracking import CHAMPION
        from .tracking import rollback as restore

        _open_tracking_store(settings)

    version = restore(settings)
    typer.echo(f"{CHAMPION} is version {version} again")
{%- endif %}
{% if cookiecutter.serving == "fastapi" %}

@app.command()
@reports_errors
def serve(
    config: ConfigOption = DEFAULT_CONFIG,
    model: ModelOption = None,
    host: Annotated[str | None, typer.Option(help="Default: serving.host.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: serving.port.")] = None,
) -> None:
    """Serve the model over HTTP (docs at /docs) until interrupted."""
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        import uvicorn

        from .api import create_app
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if _uses_registry(model):
            _open_tracking_store(settings)
{%- endif %}

    # Unlike other libraries' logs, uvicorn's start-up and request lines are this command's output.
    logging.disable(logging.NOTSET)
    uvicorn.run(
        create_app(settings, model),
        host=host or settings.serving.host,
        port=port or settings.serving.port,
    )
{% endif %}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
