"""Reading tabular data and enforcing the schema declared in the config.

Training, batch prediction, the API and monitoring all pass their input through
``validate``, so bad data stops at the door with a message that names the column,
and every later step can rely on the types it receives.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import warnings
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine

from .artifacts import as_if_created, missing_folders, temporary_beside
from .config import BooleanColumn, CategoricalColumn, Column, DataConfig, DatetimeColumn
from .errors import DataError, InvalidRowsError, ProjectWarning
from .json_lines import SHADOW_ENTRY, read_entries


def _read_csv(
    path: Path, columns: Collection[str] | None, text: Collection[str] = ()
) -> pd.DataFrame:
    """The file's ``columns``, ``text`` ones as the text they hold.

    pandas parses a column it finds to be text by itself several times faster than one
    it is told is text (0.1 s against 0.5 s for a million rows), so only the text
    columns it read as something else, such as numbers that lose their leading zeros,
    are read again, as text.
    """
    frame: pd.DataFrame = pd.read_csv(path, **_csv_options(columns, ()))
    misread = [
        name
        for name in text
        if name in frame.columns and not pd.api.types.is_string_dtype(frame[name])
    ]
    if misread:
        again = pd.read_csv(path, **_csv_options(misread, misread))
        frame = frame.assign(**{name: again[name] for name in misread})
    return frame


def _csv_options(columns: Collection[str] | None, text: Collection[str]) -> dict[str, Any]:
    """What ``pandas.read_csv`` needs to read only ``columns``, and ``text`` as text."""
    options: dict[str, Any] = {"dtype": dict.fromkeys(text, str)} if text else {}
    if columns is not None:
        # A callable skips unlisted columns as they are parsed; a missing one is the
        # schema's to report.
        options["usecols"] = lambda name: name in columns
    return options


def _read_parquet(
    path: Path, columns: Collection[str] | None, text: Collection[str] = ()
) -> pd.DataFrame:
    if columns is None:
        return pd.read_parquet(path)
    return pd.read_parquet(path, columns=_parquet_columns(path, columns))


def _parquet_columns(path: Path, columns: Collection[str]) -> list[str]:
    """Those of ``columns`` the Parquet file has, read from its footer alone."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]  # pandas' own engine

    return [name for name in pq.read_schema(path).names if name in columns]


def read_json_lines(
    path: Path, columns: Collection[str] | None = None, text: Collection[str] = ()
) -> pd.DataFrame:
    """JSON lines, one record per line; a prediction log's ``inputs`` become the columns
    (a shadow model's predictions, which no client received, are left out).

    A log's rotated files are read too, and a line cut short by a crash is skipped with
    a warning (see ``json_lines``).
    """
    entries = [entry for entry in read_entries(path) if not entry.get(SHADOW_ENTRY)]
    if entries and all(isinstance(entry.get("inputs"), dict) for entry in entries):
        frame = pd.json_normalize([entry["inputs"] for entry in entries])
    else:
        frame = pd.DataFrame.from_records(entries)
    if columns is None:
        return frame
    return frame[[name for name in frame.columns if name in columns]]


READERS: dict[str, Callable[[Path, Collection[str] | None, Collection[str]], pd.DataFrame]] = {
    ".csv": _read_csv,
    ".parquet": _read_parquet,
    ".pq": _read_parquet,
    ".jsonl": read_json_lines,
}


def read_table(
    path: Path, columns: Collection[str] | None = None, text: Collection[str] = ()
) -> pd.DataFrame:
    """Read a CSV, Parquet or JSON-lines file, turning every failure into a ``DataError``.

    With ``columns``, only those of them the file has are read (``DataConfig.columns``):
    a file with thousands of other columns costs no more than one without them. A CSV's
    ``text`` columns are read as the text they hold.
    """
    reader = _reader_for(path)
    try:
        frame = reader(path, columns, text)
    except READ_ERRORS as error:
        raise _unreadable(path, error) from None
    if columns is not None and frame.columns.empty:  # rows or not, nothing to say of them
        # A CSV's or Parquet file's header is read apart; JSON lines name their fields
        # record by record, so the log is read again, whole, on this way out.
        everything = reader(path, None, text) if path.suffix.lower() == ".jsonl" else frame
        found = _file_columns(path, everything)
        shown = ", ".join(map(repr, found[:8])) + (", ..." if len(found) > 8 else "")
        raise DataError(
            f"{path}: none of the columns the config names is in the file (it has {shown})"
        )
    if frame.empty:
        raise DataError(f"{path}: data file has no rows")
    frame.attrs[FILE_COLUMNS] = _file_columns(path, frame)
    return frame


