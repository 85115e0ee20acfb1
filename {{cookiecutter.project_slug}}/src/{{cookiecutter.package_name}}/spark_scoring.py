"""Batch scoring on Spark, for tables beyond one machine: ``predict --engine spark``.

Spark reads a Parquet file, folder or glob and hands its rows to Python a batch at a
time as pandas frames (``DataFrame.mapInPandas``); each batch goes through what
``predict`` does on one machine: the schema check, the saved pipeline, the same output
columns (``BatchScorer``). The driver loads the model exactly as ``predict`` does (a run
folder or run id{{ ', or a registry reference such as ``models:/<name>@champion``' if cookiecutter.experiment_tracking == "mlflow" }}),
and the model travels to the executors inside the scoring function, pickled with it;
PySpark broadcasts a function that large once per executor rather than once per task.
{%- if cookiecutter.experiment_tracking == "mlflow" %}
Resolving registry references on the driver keeps one mechanism for every kind of
reference: executors need neither MLflow nor a way to the tracking store, and they run
the project's checks, which MLflow's ``spark_udf`` (the model's pyfunc flavour) would
leave out, with its probability columns.
{%- endif %}

The result is written to a folder beside ``--output`` and renamed into place once the
job has succeeded, so a failed job leaves nothing behind and a reader never sees half
an output. PySpark is imported in this module only: it is the ``spark`` dependency
group, which a plain ``uv sync`` does not install.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .artifacts import (
    SavedModel,
    as_if_created,
    missing_folders,
    put_folder_in_place,
    staging_folder_beside,
)
from .config import Config, DatetimeColumn
from .data import FILE_COLUMNS, REASON, no_valid_row_error, split_invalid, validate
from .errors import ConfigError, DataError, InvalidRowsError, ModelNotFoundError, ProjectError
from .predict import (
    BATCH_ROWS,
    added_columns,
    load_for_inference,
    rejected_path_for,
    with_predictions,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructField

INSTALL = "uv sync --group spark"
# Rows Spark hands the scoring function at a time: as many as `predict` scores at a time
# on one machine, rather than Spark's 10,000, so the fixed cost of a batch is as small.
ARROW_BATCH = "spark.sql.execution.arrow.maxRecordsPerBatch"


def require_pyspark() -> None:
    """Fail with the command that installs PySpark when it is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ProjectError(f"--engine spark needs PySpark: run `{INSTALL}`") from None


@contextlib.contextmanager
def spark_session(*, verbose: bool = False) -> Iterator[SparkSession]:
    """The session ``SparkSession.builder.getOrCreate()`` gives, for the length of a job.

    With ``SPARK_REMOTE`` set it is a Spark Connect session on that server; under
    ``spark-submit``, on Databricks or in a notebook, the one already running, on its
    master. Those are not this command's to stop. Otherwise Spark starts here, in local
    mode on every core (``local[*]``, its default when no master is configured), its
    workers running this environment's Python, and stops when the job is done. Unless
    ``verbose``, what the Java side prints (its start-up lines, its log) goes nowhere:
    the exceptions that matter reach Python anyway.
    """
    require_pyspark()
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    started_elsewhere = ("SPARK_REMOTE", "PYSPARK_GATEWAY_PORT", "DATABRICKS_RUNTIME_VERSION")
    running = any(name in os.environ for name in started_elsewhere)
    if running or SparkSession.getActiveSession() is not None:
        yield SparkSession.builder.getOrCreate()
        return
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        with contextlib.nullcontext() if verbose else _java_output_discarded():
            session = SparkSession.builder.getOrCreate()
    except PySparkException as error:
        raise ProjectError(
            f"Spark did not start ({_first_line(error).rstrip('.')}): local mode needs Java 17 or "
            "newer, as `java` on the PATH or in JAVA_HOME; --verbose shows Spark's output"
        ) from None
    try:
        yield session
    finally:
        session.stop()


@contextlib.contextmanager
def _java_output_discarded() -> Iterator[None]:
    """Start the Java side with its standard error on /dev/null: it inherits the file
    descriptor, which is then given back to this process."""
    sys.stderr.flush()
    kept = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(kept, 2)
        os.close(devnull)
        os.close(kept)


def where_it_ran(spark: SparkSession) -> str:
    """The master a session runs on (``local[*]``), or "Spark Connect"; never a URL that
    may hold a token."""
    if type(spark).__module__.startswith("pyspark.sql.connect"):
        return "Spark Connect"
    return str(spark.sparkContext.master)


