"""The ``{{ cookiecutter.project_slug }}`` command: one thin, typed sub-command per pipeline step.

Heavy libraries are imported inside the commands, after the config is read, so
``--help``, ``--version`` and a bad config answer at once, and through
``loading_libraries``, so the garbage collector leaves them alone. A command prints its
own lines only; the libraries' logs, warnings and progress bars appear with
``--verbose``. Expected failures (bad config, bad data, a missed quality gate) print a
single ``error:`` line and exit non-zero; see ``errors.py`` for the exit codes.

Every command speaks one vocabulary, which ``tests/test_cli.py`` holds them to:
``--input/-i`` for the data it reads, ``--reference/-r`` for the data it compares with,
``--output/-o`` for a file it writes, ``--output-dir/-d`` for a folder it writes,
``--model/-m``, ``--config/-c`` and ``--verbose/-v``.
"""

{% set sample = "data/sample/churn.csv" if cookiecutter.task == "classification" else "data/sample/house_prices.csv" -%}
from __future__ import annotations

import contextlib
import contextvars
import enum
import functools
import gc
import json
import logging
{%- if cookiecutter.experiment_tracking == "mlflow" or cookiecutter.serving == "fastapi" %}
import os
{%- endif %}
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any{{ ', Literal' if cookiecutter.serving == 'fastapi' }}

import typer

from .errors import ProjectError, ProjectWarning

if TYPE_CHECKING:
    from .config import Config
{%- if cookiecutter.serving == "fastapi" %}
    from .outcomes import LivePerformance
{%- endif %}
    from .tuning import SharedStudy

app = typer.Typer(
    help={{ cookiecutter.description | python_string }},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help text: answers in a fraction of the time
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Each command's --help ends with an example and its exit codes.",
)

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config", "-c", help="Pipeline config; default: configs/config.yaml.", show_default=False
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
{%- if cookiecutter.experiment_tracking == "mlflow" %}
        help="Run folder/id or models:/NAME@ALIAS; default: latest.",
{%- else %}
        help="Run folder or run id; default: the latest good run.",
{%- endif %}
    ),
]
ExternalModelOption = Annotated[
    bool,
    typer.Option("--allow-external-model", help="Let --model name a folder outside paths.models."),
]
VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Show the libraries' logs and warnings too."),
]
SkipInvalidOption = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Use the valid rows, set the others aside."),
]
BatchRowsOption = Annotated[
    int | None,
    typer.Option(
        min=1, metavar="<rows>", help="Rows read at a time; default: 100,000.", show_default=False
    ),
]
DataFileOption = Annotated[
    Path | None,
    typer.Option("--input", "-i", help="CSV or Parquet file; default: data.path.", dir_okay=False),
]
OutputDirOption = Annotated[
    Path,
    typer.Option(
        "--output-dir",
        "-d",
        help="Report folder; default: reports/monitoring.",
        show_default=False,
        file_okay=False,
    ),
]
# Where an earlier release took -v: before the command, for all of them. Still honoured
# for one more release; set afresh by every invocation.
VERBOSE_BEFORE_THE_COMMAND = contextvars.ContextVar("verbose_before_the_command", default=False)
# Names that an earlier release used, still taken for one more release but not shown.
OldDataOption = Annotated[Path | None, typer.Option("--data", hidden=True)]
OldCurrentOption = Annotated[Path | None, typer.Option("--current", hidden=True)]
DEFAULT_CONFIG = Path("configs/config.yaml")


def command(function: Callable[..., Any]) -> Callable[..., Any]:
    """Register ``<name>_command`` as the sub-command ``<name>``, printing its own lines only.

    The libraries stay quiet unless the command's ``--verbose`` is given, and a
    ``ProjectError`` becomes one ``error:`` line on stderr and its exit code.
    """

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with contextlib.ExitStack() as stack:
            if not (kwargs["verbose"] or VERBOSE_BEFORE_THE_COMMAND.get()):
                stack.enter_context(quiet_libraries())
            stack.enter_context(own_warnings_as_lines())
            try:
                return function(*args, **kwargs)
            except ProjectError as error:
                typer.echo(f"error: {error}", err=True)
                raise typer.Exit(error.exit_code) from None

    # ``train_command`` is ``train``: the library's own names stay free for its imports.
    name = function.__name__.removesuffix("_command").replace("_", "-")
    return app.command(name)(run)