def read_configured(path: Path, config: DataConfig) -> pd.DataFrame:
    """The columns of ``path`` that the config names, categories and keys as text."""
    return read_table(path, config.columns, config.text_columns)


def read_batches(path: Path, config: DataConfig, rows: int) -> Iterator[pd.DataFrame]:
    """``read_configured``, ``rows`` rows at a time: a CSV or Parquet file of any length
    is never in memory whole (a JSON-lines file is one batch).

    The rows keep their numbers in the file across batches, and the first batch alone
    carries the file's column names (``FILE_COLUMNS``), so what is said about the file
    as a whole is said once.
    """
    reader = _reader_for(path)
    if reader is read_json_lines:
        yield read_configured(path, config)
        return
    start = 0
    try:
        for batch in _batches(path, config, rows):
            batch.index = pd.RangeIndex(start, start + len(batch))
            if start == 0:
                batch.attrs[FILE_COLUMNS] = _file_columns(path, batch)
            start += len(batch)
            yield batch
    except READ_ERRORS as error:
        raise _unreadable(path, error) from None
    if start == 0:
        raise DataError(f"{path}: data file has no rows")


def _batches(path: Path, config: DataConfig, rows: int) -> Iterator[pd.DataFrame]:
    if path.suffix.lower() == ".csv":
        yield from pd.read_csv(
            path, chunksize=rows, **_csv_options(config.columns, config.text_columns)
        )
        return
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    columns = _parquet_columns(path, config.columns)
    for batch in parquet.iter_batches(batch_size=rows, columns=columns):
        yield batch.to_pandas()


READ_ERRORS = (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError)


def _reader_for(
    path: Path,
) -> Callable[[Path, Collection[str] | None, Collection[str]], pd.DataFrame]:
    """The reader for ``path``'s type, once the file is known to exist and hold bytes."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"{path}: unsupported file type; use .csv, .parquet or .jsonl")
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: data file is empty")
    return reader


def _unreadable(path: Path, error: BaseException) -> DataError:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return DataError(f"{path}: cannot read data ({first_line})")


FILE_COLUMNS = "file_columns"  # every column name of the file read, in ``DataFrame.attrs``


def _file_columns(path: Path, frame: pd.DataFrame) -> list[str]:
    """All the file's column names, also those not read, to suggest when one is missing."""
    try:
        if path.suffix.lower() == ".csv":
            return [str(name) for name in pd.read_csv(path, nrows=0).columns]
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return [str(name) for name in pq.read_schema(path).names]
    except (ValueError, OSError):
        pass
    return [str(name) for name in frame.columns]


def write_table(frame: pd.DataFrame, path: Path, *, quote_formulas: bool = True) -> None:
    """Write ``frame`` as CSV or Parquet by the file's suffix, whole or not at all
    (``TableWriter`` with one batch)."""
    with TableWriter(path, quote_formulas=quote_formulas) as writer:
        writer.write(frame)