@dataclass(frozen=True)
class SparkScored:
    """What a Spark job wrote: how many rows, in how many Parquet parts, and where."""

    output_path: Path
    rows: int
    parts: int
    rejected_rows: int | None = None  # None unless invalid rows were to be set aside
    rejected_path: Path | None = None


@dataclass(frozen=True)
class BatchScorer:
    """What every executor runs on each batch of rows: ``predict``'s check and scoring.

    Spark pickles it with the model inside and calls it with an iterator of pandas
    frames, the configured columns as read. It yields each batch with the columns
    scoring adds and a ``reason`` column: empty for a scored row, and, for a row set
    aside (``keep_invalid``), what is wrong with it. Without ``keep_invalid`` an invalid
    row fails the batch, and with it the job, as it fails the file in ``predict``.
    """

    saved: SavedModel
    config: Config
    source: str
    columns: list[str]  # the output's, in order: as read, then added, then the reason
    explain: bool = False
    keep_invalid: bool = False

    def __call__(self, batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        try:
            for frame in batches:
                yield self.score(frame)
        except ProjectError as error:
            # Spark passes a worker's exception to the driver as text; this marks the
            # part that the driver turns back into the error (see ``carried``).
            raise RuntimeError(carry(error)) from None

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        data = self.config.data
        if self.keep_invalid:
            features, invalid = split_invalid(frame, data, with_target=False, source=self.source)
            valid = frame.drop(index=invalid.index)
        else:
            features = validate(frame, data, with_target=False, source=self.source)
            valid, invalid = frame, frame.iloc[:0]
        scored = [] if features.empty else [self._scored(valid, features)]
        return for_arrow(pd.concat([*scored, invalid]).reindex(columns=self.columns))

    def _scored(self, valid: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
        return with_predictions(self.saved, valid, features, self.config, explain=self.explain)


def for_arrow(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text columns, and those holding no value, as Python objects.

    PySpark 4 turns a pandas 3 text column (held by Arrow), and a column of floats with
    no value in it (the reason of a batch of valid rows, say), into chunked arrays it
    then cannot put into a batch. As objects, with None for a missing value, each goes
    across as the type Spark expects.
    """
    converted = {
        str(name): column.astype(object).where(column.notna(), None)
        for name, column in frame.items()
        if isinstance(column.dtype, pd.StringDtype) or column.isna().all()
    }
    return frame.assign(**converted) if converted else frame


CARRIED = re.compile(r"<<(\w+)>>(.*?)<</\1>>", re.S)
CARRIED_KINDS: dict[str, type[ProjectError]] = {
    kind.__name__: kind
    for kind in (ProjectError, ConfigError, DataError, InvalidRowsError, ModelNotFoundError)
}


def carry(error: ProjectError) -> str:
    """``error`` as text that survives Spark's report of a failed task (``carried``)."""
    kind = type(error).__name__ if type(error).__name__ in CARRIED_KINDS else "ProjectError"
    return f"<<{kind}>>{error}<</{kind}>>"


def carried(report: str) -> ProjectError | None:
    """The project error a worker raised, out of the text Spark reports a failed job with."""
    found = CARRIED.search(report)
    return None if found is None else CARRIED_KINDS[found[1]](found[2])


@contextlib.contextmanager
def job_errors() -> Iterator[None]:
    """A failed Spark job as one line: the worker's own error (bad rows, say) when it
    raised one, else the first line of Spark's report."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as error:
        raise carried(str(error)) or ProjectError(
            f"the Spark job failed: {_first_line(error)}"
        ) from None


def _java_reason(error: BaseException) -> str:
    """What a JVM exception says, without the Java class names and stack around it."""
    for line in str(error).splitlines():
        if "Exception: " in line:
            return line.split("Exception: ", 1)[1].strip()[:300]
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    """The line that says what went wrong: the exception's own, else its first line
    (Spark's report of a failed task starts with a Python traceback)."""
    lines = str(error).strip().splitlines()
    if "Traceback (most recent call last):" in lines:
        after = lines[lines.index("Traceback (most recent call last):") + 1 :]
        raised = [line for line in after if line.strip() and not line.startswith(" ")]
        if raised:
            return raised[0].strip()
    return lines[0] if lines else type(error).__name__


def is_spark_output(folder: Path) -> bool:
    """Whether ``folder`` is what a Spark job wrote: its ``_SUCCESS`` mark and, beside it,
    only parts and Spark's own hidden files. Only such a folder is ever replaced."""
    if not (folder / "_SUCCESS").is_file():
        return False
    return all(entry.name.startswith(("part-", "_", ".")) for entry in folder.iterdir())


def _fixed_part(pattern: Path) -> Path:
    """The part of a path before its first wildcard: the folder a glob reads under."""
    fixed = []
    for part in pattern.parts:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed)


def check_paths(input_path: Path, output_path: Path, rejected_path: Path | None) -> None:
    """Refuse what cannot be read or would be destroyed: an input that does not exist,
    an output that is the input or holds it (or lies in it), or one that exists and is
    not the output of an earlier job."""
    found = glob.glob(str(input_path)) if glob.has_magic(str(input_path)) else []
    if not (input_path.exists() or found):
        raise DataError(f"{input_path}: no such file or folder")
    read = _fixed_part(input_path).absolute()
    for written in filter(None, (output_path, rejected_path)):
        target = written.absolute()
        if target == read or target.is_relative_to(read) or read.is_relative_to(target):
            raise ProjectError(
                f"{written}: holds or is the data this command reads; write elsewhere"
            )
        if written.exists() and not (written.is_dir() and is_spark_output(written)):
            raise ProjectError(
                f"{written}: exists and is not the Parquet output of an earlier "
                "predict --engine spark; choose another folder"
            )


@dataclass(frozen=True)
class SparkScoring:
    """A ``predict --engine spark`` job: checked and its model loaded before Spark starts,
    so a bad path or model costs no cluster time."""

    config: Config
    input_path: Path
    output_path: Path
    saved: SavedModel
    explain: bool = False
    skip_invalid: bool = False

    @classmethod
    def prepare(
        cls,
        config: Config,
        input_path: Path,
        output_path: Path,
        *,
        model: str | None = None,
        allow_external_model: bool = False,
        explain: bool = False,
        skip_invalid: bool = False,
    ) -> SparkScoring:
        require_pyspark()
        rejected = rejected_path_for(output_path) if skip_invalid else None
        check_paths(input_path, output_path, rejected)
        saved = load_for_inference(config, model, allow_external=allow_external_model)
        return cls(config, input_path, output_path, saved, explain, skip_invalid)

    @property
    def source(self) -> str:
        return str(self.input_path)

    @property
    def rejected_path(self) -> Path:
        return rejected_path_for(self.output_path)

    def run(self, spark: SparkSession) -> SparkScored:
        """Score every row; put the output (and the rows set aside) in place together."""
        table = self._read(spark)
        self._check_columns(table.columns)
        wanted = set(self.config.data.columns)
        rows = table.select(*(name for name in table.columns if name in wanted))
        scored, read = self._scored(rows)
        staged: dict[Path, Path] = {}
        new_folders = missing_folders(self.output_path.parent)
        try:
            with job_errors(), _arrow_batches(spark, BATCH_ROWS):
                if self.skip_invalid:
                    scored = scored.persist()
                try:
                    staged[self.output_path] = self._write(self._predictions(scored))
                    if self.skip_invalid:
                        staged[self.rejected_path] = self._write(self._rejected(scored, read))
                finally:
                    if self.skip_invalid:
                        scored.unpersist()
            return self._put_in_place(staged)
        except BaseException:
            for folder in staged.values():
                shutil.rmtree(folder, ignore_errors=True)
            for folder in new_folders:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise

    def _read(self, spark: SparkSession) -> DataFrame:
        """The input as Spark reads it: a Parquet file, a folder of them or a glob."""
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        try:
            return spark.read.parquet(str(self.input_path.absolute()))
        except (PySparkException, Py4JError) as error:  # a JVM error comes as Py4J's
            raise DataError(f"{self.source}: cannot read Parquet ({_java_reason(error)})") from None

    def _check_columns(self, file_columns: list[str]) -> None:
        """What ``predict`` says of a file as a whole, said here once, on the driver: a
        missing feature (with the input's names to pick from), a missing passthrough."""
        wanted = set(self.config.data.columns)
        head = pd.DataFrame(columns=[name for name in file_columns if name in wanted])
        head.attrs[FILE_COLUMNS] = file_columns
        validate(head, self.config.data, with_target=False, source=self.source)

    def _scored(self, rows: DataFrame) -> tuple[DataFrame, list[str]]:
        """Every row as read, with the added columns and the reason column; and the
        names of the columns as read (an earlier output's prediction columns replaced)."""
        from pyspark.sql.types import StringType, StructField, StructType

        added = self._added_fields()
        names = {field.name for field in added}
        read = [field for field in rows.schema.fields if field.name not in names]
        schema = StructType([*read, *added, StructField(REASON, StringType())])
        scorer = BatchScorer(
            self.saved,
            self.config,
            self.source,
            schema.fieldNames(),
            explain=self.explain,
            keep_invalid=self.skip_invalid,
        )
        return rows.mapInPandas(scorer, schema), [field.name for field in read]

    def _added_fields(self) -> list[StructField]:
        """The Spark types of the columns scoring adds, read off the model's own output
        for the typical row its training run recorded."""
        import pyarrow as pa  # type: ignore[import-untyped]  # pandas' own engine
        from pyspark.sql.pandas.types import from_arrow_type
        from pyspark.sql.types import StructField

        typical = typical_features(self.saved, self.config)
        added = added_columns(self.saved, typical, self.config, explain=self.explain)
        arrow = pa.Schema.from_pandas(added, preserve_index=False)
        return [StructField(field.name, from_arrow_type(field.type)) for field in arrow]

    def _predictions(self, scored: DataFrame) -> DataFrame:
        """The scored rows in ``predict``'s output columns: numeric features as the
        floating-point numbers the model saw, as ``predict`` writes them."""
        from pyspark.sql import functions as F  # noqa: N812 - PySpark's own convention

        numeric = set(self.config.data.numeric_features)
        columns = [
            F.col(name).cast("double") if name in numeric else F.col(name)
            for name in scored.columns
            if name != REASON
        ]
        return scored.where(F.col(REASON).isNull()).select(*columns)

    def _rejected(self, scored: DataFrame, read: list[str]) -> DataFrame:
        """The rows set aside, as read and as text, with their reason, as ``predict``
        writes them."""
        from pyspark.sql import functions as F  # noqa: N812

        as_text = [F.col(name).cast("string") for name in read]
        return scored.where(F.col(REASON).isNotNull()).select(*as_text, REASON)

    def _write(self, frame: DataFrame) -> Path:
        """Write ``frame`` as Parquet parts into a new folder beside the output."""
        staging = staging_folder_beside(self.output_path)
        try:
            frame.write.mode("overwrite").parquet(str(staging.absolute()))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        as_if_created(staging, folder=True)
        return staging

    def _put_in_place(self, staged: dict[Path, Path]) -> SparkScored:
        """Rename the written folders into place: both, or, when no row was valid, only
        the rows set aside, that the error sends the user to."""
        rows, parts = parquet_rows(staged[self.output_path])
        rejected = parquet_rows(staged[self.rejected_path])[0] if self.skip_invalid else None
        if rows == 0 and not rejected:
            raise DataError(f"{self.source}: data has no rows")
        if rows == 0 and rejected:
            put_folder_in_place(staged.pop(self.rejected_path), self.rejected_path)
            raise no_valid_row_error(rejected, self.rejected_path, source=self.source)
        for destination, staging in staged.items():
            put_folder_in_place(staging, destination)
        if not self.skip_invalid and is_spark_output(self.rejected_path):
            # Rows set aside by an earlier run would pass for this one's.
            shutil.rmtree(self.rejected_path)
        return SparkScored(
            self.output_path,
            rows,
            parts,
            rejected,
            self.rejected_path if self.skip_invalid else None,
        )


def parquet_rows(folder: Path) -> tuple[int, int]:
    """The rows in a folder of Parquet parts and the number of parts, from their footers."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]  # pandas' own engine

    parts = sorted(folder.glob("part-*"))
    return sum(pq.read_metadata(part).num_rows for part in parts), len(parts)


def typical_features(saved: SavedModel, config: Config) -> pd.DataFrame:
    """The typical row a training run records (``explain.reference_row``), checked and
    typed as ``validate`` hands rows to the model; dates written as the config reads them."""
    row = dict(saved.metadata["reference_row"])
    for column in config.data.features:
        value = row.get(column.name)
        if isinstance(column, DatetimeColumn) and value is not None and column.format != "ISO8601":
            row[column.name] = pd.Timestamp(value).strftime(column.format)
    frame = pd.DataFrame([row], columns=config.data.feature_names)
    return validate(frame, config.data, with_target=False, source="the model's typical row")


@contextlib.contextmanager
def _arrow_batches(spark: SparkSession, rows: int) -> Iterator[None]:
    """Hand the scoring function ``rows`` rows at a time, for the length of the job."""
    before = spark.conf.get(ARROW_BATCH)
    spark.conf.set(ARROW_BATCH, str(rows))
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(ARROW_BATCH)
        else:
            spark.conf.set(ARROW_BATCH, before)