INPUT = "'--input' / '-i'"
OUTPUT = "'--output' / '-o'"


def renamed(value: Path | None, old_value: Path | None, old_name: str) -> Path | None:
    """The option's value, taken from its old name when only that was given."""
    if old_value is None:
        return value
    if value is not None:
        raise typer.BadParameter(f"{old_name} is its old name: give only one", param_hint=INPUT)
    typer.echo(f"note: {old_name} is now --input (-i); the old name will go", err=True)
    return old_value


def required(value: Path | None) -> Path:
    if value is None:
        raise typer.BadParameter("missing: name the file to read", param_hint=INPUT)
    return value


@contextlib.contextmanager
def skipping_named() -> Iterator[None]:
    """Where some rows are invalid and the others fine, the error says how to use those."""
    from .errors import InvalidRowsError

    try:
        yield
    except InvalidRowsError as error:
        raise InvalidRowsError(
            f"{error}; --skip-invalid uses the valid rows and sets these aside"
        ) from None


def counted(number: int, noun: str) -> str:
    """``1 prediction``, ``3 predictions``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


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
def own_warnings_as_lines() -> Iterator[None]:
    """Print the project's own warnings (a skipped log line, say) as ``warning:`` lines.

    They are about the user's files, so they show with or without ``--verbose``.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("always", category=ProjectWarning)
        show_others = warnings.showwarning

        def show(
            message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
        ) -> None:
            if issubclass(category, ProjectWarning):
                typer.echo(f"warning: {message}", err=True)
            else:
                show_others(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


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
    from .mlflow_store import open_store

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
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", hidden=True)] = False,
) -> None:
    """Train, evaluate, predict and monitor the model."""
    if verbose:
        typer.echo(
            "note: -v now goes after the command (train -v); before it, it will go", err=True
        )
    VERBOSE_BEFORE_THE_COMMAND.set(verbose)


@command
def validate_command(
    input_path: DataFileOption = None,
    config: ConfigOption = DEFAULT_CONFIG,
    labelled: Annotated[
        bool, typer.Option(help="Require the target column (the default).", show_default=False)
    ] = True,
    verbose: VerboseOption = False,
) -> None:
    """Check a data file against the schema and train's needs.

    Labelled data gets every check train makes, and a warning for a feature that looks
    like an ID, holds dates or alone gives the target away.

    \b
    Example: {{ cookiecutter.project_slug }} validate -i {{ sample }}
    Exit codes: 0 valid, 1 invalid data or config, 2 bad usage.
    """
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .data import read_configured, validate, warn_of_missing_passthrough

    source = input_path or settings.data.path
    read = read_configured(source, settings.data)
    frame = validate(read, settings.data, with_target=labelled, source=str(source))
    warn_of_missing_passthrough(read, settings.data, str(source))
    if labelled:
        with loading_libraries():
            from .config_draft import suspicious_features
            from .data import check_trainable
            from .train import split

        check_trainable(frame, settings.data, source=str(source))
        split(frame, settings)
        for warning in suspicious_features(frame, settings.data, settings.task):
            typer.echo(f"warning: {source}: {warning}", err=True)
    missing = int(frame.isna().sum().sum())
    typer.echo(
        f"{source}: {len(frame)} rows, {frame.shape[1]} columns, {missing} missing values: valid"
    )