class TableWriter:
    """Writes a CSV or Parquet file a batch at a time; it appears whole, or not at all.

    The batches go to a temporary file beside ``path`` that replaces it only when the
    writer is closed without an error; a failed write leaves neither the file nor the
    folders made for it. Every Parquet batch takes the first one's column types.
    """

    def __init__(
        self, path: Path, numbers: Collection[str] = (), *, quote_formulas: bool = True
    ) -> None:
        """``numbers``: columns written as floating-point numbers whatever type a batch
        read them as (a CSV column of whole numbers is read as integers until a batch
        holds an empty cell). ``quote_formulas``: a CSV's text cells never start a
        spreadsheet formula (``without_formulas``); off only to write input as it is."""
        if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
            raise DataError(f"{path}: unsupported output type; use .csv or .parquet")
        self.path = path
        self.numbers = numbers
        self.quote_formulas = quote_formulas
        self.rows = 0
        self._new_folders = missing_folders(path.parent)
        self._temporary: Path | None = None
        self._csv: Any = None
        self._parquet: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        if self._temporary is None:
            handle, name = temporary_beside(self.path)
            os.close(handle)
            self._temporary = Path(name)
        temporary = self._temporary
        floats = {
            name: pd.to_numeric(frame[name]).astype("float64")
            for name in self.numbers
            if name in frame.columns
        }
        frame = frame.assign(**floats) if floats else frame
        if self.path.suffix.lower() == ".csv":
            self._write_csv(frame, temporary)
        else:
            self._write_parquet(frame, temporary)
        self.rows += len(frame)

    def _write_csv(self, frame: pd.DataFrame, temporary: Path) -> None:
        first = self._csv is None
        if first:
            self._csv = temporary.open("w", encoding="utf-8", newline="")
        if self.quote_formulas:
            frame = without_formulas(frame)
        # CRLF line ends make the writer quote a cell holding a lone "\r" too; with "\n"
        # alone such a cell would be split into two rows by every reader.
        frame.to_csv(self._csv, index=False, header=first, lineterminator="\r\n")

    def _write_parquet(self, frame: pd.DataFrame, temporary: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._parquet is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            # A column with no value in the first batch has no type yet: text is the one
            # every later value can be written as.
            schema = pa.schema(
                field.with_type(pa.string()) if pa.types.is_null(field.type) else field
                for field in table.schema
            )
            self._parquet = pq.ParquetWriter(temporary, schema)
        schema = self._parquet.schema
        self._parquet.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))

    def close(self) -> None:
        """Put the file in place (none, if no batch was written)."""
        if self._temporary is None:
            return
        self._close_file()
        as_if_created(self._temporary)
        try:
            os.replace(self._temporary, self.path)
        except IsADirectoryError:
            self.discard()
            raise DataError(f"{self.path}: is a folder; name a file to write") from None
        self._temporary = None

    def discard(self) -> None:
        """Drop what was written; ``path`` stays as it was, and so do its folders."""
        self._close_file()
        if self._temporary is not None:
            self._temporary.unlink(missing_ok=True)
            self._temporary = None
        for folder in self._new_folders:
            with contextlib.suppress(OSError):  # something else is in it by now
                folder.rmdir()

    def _close_file(self) -> None:
        for stream in (self._csv, self._parquet):
            if stream is not None:
                stream.close()
        self._csv = self._parquet = None

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()


# What a spreadsheet reads as the start of a formula when a cell begins with it, unless
# the cell is a plain number such as "-5" (a spreadsheet reads that as the number).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"


def without_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula quoted.

    Predictions written as CSV are opened in spreadsheets; a cell such as
    ``=HYPERLINK(...)`` copied from the input would run there. A leading ``'`` makes it
    text, as spreadsheets themselves do. Numbers, also those held as text ("-5"), and
    Parquet output are left as they are.
    """
    quoted = frame.copy()
    for name in quoted.columns:
        column = quoted[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        text = column.astype("string")
        formula = text.str.startswith(FORMULA_STARTS) & ~text.str.fullmatch(PLAIN_NUMBER)
        risky = formula.fillna(False).astype(bool)
        if risky.any():
            quoted[name] = column.astype(object).where(~risky, "'" + text)
    return quoted


def row_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One 64-bit hash per row of ``columns``, the same for the same values whatever the
    file type they were read from (numbers as floats, everything else as text)."""
    canonical = pd.DataFrame(
        {
            name: frame[name].astype("float64")
            if pd.api.types.is_numeric_dtype(frame[name])
            and not pd.api.types.is_bool_dtype(frame[name])
            else frame[name].astype(object)
            for name in columns
        }
    )
    return np.asarray(pd.util.hash_pandas_object(canonical, index=False))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# What a boolean column may hold in a file, read without regard to case or spaces.
BOOLEAN_WORDS = {
    **dict.fromkeys(["true", "yes", "y", "t", "1", "1.0"], 1.0),
    **dict.fromkeys(["false", "no", "n", "f", "0", "0.0"], 0.0),
}


