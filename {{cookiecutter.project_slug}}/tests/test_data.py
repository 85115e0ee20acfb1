"""Bad data is stopped at the door with one line naming the file and the column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import (
    BooleanColumn,
    CategoricalColumn,
    Config,
    DataConfig,
    DatetimeColumn,
    NumericColumn,
)
from {{ cookiecutter.package_name }}.data import (
    check_trainable,
    frame_from_records,
    load_dataset,
    read_batches,
    read_configured,
    read_table,
    split_invalid,
    validate,
    write_table,
)
from {{ cookiecutter.package_name }}.errors import DataError, ProjectWarning


def first(config: Config, kind: type) -> str:
    return next(c.name for c in config.data.features if isinstance(c, kind))


def test_sample_passes_and_keeps_only_configured_columns(
    config: Config, sample: pd.DataFrame
) -> None:
    frame = validate(sample, config.data, with_target=True, source="sample")
    assert list(frame.columns) == [*config.data.feature_names, config.data.target.name]
    assert len(frame) == len(sample)
    assert frame.isna().any().any(), "the sample is meant to exercise missing values"


def test_missing_column(config: Config, sample: pd.DataFrame) -> None:
    name = config.data.feature_names[0]
    with pytest.raises(DataError, match=f"column '{name}' is missing"):
        validate(sample.drop(columns=name), config.data, with_target=True, source="x.csv")


def test_wrong_type(config: Config, sample: pd.DataFrame) -> None:
    name = first(config, NumericColumn)
    bad = sample.astype({name: object})
    bad.loc[bad.index[0], name] = "not a number"
    with pytest.raises(
        DataError, match=f"column '{name}' has 1 value\\(s\\) that are not a number"
    ):
        validate(bad, config.data, with_target=True, source="x.csv")


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_numbers_are_refused(config: Config, sample: pd.DataFrame, value: float) -> None:
    name = first(config, NumericColumn)
    broken = sample.astype({name: float})
    broken.loc[[0, 3], name] = value
    with pytest.raises(DataError, match=rf"^bad.csv: column '{name}' has 2 infinite value\(s\)$"):
        validate(broken, config.data, with_target=True, source="bad.csv")


def test_missing_target_values(config: Config, sample: pd.DataFrame) -> None:
    bad = sample.copy()
    target = config.data.target.name
    bad[target] = bad[target].astype(object)
    bad.loc[bad.index[:3], target] = np.nan
    with pytest.raises(
        DataError, match=rf"column '{target}' has 3 missing value.*fill them in or leave them"
    ):
        validate(bad, config.data, with_target=True, source="x.csv")


def test_missing_feature_values_say_how_to_allow_them(config: Config, sample: pd.DataFrame) -> None:
    required = next(column.name for column in config.data.features if not column.nullable)
    bad = sample.copy()
    bad[required] = bad[required].astype(object)
    bad.loc[bad.index[:2], required] = np.nan
    with pytest.raises(DataError, match=f"'{required}' has 2 missing value.*add nullable: true"):
        validate(bad, config.data, with_target=True, source="x.csv")


def test_unlabelled_rows_need_no_target(config: Config, sample: pd.DataFrame) -> None:
    rows = sample.drop(columns=config.data.target.name)
    assert len(validate(rows, config.data, with_target=False, source="x.csv")) == len(rows)


def test_value_outside_allowed_set(config: Config, sample: pd.DataFrame) -> None:
    column = next(c for c in config.data.features if isinstance(c, CategoricalColumn) and c.allowed)
    bad = sample.copy()
    bad.loc[bad.index[0], column.name] = "never-seen"
    with pytest.raises(DataError, match=f"column '{column.name}' fails isin"):
        validate(bad, config.data, with_target=True, source="x.csv")


def test_constant_column_cannot_train(config: Config, sample: pd.DataFrame) -> None:
    name = config.data.feature_names[0]
    frame = validate(sample, config.data, with_target=True, source="x.csv")
    frame[name] = frame[name].iloc[0]
    with pytest.raises(DataError, match=f"constant column.*{name}"):
        check_trainable(frame, config.data, source="x.csv")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("absent.csv", None, "data file not found"),
        ("empty.csv", "", "data file is empty"),
        ("header.csv", "a,b\n", "has no rows"),
        ("data.txt", "a\n1\n", "unsupported file type"),
        ("broken.parquet", "not parquet", "cannot read data"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_table(path)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("file.txt/out.csv", "cannot write here"),
        ("folder.csv", "is a folder"),
    ],
    ids=["under a file", "onto a folder"],
)
def test_unwritable_outputs_are_one_error(
    sample: pd.DataFrame, tmp_path: Path, target: str, message: str
) -> None:
    (tmp_path / "file.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataError, match=message):
        write_table(sample, tmp_path / target)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file.txt", "folder.csv"]
    assert (tmp_path / "file.txt").read_text(encoding="utf-8") == "mine"


def test_parquet_round_trip(config: Config, sample: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "sample.parquet"
    write_table(sample, path)
    assert load_dataset(config.data, path).shape[0] == len(sample)
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file is left behind"


def test_json_lines_skip_a_torn_line_with_a_warning(tmp_path: Path) -> None:
    """A log whose writer was killed mid-line still reads: every whole record, one warning."""
    log = tmp_path / "rows.jsonl"
    log.write_text('{"a": 1}\n{"a": 2, "b\n{"a": 3}\n[4]\n', encoding="utf-8")
    with pytest.warns(ProjectWarning) as warned:
        frame = read_table(log)
    assert frame["a"].tolist() == [1, 3]
    assert [str(warning.message) for warning in warned] == [
        f"{log}:2: not a whole JSON record (cut short?); skipped",
        f"{log}:4: not a whole JSON record (cut short?); skipped",
    ]


def test_a_file_that_is_no_log_is_not_warned_of_line_by_line(tmp_path: Path) -> None:
    """A CSV given as a log: a few lines named, then one warning for the rest."""
    log = tmp_path / "churn.jsonl"
    log.write_text("a,b\n" + "1,2\n" * 30 + '{"a": 1}\n', encoding="utf-8")
    with pytest.warns(ProjectWarning) as warned:
        frame = read_table(log)
    assert frame["a"].tolist() == [1]
    said = [str(warning.message) for warning in warned]
    assert said[:2] == [
        f"{log}:1: not a whole JSON record (cut short?); skipped",
        f"{log}:2: not a whole JSON record (cut short?); skipped",
    ]
    assert said[5:] == [f"{log}: 26 more lines that are not whole JSON records skipped"]


TYPED = DataConfig(
    path=Path("typed.csv"),
    target=NumericColumn(name="y", type="numeric"),
    features=[
        BooleanColumn(name="member", type="boolean", nullable=True),
        DatetimeColumn(name="joined", type="datetime", format="%d/%m/%Y", nullable=True),
    ],
)


def test_booleans_are_read_from_their_words_and_dates_in_their_format(tmp_path: Path) -> None:
    written = tmp_path / "typed.csv"
    written.write_text(
        "member,joined,y\n"
        "Yes,31/01/2024,1\n"
        "no,01/02/2024,2\n"
        " TRUE ,,3\n"
        "0,29/02/2024,4\n"
        ",15/03/2024,5\n",
        encoding="utf-8",
    )
    frame = validate(read_table(written), TYPED, with_target=True, source="typed.csv")
    assert frame["member"].tolist()[:4] == [1.0, 0.0, 1.0, 0.0]
    assert np.isnan(frame["member"].iloc[4])
    assert str(frame["joined"].dtype).startswith("datetime64")
    assert frame["joined"].iloc[0] == pd.Timestamp("2024-01-31")
    assert pd.isna(frame["joined"].iloc[2])

    # The API's records, typed the same way, give the model the same values.
    records: list[dict[str, Any]] = [
        {"member": True, "joined": "31/01/2024"},
        {"member": False, "joined": None},
        {"member": None, "joined": "29/02/2024"},
    ]
    from_api = frame_from_records(records, TYPED)
    from_file = validate(
        pd.DataFrame(
            {"member": ["yes", "false", None], "joined": ["31/01/2024", None, "29/02/2024"]}
        ),
        TYPED,
        with_target=False,
        source="x",
    )
    pd.testing.assert_frame_equal(from_api, from_file, check_dtype=False)
    assert from_api.dtypes.tolist() == from_file.dtypes.tolist()


def test_a_word_that_is_not_yes_or_no_and_a_date_in_another_format_are_named() -> None:
    rows = pd.DataFrame(
        {
            "member": ["yes", "maybe", "2", "no"],
            "joined": ["31/01/2024", "01/02/2024", "x", "2024-01-31"],
        }
    )
    with pytest.raises(DataError) as error:
        validate(rows, TYPED, with_target=False, source="t.csv")
    message = str(error.value)
    assert "column 'member' has 1 value(s) that are not true or false (or yes/no, 1/0)" in message
    assert "column 'joined' has 2 value(s) that are not a date in the format %d/%m/%Y" in message
    valid, rejected = split_invalid(rows, TYPED, with_target=False, source="t.csv")
    assert valid.index.tolist() == [0]
    assert rejected["reason"].tolist() == [
        "member: 'maybe' is not true or false (or yes/no, 1/0)",
        "joined: 'x' is not a date in the format %d/%m/%Y; "
        "member: '2' is not true or false (or yes/no, 1/0)",
        "joined: '2024-01-31' is not a date in the format %d/%m/%Y",
    ]
    assert rejected["member"].tolist() == ["maybe", "2", "no"], "rejected rows as they were read"


CODED = DataConfig(
    path=Path("coded.csv"),
    target=CategoricalColumn(name="plan", type="categorical"),
    features=[
        NumericColumn(name="spend", type="numeric"),
        CategoricalColumn(name="region", type="categorical", nullable=True),
        CategoricalColumn(name="tier", type="categorical"),
    ],
)


def test_text_columns_keep_the_text_they_hold_whole_or_in_batches(tmp_path: Path) -> None:
    written = tmp_path / "coded.csv"
    written.write_text(
        "plan,tier,region,spend,notes\n"
        "basic,1,007,1.5,a\n"
        "pro,2,12,2,b\n"
        "basic,1,,3,c\n"
        "pro,3,0012,4,d\n",
        encoding="utf-8",
    )
    whole = read_configured(written, CODED)
    assert whole.columns.tolist() == ["plan", "tier", "region", "spend"]
    assert whole["tier"].tolist() == ["1", "2", "1", "3"]
    assert whole["region"].tolist()[:2] == ["007", "12"]
    assert pd.isna(whole["region"].iloc[2])
    assert whole["region"].iloc[3] == "0012"
    assert whole["spend"].tolist() == [1.5, 2.0, 3.0, 4.0]
    batches = pd.concat(read_batches(written, CODED, rows=2))
    pd.testing.assert_frame_equal(batches, whole)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_a_file_of_other_columns_says_so_not_that_it_is_empty(
    config: Config, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"other{suffix}"
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    if suffix == ".jsonl":  # a log of something else: the feedback log, say
        frame.to_json(path, orient="records", lines=True)
    else:
        write_table(frame, path)
    with pytest.raises(DataError, match=r"none of the columns the config names .* 'a', 'b'"):
        load_dataset(config.data, path)