@command
def init_config_command(
    input_path: Annotated[
        Path,
        typer.Option("--input", "-i", help="Your CSV or Parquet file.", dir_okay=False),
    ],
    target: Annotated[str, typer.Option("--target", help="The column to predict.")],
    output_path: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Config to write; default: configs/config.yaml.",
            dir_okay=False,
            show_default=False,
        ),
    ] = DEFAULT_CONFIG,
    config: Annotated[
        Path,
        typer.Option(
            "--config",
            "-c",
            help="Keep the other sections of this config.",
            show_default=False,
        ),
    ] = DEFAULT_CONFIG,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing output file.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Draft the config for your own table.

    The task, the schema, a quality gate and the model card come from the data. Columns
    that should not be features (IDs, constant or empty ones, one that gives the target
    away) are left out, each with a comment that says why.

    \b
    Example: {{ cookiecutter.project_slug }} init-config -i data/raw/table.csv --target y --force
    Exit codes: 0 written, 1 unusable data or config, 2 bad usage.
    """
    from .artifacts import atomic_write_text
    from .config import config_from, read_yaml, read_yaml_file
    from .errors import ConfigError

    if output_path.exists() and not force:
        raise ConfigError(f"{output_path}: exists; add --force to replace it")
    read_yaml_file(config, "config to start from")  # a clear error if it is unreadable
    with loading_libraries():
        from .config_draft import draft
        from .data import read_table

    drafted = draft(
        input_path,
        read_table(input_path),
        target,
        config.read_text(encoding="utf-8"),
        Path("pyproject.toml"),
    )
    try:
        config_from(read_yaml(drafted.text), output_path)
    except ConfigError as error:  # a section kept from a broken config, say
        raise ConfigError(
            f"the drafted config would not load, so it is not written: {error}"
        ) from None
    atomic_write_text(output_path, drafted.text)
    for line in drafted.summary:
        typer.echo(line, err=line.startswith("warning:"))
    typer.echo(f"wrote {output_path}; next: validate, then train")


@command
def ingest_command(
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="Raw CSV or Parquet file.", dir_okay=False)
    ],
    output_path: Annotated[
        Path, typer.Option("--output", "-o", help="Validated copy to write.", dir_okay=False)
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    verbose: VerboseOption = False,
) -> None:
    """Validate labelled data and write a typed copy.

    \b
    Example: {{ cookiecutter.project_slug }} ingest -i {{ sample }} -o clean.parquet
    Exit codes: 0 written, 1 invalid data or config, 2 bad usage.
    """
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .artifacts import refuse_overwriting
        from .data import load_dataset, write_table

    refuse_overwriting(output_path, input_path, config)
    frame = load_dataset(settings.data, input_path)
    write_table(frame, output_path, quote_formulas=False)
    typer.echo(f"wrote {len(frame)} validated rows to {output_path}")


@command
def train_command(
    input_path: DataFileOption = None,
    config: ConfigOption = DEFAULT_CONFIG,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-d",
            help="Also copy the run here, over an earlier copy.",
            file_okay=False,
        ),
    ] = None,
    verbose: VerboseOption = False,
    old_data: OldDataOption = None,
) -> None:
    """Train, gate and save a model with its model card.

    \b
    Example: {{ cookiecutter.project_slug }} train -i data/processed/dataset.parquet
    Exit codes: 0 trained, 1 bad config/data/store, 2 bad usage, 3 gate missed.
    """
    from .artifacts import copy_run, ensure_replaceable
    from .config import load_config

    data = renamed(input_path, old_data, "--data")
    settings = load_config(config)
    if output_dir is not None:
        ensure_replaceable(output_dir)
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    with contextlib.ExitStack() as stack:
        log_run = None
        if settings.tracking.enabled:
            from .tracking_worker import TrackingWorker

            log_run = stack.enter_context(TrackingWorker(settings, verbose=verbose)).log
        with loading_libraries():
            from .train import train

        run = train(settings, data, log_run)
{%- else %}
    with loading_libraries():
        from .train import train

    run = train(settings, data)
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


@command
def evaluate_command(
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input", "-i", help="Labelled CSV or Parquet file (required).", dir_okay=False
        ),
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    model: ModelOption = None,
    allow_external_model: ExternalModelOption = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Also write the metrics to this JSON file.", dir_okay=False
        ),
    ] = None,
    verbose: VerboseOption = False,
    old_data: OldDataOption = None,
) -> None:
    """Score a saved model on labelled data; print JSON.

    \b
    Example: {{ cookiecutter.project_slug }} evaluate -i {{ sample }} -o scores.json
    Exit codes: 0 scored, 1 bad config, data or model, 2 bad usage.
    """
    from .config import load_config

    data = required(renamed(input_path, old_data, "--data"))
    settings = load_config(config)
    if output is not None:
        from .artifacts import refuse_overwriting

        refuse_overwriting(output, data, config)
    with loading_libraries():
        from .evaluate import evaluate_file
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if _uses_registry(model):
            _open_tracking_store(settings)
{%- endif %}

    evaluation = evaluate_file(settings, data, model, allow_external=allow_external_model)
    if evaluation.training_share:
        typer.echo(
            f"warning: {data}: holds about {evaluation.training_share:.0%} of the rows model "
            f"{evaluation.model_version} was trained on; scores on them overstate how it does "
            "on new data",
            err=True,
        )
    if output is not None:
        from .artifacts import write_json

        write_json(output, evaluation.as_dict())
    typer.echo(json.dumps(evaluation.as_dict(), indent=2))


class Engine(enum.StrEnum):
    """Where ``predict`` scores: in this process, or on the Spark cluster it can reach."""

    LOCAL = "local"
    SPARK = "spark"


@command
def predict_command(
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="CSV or Parquet rows (Spark: a folder).")
    ],
    output_path: Annotated[
        Path, typer.Option("--output", "-o", help="Predictions (Spark: a folder).")
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    model: ModelOption = None,
    allow_external_model: ExternalModelOption = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add each column's contribution to each row.")
    ] = False,
    skip_invalid: SkipInvalidOption = False,
    batch_rows: BatchRowsOption = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="local (default) or spark (Parquet).", metavar="<engine>", show_default=False
        ),
    ] = Engine.LOCAL,
    verbose: VerboseOption = False,
) -> None:
    """Predict every row of a file with the saved model.

    The file is scored a batch at a time, so its length does not matter; the output
    appears once it is complete. One invalid row fails the whole file unless
    --skip-invalid is given: then the invalid rows go to <output>.rejected.<suffix>,
    each with a reason column. With --engine spark, Spark reads Parquet and writes a
    folder of Parquet parts (and <output>.rejected), on the master SPARK_REMOTE or
    spark-submit gives, else in local mode on every core.

    \b
    Example: {{ cookiecutter.project_slug }} predict -i {{ sample }} -o scored.csv
    Exit codes: 0 written, 1 bad config, data or model, 2 bad usage.
    """
    from .config import load_config

    if engine is Engine.SPARK:
        _refuse_for_spark(input_path, output_path, batch_rows)
    else:
        _refuse_folders(input_path, output_path)
    settings = load_config(config)
    with loading_libraries():
        from .predict import predict_file
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if _uses_registry(model):
            _open_tracking_store(settings)
{%- endif %}

    options: dict[str, Any] = {
        "model": model,
        "allow_external_model": allow_external_model,
        "explain": explain,
        "skip_invalid": skip_invalid,
    }
    if engine is Engine.SPARK:
        _predict_on_spark(settings, input_path, output_path, verbose=verbose, **options)
        return
    with skipping_named():
        result = predict_file(settings, input_path, output_path, batch_rows=batch_rows, **options)
    typer.echo(f"wrote {counted(result.rows, 'prediction')} to {output_path}")
    if result.rejected_rows is not None:
        rejected = counted(result.rejected_rows, "invalid row")
        typer.echo(f"set aside {rejected} in {result.rejected_path}")


def _refuse_folders(input_path: Path, output_path: Path) -> None:
    """On one machine, predict reads a file and writes one."""
    for path, hint in ((input_path, INPUT), (output_path, OUTPUT)):
        if path.is_dir():
            raise typer.BadParameter(
                f"{path} is a folder: name a file (--engine spark reads and writes folders)",
                param_hint=hint,
            )


def _refuse_for_spark(input_path: Path, output_path: Path, batch_rows: int | None) -> None:
    """What Spark does not take: a CSV, a single output file, a batch size of the user's."""
    if batch_rows is not None:
        raise typer.BadParameter(
            "Spark sizes its own batches; leave it out with --engine spark",
            param_hint="'--batch-rows'",
        )
    if input_path.suffix.lower() in (".csv", ".jsonl"):
        raise typer.BadParameter(
            f"{input_path}: --engine spark reads Parquet; convert it, or score it without Spark",
            param_hint=INPUT,
        )
    if output_path.suffix.lower() in (".csv", ".jsonl"):
        raise typer.BadParameter(
            f"{output_path}: --engine spark writes a folder of Parquet parts; name a folder",
            param_hint=OUTPUT,
        )


