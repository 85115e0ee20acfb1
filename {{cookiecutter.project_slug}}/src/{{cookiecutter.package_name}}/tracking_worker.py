"""A second process that logs a training run to MLflow, started before training begins.

Importing MLflow and opening its store take about as long as training the baseline on
the sample data, and neither needs the model. The ``train`` command starts this worker
first, so both happen on another core while training loads its own libraries and fits;
once the run folder is written, the worker logs it, registers it and answers with the
registry's decision. ``train`` exits only after that answer, so a run it reports is a
run that is logged. If training stops early, the worker is stopped before it logs.

The training side sends JSON lines on the worker's standard input: the config, then the
run. The worker answers with one JSON line on its standard output, which nothing else
may write to; whatever the libraries print goes to standard error.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from .artifacts import EXAMPLE_ROWS, TrainingRun
from .config import Config, DatetimeColumn
from .errors import ProjectError

if TYPE_CHECKING:
    import pandas as pd

VERBOSE = "--verbose"


def encoded_example(example: pd.DataFrame) -> Any:
    """The input example as JSON can carry it: dates as ISO 8601 text, missing as null."""
    return json.loads(example.to_json(orient="split", date_format="iso"))


def decoded_example(payload: Any, config: Config) -> pd.DataFrame:
    """The input example again, each date column a datetime column as validation makes it."""
    import pandas as pd  # the worker's side: pandas comes with MLflow there anyway

    example = pd.DataFrame(**payload)
    for column in config.data.features:
        if isinstance(column, DatetimeColumn):
            example[column.name] = pd.to_datetime(example[column.name]).astype("datetime64[ns]")
    return example


class TrackingWorker:
    """The training side: starts the worker, hands it the finished run, waits for it."""

    def __init__(self, config: Config, *, verbose: bool = False) -> None:
        self._config = config
        command = [sys.executable, "-m", __name__, *([VERBOSE] if verbose else [])]
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this module
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
        )
        self._send({"config": config.model_dump(mode="json")})

    def log(self, run: TrainingRun, test_rows: pd.DataFrame) -> str | None:
        """Log ``run``; return the registry's decision once everything is logged."""
        example = test_rows[self._config.data.feature_names].head(EXAMPLE_ROWS)
        self._send({"run_dir": str(run.run_dir), "example": encoded_example(example)})
        output, _ = self._process.communicate()  # closes the worker's input and waits
        try:
            reply = json.loads(output.splitlines()[-1])
        except (IndexError, ValueError):
            raise ProjectError(
                f"tracking: the logging process stopped (exit code {self._process.returncode}) "
                f"before run {run.run_id} was logged; rerun with --verbose to see why"
            ) from None
        if "error" in reply:
            raise ProjectError(reply["error"])
        promotion: str | None = reply["promotion"]
        return promotion

    def _send(self, message: dict[str, Any]) -> None:
        assert self._process.stdin is not None  # noqa: S101 - opened as a pipe above
        with contextlib.suppress(BrokenPipeError):  # a worker that failed answers in `log`
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()

    def __enter__(self) -> TrackingWorker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process.poll() is None:  # training stopped before the run was handed over
            self._process.terminate()
            self._process.wait()


def serve(requests: IO[str]) -> dict[str, Any] | None:
    """Open the store, wait for the run, log it; ``None`` if training stopped first."""
    config = Config.model_validate(json.loads(requests.readline())["config"])
    from .cli import loading_libraries

    with loading_libraries():
        from .mlflow_store import open_store
        from .registry import HeldOut
        from .tracking import log_training

        open_store(config)
    line = requests.readline()
    if not line:
        return None
    message = json.loads(line)
    run = TrainingRun.from_folder(Path(message["run_dir"]))
    data_path = Path(run.metadata["data"]["path"])

    def read_held_out() -> pd.DataFrame:
        from .train import held_out_rows  # scikit-learn, only if a model is scored again

        return held_out_rows(config, data_path)

    held_out = HeldOut(run.metadata["data"]["held_out_fingerprint"], read_held_out)
    promotion = log_training(config, run, decoded_example(message["example"], config), held_out)
    return {"promotion": None if promotion is None else promotion.describe()}


def main() -> None:
    if hasattr(os, "nice"):  # training comes first when it wants both cores
        os.nice(10)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from .cli import quiet_libraries

    with contextlib.ExitStack() as stack:
        if VERBOSE not in sys.argv[1:]:
            stack.enter_context(quiet_libraries())
        try:
            reply = serve(sys.stdin)
        except ProjectError as error:
            reply = {"error": str(error)}
        except Exception as error:  # the training side reports it as one line
            if VERBOSE in sys.argv[1:]:
                traceback.print_exc()
            detail = str(error).strip().splitlines()
            reply = {"error": f"tracking: {type(error).__name__}: {detail[0] if detail else ''}"}
    if reply is not None:
        answers.write(json.dumps(reply) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