def booleans_as_numbers(frame: pd.DataFrame, config: DataConfig) -> pd.DataFrame:
    """``frame`` with each boolean column's words turned into 1.0 and 0.0, the numbers the
    schema checks and the model sees. Anything else is left as it is, for the schema to
    report as it was written."""
    present = [
        c.name
        for c in [*config.features, config.target]
        if isinstance(c, BooleanColumn) and c.name in frame
    ]
    if not present:
        return frame
    converted = frame.copy()
    for name in present:
        values = frame[name]
        words = values.astype(str).str.strip().str.lower().map(BOOLEAN_WORDS)
        converted[name] = words.astype(object).where(words.notna() | values.isna(), values)
    return converted


def _column_schema(column: Column, *, target: bool = False) -> pa.Column:
    if isinstance(column, CategoricalColumn) and target and column.numbered_classes:
        return pa.Column(int, checks=[pa.Check.isin(column.allowed)], coerce=True)
    if isinstance(column, CategoricalColumn):
        checks = [pa.Check.isin(column.text_values)] if column.text_values else []
        return pa.Column(str, checks=checks, nullable=column.nullable, coerce=True)
    if isinstance(column, BooleanColumn):
        checks = [pa.Check.isin([0.0, 1.0])]
        return pa.Column(float, checks=checks, nullable=column.nullable, coerce=True)
    if isinstance(column, DatetimeColumn):
        # A dataclass field of pandera's DateTime that its type stubs leave out.
        parsed = pandas_engine.DateTime(to_datetime_kwargs={"format": column.format})  # type: ignore[call-arg]
        return pa.Column(parsed, nullable=column.nullable, coerce=True)
    # Infinity is a float but not a measurement: scikit-learn refuses it mid-fit.
    checks = [pa.Check(np.isfinite, name="finite")]
    if column.min is not None:
        checks.append(pa.Check.ge(column.min))
    if column.max is not None:
        checks.append(pa.Check.le(column.max))
    return pa.Column(float, checks=checks, nullable=column.nullable, coerce=True)


def build_schema(config: DataConfig, *, with_target: bool) -> pa.DataFrameSchema:
    """The pandera schema for the configured features (and the target, when labelled)."""
    schema = {column.name: _column_schema(column) for column in config.features}
    if with_target:
        schema[config.target.name] = _column_schema(config.target, target=True)
    return pa.DataFrameSchema(schema)