def _predict_on_spark(
    settings: Config, input_path: Path, output_path: Path, *, verbose: bool, **options: Any
) -> None:
    """``predict --engine spark``: checked and the model loaded, then scored on Spark."""
    from .spark_scoring import SparkScoring, spark_session, where_it_ran

    with skipping_named():
        job = SparkScoring.prepare(settings, input_path, output_path, **options)
        with spark_session(verbose=verbose) as spark:
            result = job.run(spark)
            where = where_it_ran(spark)
    parts = counted(result.parts, "Parquet part")
    typer.echo(
        f"wrote {counted(result.rows, 'prediction')} to {output_path} ({parts}; Spark {where})"
    )
    if result.rejected_rows is not None:
        rejected = counted(result.rejected_rows, "invalid row")
        typer.echo(f"set aside {rejected} in {result.rejected_path}")


@command
def monitor_command(
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
{%- if cookiecutter.serving == "fastapi" %}
            help="Recent rows: CSV, Parquet, the API's log (required).",
{%- else %}
            help="Recent rows: a CSV or Parquet file (required).",
{%- endif %}
            dir_okay=False,
        ),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference",
            "-r",
            help="Baseline rows; default: the model's training data.",
            dir_okay=False,
        ),
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    output_dir: OutputDirOption = Path("reports/monitoring"),
    model: ModelOption = None,
    allow_external_model: ExternalModelOption = False,
    skip_invalid: SkipInvalidOption = False,
    batch_rows: BatchRowsOption = None,
{%- if cookiecutter.serving == "fastapi" %}
    feedback: Annotated[
        Path | None,
        typer.Option(help="The API's feedback log: score each model live.", dir_okay=False),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            metavar="<span>",
            help="Time window of the --feedback scores; default: 1D.",
            show_default=False,
        ),
    ] = None,
{%- endif %}
    verbose: VerboseOption = False,
    old_current: OldCurrentOption = None,
) -> None:
    """Check recent data for drift from the training data.

    The file is read a batch at a time, so its length does not matter; the training
    data is not read either: its profile was saved with the model. Exits 3 when
    features drift; fewer rows than monitoring.min_rows are not judged. When the recent
    rows carry the target, the report also scores the model on them. With
    --skip-invalid, rows that break the schema go to rejected.csv beside the report.

    \b
    Example: {{ cookiecutter.project_slug }} monitor -i {{ sample }}
    Exit codes: 0 no drift or too few rows, 1 bad input, 2 bad usage, 3 drift.
    """
    from .config import load_config

    current = required(renamed(input_path, old_current, "--current"))
    settings = load_config(config)
    with loading_libraries():
        from .monitoring import INSUFFICIENT_DATA, REJECTED_FILE, monitor
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if _uses_registry(model):
            _open_tracking_store(settings)
{%- endif %}

{%- if cookiecutter.serving == "fastapi" %}
    live = None
    if feedback is None and window is not None:
        raise typer.BadParameter(
            "windows the --feedback scores: give --feedback", param_hint="'--window'"
        )
    if feedback is not None:
        live = _live_performance(settings, current, feedback, window or "1D", output_dir)
{%- endif %}
    with skipping_named():
        report = monitor(
            settings,
            current,
            output_dir,
            model,
            reference_path=reference,
            allow_external_model=allow_external_model,
            skip_invalid=skip_invalid,
            batch_rows=batch_rows,
        )
    if skip_invalid:
        rejected = counted(report.rejected_rows, "invalid row")
        typer.echo(f"set aside {rejected} in {output_dir / REJECTED_FILE}")
    where = output_dir / "drift.html"
    if report.status == INSUFFICIENT_DATA:
        rows = min(report.current_rows, report.reference_rows)
        which = "current" if rows == report.current_rows else "reference"
        typer.echo(
            f"not enough data to judge drift: {rows} {which} rows, fewer than "
            f"monitoring.min_rows ({settings.monitoring.min_rows}); report: {where}"
        )
    else:
        typer.echo(f"no drift ({report.drifted_share:.0%} of features drifted); report: {where}")
{%- if cookiecutter.serving == "fastapi" %}
    if live is not None and live.failures:
        from .errors import CheckFailedError

        raise CheckFailedError("the champion misses the quality gate on live traffic")