def validate(
    frame: pd.DataFrame, config: DataConfig, *, with_target: bool, source: str
) -> pd.DataFrame:
    """Check ``frame`` against the schema and return only the configured columns, typed."""
    schema = build_schema(config, with_target=with_target)
    try:
        checked = schema.validate(booleans_as_numbers(frame, config), lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        failures = describe_failures(cases, config, frame.attrs.get(FILE_COLUMNS, []))
        error = DataError if _whole_file_problem(cases) else InvalidRowsError
        raise error(f"{source}: {failures}") from None
    return _labels_in_their_type(checked[list(schema.columns)], config)


def _whole_file_problem(failures: pd.DataFrame) -> bool:
    """A failure no row could pass, such as a missing column, rather than bad rows."""
    per_row = failures["index"].notna()
    return not per_row.any() or bool((failures["check"] == "column_in_dataframe").any())


def warn_of_missing_passthrough(frame: pd.DataFrame, config: DataConfig, source: str) -> None:
    """A passthrough column the file lacks is left out of the predictions written for
    it: say so, it is most likely a misspelling. Only for files scored into an output
    (``predict``, and ``validate`` ahead of it): no other command writes those columns."""
    file_columns: list[str] = frame.attrs.get(FILE_COLUMNS) or []
    for name in config.passthrough if file_columns else []:
        if name not in file_columns:
            warnings.warn(
                f"{source}: passthrough column {name!r} is not in the file, so the output "
                f"goes without it{in_the_file(name, file_columns)}",
                ProjectWarning,
                stacklevel=3,
            )


def _labels_in_their_type(checked: pd.DataFrame, config: DataConfig) -> pd.DataFrame:
    """A boolean target's classes are ``False`` and ``True``, and predictions come back so;
    as a feature, the same values stay the 1 and 0 the model sees."""
    name = config.target.name
    if isinstance(config.target, BooleanColumn) and name in checked:
        return checked.assign(**{name: checked[name].astype(bool)})
    return checked


REASON = "reason"


def split_invalid(
    frame: pd.DataFrame, config: DataConfig, *, with_target: bool, source: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows that pass the schema, checked and typed as ``validate`` returns them, and
    the rows that do not, as read, with a ``reason`` column that says why.

    A problem of the file as a whole (a missing column, say) is still an error: no row
    could pass it. A column whose values could not all be converted has not had its
    other checks run, so the rows left are checked again until they all pass.
    """
    schema = build_schema(config, with_target=with_target)
    remaining = booleans_as_numbers(frame, config)
    rejected = [frame.iloc[:0].assign(**{REASON: ""})]
    while True:
        try:
            checked = schema.validate(remaining, lazy=True)
        except pa.errors.SchemaErrors as errors:
            failures = errors.failure_cases
        else:
            valid = _labels_in_their_type(checked[list(schema.columns)], config)
            return valid, pd.concat(rejected).sort_index()
        per_row = failures[failures["index"].notna()]
        if _whole_file_problem(failures):
            problems = describe_failures(failures, config, frame.attrs.get(FILE_COLUMNS, []))
            raise DataError(f"{source}: {problems}")
        reasons = per_row.groupby("index", sort=True).apply(
            lambda row_failures: _row_reason(row_failures, config)
        )
        rejected.append(frame.loc[reasons.index].assign(**{REASON: reasons}))
        remaining = remaining.drop(index=reasons.index)


def checked_rows(
    frame: pd.DataFrame,
    config: DataConfig,
    source: str,
    rejected: TableWriter | None,
    *,
    passthrough_out: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of ``frame`` that pass the schema, as read and as checked; the others
    go to ``rejected`` (or fail the file, without one). ``passthrough_out``: the rows'
    passthrough columns go to an output, which a file without one should know."""
    if passthrough_out:
        warn_of_missing_passthrough(frame, config, source)
    if rejected is None:
        return frame, validate(frame, config, with_target=False, source=source)
    features, invalid = split_invalid(frame, config, with_target=False, source=source)
    rejected.write(invalid.astype("string"))  # as read; as text, whatever each batch held
    return frame.drop(index=invalid.index), features


def no_valid_row_error(rows: int, path: Path, *, source: str) -> DataError:
    """The error for a file none of whose ``rows`` is valid, which are in ``path``."""
    return DataError(f"{source}: no row is valid; all {rows}, each with its reason, are in {path}")


def _expected(config: DataConfig, name: str) -> str:
    """What a value of column ``name`` must be, in words: ``a number``, ``true or false``."""
    column = next(c for c in [*config.features, config.target] if c.name == name)
    if isinstance(column, BooleanColumn):
        return "true or false (or yes/no, 1/0)"
    if isinstance(column, DatetimeColumn):
        return f"a date in the format {column.format}"
    return "text" if isinstance(column, CategoricalColumn) else "a number"


def _row_reason(failures: pd.DataFrame, config: DataConfig) -> str:
    """Why one row fails: a clause per failed check, such as ``contract: 'x' is not allowed``."""
    clauses = []
    for row in failures.itertuples(index=False):
        check, value = str(row.check), row.failure_case
        if check.startswith("dtype("):
            continue  # the coerce_dtype failure of the same cell says it
        boolean = _expected(config, str(row.column)).startswith("true")
        if check.startswith("coerce_dtype") or (boolean and check.startswith("isin(")):
            problem = f"{value!r} is not {_expected(config, str(row.column))}"
        elif check == "not_nullable":
            problem = "missing"
        elif check == "finite":
            problem = "infinite"
        elif check.startswith("isin("):
            problem = f"{value!r} is not an allowed value"
        elif check.startswith("greater_than_or_equal_to("):
            problem = f"{value!r} is below the minimum {_bound(check)}"
        elif check.startswith("less_than_or_equal_to("):
            problem = f"{value!r} is above the maximum {_bound(check)}"
        else:
            problem = f"{value!r} fails {check}"
        clauses.append(f"{row.column}: {problem}")
    return "; ".join(dict.fromkeys(clauses))  # a word is neither a number nor allowed: once


def _bound(check: str) -> str:
    """The number in a check's name: ``greater_than_or_equal_to(0.0)`` -> ``0.0``."""
    return check[check.index("(") + 1 : -1]


def describe_failures(
    failures: pd.DataFrame, config: DataConfig, file_columns: list[str], limit: int = 3
) -> str:
    """Summarise pandera's failure table as one readable line, one clause per column."""
    clauses: dict[str, str] = {}
    for row in failures.itertuples(index=False):
        check = str(row.check)
        if check == "column_in_dataframe":
            name = str(row.failure_case)
            clauses.setdefault(name, f"column {name!r} is missing{in_the_file(name, file_columns)}")
            continue
        name = str(row.column)
        if name in clauses or check.startswith("dtype("):
            continue
        column_failures = failures[
            (failures["column"] == row.column) & (failures["check"] == row.check)
        ]
        examples = ", ".join(
            repr(value) for value in column_failures["failure_case"].drop_duplicates().head(limit)
        )
        count = len(column_failures)
        if check.startswith("coerce_dtype") or (
            check.startswith("isin(") and _expected(config, name).startswith("true")
        ):
            expected = _expected(config, name)
            clauses[name] = (
                f"column {name!r} has {count} value(s) that are not {expected} (e.g. {examples})"
            )
        elif check == "not_nullable":
            fix = (
                "rows without a label cannot train: fill them in or leave them out"
                if name == config.target.name
                else "if they are expected, add nullable: true to it in the config"
            )
            clauses[name] = f"column {name!r} has {count} missing value(s) ({fix})"
        elif check == "finite":
            clauses[name] = f"column {name!r} has {count} infinite value(s)"
        else:
            clauses[name] = f"column {name!r} fails {check} ({count} row(s), e.g. {examples})"
    return "; ".join(clauses.values()) or "data does not match the schema"


def in_the_file(name: str, file_columns: list[str], shown: int = 8) -> str:
    """What the file has instead of ``name``: the closest names, else the first few, as a
    clause to append to a message (empty if the file's columns are unknown)."""
    if not file_columns:
        return ""
    import difflib

    close = [column for column in file_columns if column.lower() == name.lower()][:1]
    close += difflib.get_close_matches(name, file_columns, n=3, cutoff=0.6)
    if close:
        return f" (did you mean {' or '.join(repr(c) for c in dict.fromkeys(close))}?)"
    listed = ", ".join(repr(column) for column in file_columns[:shown])
    more = f" and {len(file_columns) - shown} more" if len(file_columns) > shown else ""
    return f" (the file has {listed}{more})"


def check_trainable(frame: pd.DataFrame, config: DataConfig, *, source: str) -> None:
    """Refuse data a model cannot learn from: too few rows, constant columns, one class."""
    if len(frame) < 10:
        raise DataError(f"{source}: {len(frame)} rows are too few to train and evaluate a model")
    constant = [name for name in config.feature_names if frame[name].nunique(dropna=False) <= 1]
    if constant:
        raise DataError(
            f"{source}: constant column(s) {', '.join(constant)} carry no information; "
            "remove them from data.features"
        )
    classes = isinstance(config.target, CategoricalColumn | BooleanColumn)
    if classes and frame[config.target.name].nunique() < 2:
        raise DataError(f"{source}: the target {config.target.name!r} has a single class")


def frame_from_records(records: list[dict[str, Any]], config: DataConfig) -> pd.DataFrame:
    """Records already checked field by field, typed the way ``validate`` types a frame.

    The API's request model carries the schema's checks; this only gives the values the
    types the pipeline was trained on (numbers and booleans as floats, categories as
    objects, dates as datetimes, missing values as NaN or NaT) without running the
    checks a second time.
    """
    columns: dict[str, Any] = {}
    for column in config.features:
        values = [record[column.name] for record in records]
        if isinstance(column, CategoricalColumn):
            columns[column.name] = np.array(
                [np.nan if value is None else value for value in values], dtype=object
            )
        elif isinstance(column, DatetimeColumn):
            dates = pd.to_datetime(values, format=column.format)
            columns[column.name] = dates.astype("datetime64[ns]")  # as the schema makes them
        else:
            columns[column.name] = np.array(values, dtype=float)  # None becomes NaN
    return pd.DataFrame(columns)  # in the order of config.features, as trained


def load_dataset(config: DataConfig, path: Path | None = None) -> pd.DataFrame:
    """Read and validate labelled data (the configured path unless ``path`` is given)."""
    source = path or config.path
    frame = validate(read_configured(source, config), config, with_target=True, source=str(source))
    check_trainable(frame, config, source=str(source))
    return frame