def _live_performance(
    settings: Config, prediction_log: Path, feedback: Path, window: str, output_dir: Path
) -> LivePerformance:
    """Score each model on the outcomes in ``feedback``; write and print what was found."""
    import dataclasses

    import pandas as pd

    from .artifacts import write_json
    from .outcomes import LIVE_FILE, live_performance

    try:  # a fixed span, which timestamps can be floored to: not a week or a month
        span = pd.Timedelta(window)
        pd.Timestamp(0, tz="UTC").floor(window)
    except (ValueError, TypeError):
        span = pd.Timedelta(0)
    if span <= pd.Timedelta(0):
        raise typer.BadParameter(
            "a positive time span such as 1D, 12h or 30min", param_hint="'--window'"
        )
    if prediction_log.suffix != ".jsonl":
        raise typer.BadParameter(
            "joins the API's prediction log: give it as --input", param_hint="'--feedback'"
        )
    live = live_performance(settings, prediction_log, feedback, window)
    write_json(output_dir / LIVE_FILE, dataclasses.asdict(live))
    typer.echo(f"{live.summary()}; report: {output_dir / LIVE_FILE}")
    return live


@command
def experiment_report_command(
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help="The API's prediction log; default: the config's.",
            dir_okay=False,
        ),
    ] = None,
    feedback: Annotated[
        Path | None,
        typer.Option(help="The API's feedback log; default: the config's.", dir_okay=False),
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    output_dir: Annotated[
        Path,
        typer.Option(
            "--output-dir",
            "-d",
            help="Report folder; default: reports/experiment.",
            file_okay=False,
            show_default=False,
        ),
    ] = Path("reports/experiment"),
    promote: Annotated[
        bool,
        typer.Option("--promote", help="Hand over to the challenger if it won."),
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Compare challenger and champion on live traffic.

    Joins the prediction and feedback logs of serve --challenger and compares the two
    arms by the task's online metric, with confidence intervals and a significance test.
    Writes report.json and report.html; --promote hands over only to a winner, and
    points models/latest at the model that serves on.

    \b
    Example: {{ cookiecutter.project_slug }} experiment-report --promote
    Exit codes: 0 any verdict, 1 bad config, logs or promotion, 2 bad usage.
    """
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .artifacts import atomic_write_text, write_json
        from .experiment_report import experiment_report, promote_winner, render_html
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if promote and settings.tracking.enabled:
            _open_tracking_store(settings)
{%- endif %}

    serving = settings.serving
    report = experiment_report(
        settings, input_path or serving.prediction_log, feedback or serving.feedback_log
    )
    write_json(output_dir / "report.json", report.to_dict())
    atomic_write_text(output_dir / "report.html", render_html(report))
    typer.echo(f"winner: {report.winner} ({report.reason}); report: {output_dir / 'report.html'}")
    if promote:
        typer.echo(promote_winner(settings, report))
{%- endif %}


@command
def tune_command(
    input_path: DataFileOption = None,
    config: ConfigOption = DEFAULT_CONFIG,
    trials: Annotated[
        int | None,
        typer.Option(help="Trials to run; default: tuning.trials.", min=1, metavar="<n>"),
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="Database URL of a shared study; or set TUNING_STORAGE.",
            envvar="TUNING_STORAGE",
            show_default=False,
            show_envvar=False,
        ),
    ] = None,
    study: Annotated[
        str | None,
        typer.Option(help="Name of the shared study.", show_default=False),
    ] = None,
    max_study_trials: Annotated[
        int | None,
        typer.Option(
            help="Cap on the shared study's trials.", min=1, metavar="<n>", show_default=False
        ),
    ] = None,
    write_best_only: Annotated[
        bool,
        typer.Option("--write-best", help="Run no trial: write the shared study's best."),
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Search hyperparameters for train to use.

    The best are written to model.params_file, where train reads them. With --storage,
    this process joins a study that other workers share (on this machine or others) and
    runs --trials trials of it (--max-study-trials caps the whole study); `tune
    --write-best` then writes the best.

    \b
    Example: {{ cookiecutter.project_slug }} tune --trials 10
    Workers: {{ cookiecutter.project_slug }} tune --storage URL --study s1 --trials 50
    Then:    {{ cookiecutter.project_slug }} tune --storage URL --study s1 --write-best
    Exit codes: 0 searched or written, 1 bad config, data or storage, 2 bad usage.
    """
    from .config import load_config

    shared = _shared_study(storage, study, write_best_only, trials, max_study_trials)
    settings = load_config(config)
    with loading_libraries():
        from .tuning import tune, write_best
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if settings.tracking.enabled and not write_best_only:
            _open_tracking_store(settings)
{%- endif %}
    if write_best_only and shared is not None:
        result = write_best(settings, shared, input_path)
    else:
{%- if cookiecutter.experiment_tracking == "mlflow" %}
        with contextlib.ExitStack() as stack:
            log_trial = None
            if settings.tracking.enabled:
                from .tracking import tuning_runs

                log_trial = stack.enter_context(tuning_runs(settings))
            result = tune(settings, input_path, trials, log_trial, shared, max_study_trials)
{%- else %}
        result = tune(
            settings, input_path, trials, shared=shared, max_study_trials=max_study_trials
        )
{%- endif %}
    metric = result.metric
    where = "" if shared is None else f"study {shared.name}: "
    by_this = (
        f" ({result.ran} by this process)" if shared is not None and not write_best_only else ""
    )
    typer.echo(
        f"{where}best {metric.name} {result.best_score:.4f} ({settings.tuning.cv_folds}-fold "
        f"cv, {metric.direction}) after {result.trials} trials{by_this}: {result.best_params}"
    )
    if result.written is not None:
        typer.echo(f"wrote {result.written}; run train to use them")
    elif shared is not None:
        typer.echo(
            f"once every worker is done: tune --study {shared.name} --write-best, with the same "
            "storage, writes the best for train"
        )


def _shared_study(
    storage: str | None,
    study: str | None,
    write_best_only: bool,
    trials: int | None,
    max_study_trials: int | None,
) -> SharedStudy | None:
    """The shared study the options name; None for a search of this process alone."""
    from .tuning import SharedStudy

    if storage is None:
        if study is not None or write_best_only or max_study_trials is not None:
            raise typer.BadParameter(
                "a shared study needs its database: give --storage or set TUNING_STORAGE",
                param_hint="'--storage'",
            )
        return None
    if not study:
        raise typer.BadParameter(
            "name the shared study (a storage is set, by --storage or TUNING_STORAGE)",
            param_hint="'--study'",
        )
    if write_best_only and (trials is not None or max_study_trials is not None):
        option = "'--trials'" if trials is not None else "'--max-study-trials'"
        raise typer.BadParameter("--write-best runs no trial", param_hint=option)
    return SharedStudy(storage, study)


{%- if cookiecutter.experiment_tracking == "mlflow" %}


@command
def promote_command(
    version: Annotated[
        int,
        typer.Argument(min=1, metavar="VERSION", help="Registered model version to consider."),
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    verbose: VerboseOption = False,
) -> None:
    """Make VERSION champion if it beats the champion.

    Both are compared on the held-out rows, by tracking.promotion.metric. A new
    champion trained in this project becomes models/latest too.

    \b
    Example: {{ cookiecutter.project_slug }} promote 2
    Exit codes: 0 decided (either way), 1 bad config/version/store, 2 bad usage.
    """
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .registry import HeldOut, promote

        _open_tracking_store(settings)

    promotion = promote(settings, str(version), HeldOut.of_configured_data(settings))
    typer.echo(promotion.describe())
    if promotion.promoted:
        _latest_follows_champion(settings, promotion.version)


@command
def rollback_command(config: ConfigOption = DEFAULT_CONFIG, verbose: VerboseOption = False) -> None:
    """Give the champion alias back to the previous one.

    Its run becomes models/latest too, if it was trained in this project.

    \b
    Example: {{ cookiecutter.project_slug }} rollback
    Exit codes: 0 rolled back, 1 no earlier champion or bad config, 2 bad usage.
    """
    from .config import load_config

    settings = load_config(config)
    with loading_libraries():
        from .registry import CHAMPION, rollback

        _open_tracking_store(settings)

    version = rollback(settings)
    typer.echo(f"{CHAMPION} is version {version} again")
    _latest_follows_champion(settings, version)


def _latest_follows_champion(settings: Config, version: str) -> None:
    """Point models/latest at the champion's run, so that commands run without --model
    use the champion too; the run is found only if it was trained on this machine."""
    from .artifacts import point_latest_at
    from .registry import registered_run

    run_id = registered_run(settings, version)
    if run_id is not None:
        typer.echo(point_latest_at(settings.paths.models, run_id))
{%- endif %}
{% if cookiecutter.serving == "fastapi" %}

@command
def serve_command(
    config: ConfigOption = DEFAULT_CONFIG,
    model: ModelOption = None,
    allow_external_model: ExternalModelOption = False,
    host: Annotated[
        str | None, typer.Option(help="Address to bind; default: serving.host.")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port; default: serving.port.", min=1, max=65535)
    ] = None,
    challenger: Annotated[
        str | None,
        typer.Option(help="A model to test against --model; see --mode."),
    ] = None,
    mode: Annotated[
        Literal["ab", "shadow"] | None,
        typer.Option(
            metavar="<mode>",
            help="ab (it answers a share) or shadow; default: ab.",
            show_default=False,
        ),
    ] = None,
    challenger_share: Annotated[
        float | None,
        typer.Option(
            metavar="<x>",
            help="Share of records it answers; default: config.",
            show_default=False,
        ),
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Serve the model over HTTP until interrupted.

    With --challenger, two models serve one experiment: in ab mode the challenger
    answers a share of the records, picked by a hash of serving.experiment.key; in
    shadow mode the model answers every record and the challenger predicts each one
    after the response has gone. The log names the arm and version of every prediction.
    The OpenAPI docs are at /docs.

    A model that does not load leaves the API up but unready: /ready and /predict
    answer 503 with the reason, which the server's log shows too.

    \b
    Example: {{ cookiecutter.project_slug }} serve --challenger {{ "models:/NAME/2" if cookiecutter.experiment_tracking == "mlflow" else "<run id>" }} --mode shadow
    Exit codes: 0 stopped, 1 bad config or port, 2 bad usage.
    """
    from .config import load_config

    if challenger is None and (mode is not None or challenger_share is not None):
        given = "'--mode'" if mode is not None else "'--challenger-share'"
        raise typer.BadParameter("needs --challenger", param_hint=given)
    if challenger_share is not None and not 0 < challenger_share < 1:
        raise typer.BadParameter("between 0 and 1, exclusive", param_hint="'--challenger-share'")
    if mode == "shadow" and challenger_share is not None:
        raise typer.BadParameter("applies to --mode ab only", param_hint="'--challenger-share'")
    settings = load_config(config)
    with loading_libraries():
        import uvicorn

        from .api import create_app, listening_socket
{%- if cookiecutter.experiment_tracking == "mlflow" %}

        if _uses_registry(model) or _uses_registry(challenger):
            _open_tracking_store(settings)
{%- endif %}

    host, port = host or settings.serving.host, port or settings.serving.port
    # Bound here, before the model loads, so a busy port is one line that says so
    # (uvicorn's own exit code for it, 3, would read as "a check failed").
    try:
        listening = listening_socket(host, port)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise ProjectError(f"cannot serve on {host}:{port}: {reason}") from None
    # Unlike other libraries' logs, uvicorn's start-up and request lines are this command's output.
    logging.disable(logging.NOTSET)
    with listening:
        api = create_app(
            settings,
            model,
            challenger=challenger,
            mode=mode or "ab",
            share=challenger_share,
            allow_external_model=allow_external_model,
        )
        server = uvicorn.Server(uvicorn.Config(api, host=host, port=port))
        server.run(sockets=[listening])
{% endif %}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
