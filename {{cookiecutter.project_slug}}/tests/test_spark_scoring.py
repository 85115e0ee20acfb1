"""Scoring on Spark: the same rows, predictions and checks as ``predict`` on one machine.

The tests marked ``spark`` start Spark in local mode and need the spark group and Java:
``uv run nox -s spark`` runs them (the default run leaves them out). The others check,
without Spark, what its executors and its driver run: the batch scorer, the paths a
job may write, the usage errors.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.artifacts import TrainingRun
from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import (
    CategoricalColumn,
    Config,
    NumericColumn,
)
from {{ cookiecutter.package_name }}.data import (
    REASON,
    read_table,
    validate,
    write_table,
)
from {{ cookiecutter.package_name }}.errors import (
    DataError,
    InvalidRowsError,
    ProjectError,
)
from {{ cookiecutter.package_name }}.predict import (
    MODEL_VERSION,
    PREDICTION,
    load_for_inference,
    predict_file,
)
from {{ cookiecutter.package_name }}.spark_scoring import (
    BatchScorer,
    SparkScoring,
    carried,
    check_paths,
    for_arrow,
    is_spark_output,
    typical_features,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

runner = CliRunner()


def broken_rows(config: Config, sample: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, str]]:
    """Eight unlabelled rows, four of them invalid, and what is wrong with each of those."""
    rows = sample.drop(columns=config.data.target.name).head(8).reset_index(drop=True)
    numeric = next(c.name for c in config.data.features if isinstance(c, NumericColumn))
    categorical = next(
        c.name for c in config.data.features if isinstance(c, CategoricalColumn) and c.allowed
    )
    broken = rows.astype({numeric: str})  # text, so that Parquet holds a word there too
    broken.loc[1, numeric] = "lots"
    broken.loc[2, numeric] = "inf"
    broken.loc[4, categorical] = "never-seen"
    broken.loc[6, numeric] = None
    return broken, {
        1: f"{numeric}: 'lots' is not a number",
        2: f"{numeric}: infinite",
        4: f"{categorical}: 'never-seen' is not an allowed value",
        6: f"{numeric}: missing",
    }


def scorer_for(config: Config, frame: pd.DataFrame, *, keep_invalid: bool) -> BatchScorer:
    saved = load_for_inference(config)
    added = [PREDICTION, *(f"probability_{c}" for c in saved.metadata.get("classes", []))]
    columns = [*frame.columns, *added, MODEL_VERSION, REASON]
    return BatchScorer(saved, config, "rows", columns, keep_invalid=keep_invalid)


def test_the_batch_scorer_scores_as_predict_does(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    config, run = trained
    rows = sample.drop(columns=config.data.target.name).head(20)
    write_table(rows, tmp_path / "rows.parquet")
    expected = predict_file(config, tmp_path / "rows.parquet", tmp_path / "out.parquet")
    scorer = scorer_for(config, rows, keep_invalid=False)
    [scored] = list(scorer(iter([rows])))
    assert list(scored.columns) == scorer.columns
    assert scored[REASON].isna().all()
    assert (scored[MODEL_VERSION] == run.run_id).all()
    local = expected.read_predictions()
    assert scored[PREDICTION].tolist() == local[PREDICTION].tolist()


def test_the_batch_scorer_sets_invalid_rows_aside_or_fails_the_batch(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame
) -> None:
    config, _ = trained
    broken, reasons = broken_rows(config, sample)
    [scored] = list(scorer_for(config, broken, keep_invalid=True)(iter([broken])))
    rejected = scored[scored[REASON].notna()]
    assert rejected.index.tolist() == sorted(reasons)
    for row, reason in reasons.items():
        assert str(rejected.loc[row, REASON]).startswith(reason)
    assert scored.loc[scored[REASON].isna(), PREDICTION].notna().all()

    with pytest.raises(RuntimeError) as failed:
        list(scorer_for(config, broken, keep_invalid=False)(iter([broken])))
    error = carried(f"PythonException: Traceback ...\n{failed.value}\n  at org.apache.spark")
    assert isinstance(error, InvalidRowsError), "the driver gets the worker's error back"
    with pytest.raises(InvalidRowsError) as direct:
        validate(broken, config.data, with_target=False, source="rows")
    assert str(error) == str(direct.value)
    assert carried("java.lang.OutOfMemoryError: Java heap space") is None


def test_columns_go_to_spark_as_the_types_it_expects() -> None:
    """Text and columns with no value go as Python objects, None for a missing value."""
    frame = pd.DataFrame({"text": pd.Series(["a", None], dtype="string"), "empty": [None, None]})
    frame["empty"] = frame["empty"].astype("float64")
    frame["number"] = [1.5, 2.0]
    sent = for_arrow(frame)
    assert sent["text"].tolist() == ["a", None]
    assert sent["empty"].tolist() == [None, None]
    assert sent["number"].dtype == "float64"


def test_the_typical_row_is_a_valid_row(trained: tuple[Config, TrainingRun]) -> None:
    config, _ = trained
    typical = typical_features(load_for_inference(config), config)
    assert list(typical.columns) == config.data.feature_names
    assert len(typical) == 1


def spark_output(folder: Path) -> Path:
    """A folder as Spark leaves it: its ``_SUCCESS`` mark and a part."""
    folder.mkdir(parents=True)
    (folder / "_SUCCESS").touch()
    (folder / "part-00000-x.snappy.parquet").touch()
    return folder


def test_only_an_earlier_spark_output_is_replaced(tmp_path: Path) -> None:
    source = tmp_path / "rows.parquet"
    source.touch()
    earlier = spark_output(tmp_path / "scored")
    assert is_spark_output(earlier)
    check_paths(source, earlier, None)

    (earlier / "notes.txt").touch()
    assert not is_spark_output(earlier)
    with pytest.raises(ProjectError, match="is not the Parquet output of an earlier"):
        check_paths(source, earlier, None)
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ProjectError, match="is not the Parquet output"):
        check_paths(source, tmp_path / "new", other)


def test_a_job_never_writes_where_it_reads(tmp_path: Path) -> None:
    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "part-1.parquet").touch()
    with pytest.raises(ProjectError, match="holds or is the data this command reads"):
        check_paths(folder, folder / "scored", None)
    with pytest.raises(ProjectError, match="holds or is the data this command reads"):
        check_paths(folder / "*.parquet", folder, None)
    with pytest.raises(ProjectError, match="holds or is the data"):
        check_paths(folder / "part-*.parquet", tmp_path / "out", folder)
    with pytest.raises(DataError, match="no such file or folder"):
        check_paths(tmp_path / "absent" / "*.parquet", tmp_path / "out", None)


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (
            ["--engine", "spark", "-i", "a.parquet", "-o", "out", "--batch-rows", "9"],
            "sizes its own",
        ),
        (["--engine", "spark", "-i", "a.csv", "-o", "out"], "reads Parquet"),
        (["--engine", "spark", "-i", "a.parquet", "-o", "out.csv"], "writes a folder"),
        (["-i", ".", "-o", "out.csv"], "is a folder: name a file"),
        (["-i", "a.csv", "-o", "."], "is a folder: name a file"),
    ],
)
def test_options_that_do_not_go_together_are_usage_errors(
    arguments: list[str], problem: str
) -> None:
    result = runner.invoke(app, ["predict", *arguments])
    assert result.exit_code == 2
    assert problem in " ".join(result.output.split())


def test_without_pyspark_the_error_names_the_command_that_installs_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # what an environment without it has
    arguments = ["-i", str(tmp_path / "a.parquet"), "-o", str(tmp_path / "out")]
    result = runner.invoke(app, ["predict", "--engine", "spark", *arguments])
    assert result.exit_code == 1
    assert result.output == "error: --engine spark needs PySpark: run `uv sync --group spark`\n"


@pytest.mark.spark
def test_without_java_local_mode_says_what_it_needs(
    trained: tuple[Config, TrainingRun], tmp_path: Path
) -> None:
    """In a process of its own: the tests below share a running session."""
    source = tmp_path / "rows.parquet"
    source.touch()
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(trained[0].model_dump(mode="json")), encoding="utf-8")
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "predict"]
    options = ["-c", str(config_path), "--engine", "spark", "-i", str(source)]
    done = subprocess.run(
        [*command, *options, "-o", str(tmp_path / "out")],
        env={**os.environ, "JAVA_HOME": str(tmp_path / "no-java")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("error: Spark did not start (")
    assert "local mode needs Java 17 or newer" in line


# Spark in local mode, started once for the tests below.


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    from {{ cookiecutter.package_name }}.spark_scoring import spark_session

    with spark_session() as session:
        yield session


def in_key_order(frame: pd.DataFrame, config: Config) -> pd.DataFrame:
    """The rows by their keys: Spark reads the parts of a folder in an order of its own."""
    keys = list(config.data.passthrough) or list(frame.columns)
    return frame.sort_values(keys).reset_index(drop=True)


@pytest.mark.spark
@pytest.mark.parametrize("explain", [False, True], ids=["predictions", "explained"])
def test_spark_scores_every_row_as_predict_does(
    trained: tuple[Config, TrainingRun],
    sample: pd.DataFrame,
    spark: SparkSession,
    tmp_path: Path,
    explain: bool,
) -> None:
    """A folder of two Parquet files, scored by Spark, against the same rows in one file
    scored by ``predict``: the same rows, columns, types and predictions; probabilities
    to 1e-9 (a matrix product of other rows may round their last bits differently)."""
    config, _ = trained
    write_table(sample, tmp_path / "rows.parquet")
    folder = tmp_path / "rows"
    folder.mkdir()
    half = len(sample) // 2
    write_table(sample.iloc[:half], folder / "one.parquet")
    write_table(sample.iloc[half:], folder / "two.parquet")
    local = predict_file(
        config, tmp_path / "rows.parquet", tmp_path / "local.parquet", explain=explain
    ).read_predictions()

    job = SparkScoring.prepare(config, folder, tmp_path / "scored", explain=explain)
    scored = job.run(spark)

    assert (scored.rows, scored.rejected_rows) == (len(sample), None)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "local.parquet",
        "rows",
        "rows.parquet",
        "scored",
    ], "nothing else left beside the output"
    on_spark = pd.read_parquet(tmp_path / "scored")
    assert list(on_spark.columns) == list(local.columns)
    pd.testing.assert_frame_equal(
        in_key_order(on_spark, config), in_key_order(local, config), rtol=1e-9, atol=0
    )


@pytest.mark.spark
def test_invalid_rows_fail_the_job_or_are_set_aside_as_predict_does(
    trained: tuple[Config, TrainingRun],
    sample: pd.DataFrame,
    spark: SparkSession,
    tmp_path: Path,
) -> None:
    config, _ = trained
    broken, reasons = broken_rows(config, sample)
    source = tmp_path / "rows.parquet"
    write_table(broken, source)
    output = tmp_path / "out" / "scored"
    with pytest.raises(InvalidRowsError) as local_error:
        predict_file(config, source, tmp_path / "local.parquet")
    with pytest.raises(InvalidRowsError) as spark_error:
        SparkScoring.prepare(config, source, output).run(spark)
    assert str(spark_error.value) == str(local_error.value)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["rows.parquet"], "nothing left"

    local = predict_file(config, source, tmp_path / "local.parquet", skip_invalid=True)
    scored = SparkScoring.prepare(config, source, output, skip_invalid=True).run(spark)
    assert (scored.rows, scored.rejected_rows) == (4, 4)
    assert scored.rejected_path == tmp_path / "out" / "scored.rejected"
    pd.testing.assert_frame_equal(
        in_key_order(pd.read_parquet(output), config),
        in_key_order(local.read_predictions(), config),
        rtol=1e-9,
        atol=0,
    )
    rejected = in_key_order(pd.read_parquet(scored.rejected_path), config)
    assert local.rejected_path is not None
    expected = in_key_order(read_table(local.rejected_path), config)
    assert list(rejected.columns) == list(expected.columns)
    assert rejected[REASON].tolist() == expected[REASON].tolist()
    for reason in reasons.values():
        assert any(text.startswith(reason) for text in rejected[REASON])

    clean = tmp_path / "clean.parquet"
    write_table(broken.drop(index=list(reasons)), clean)
    settings = tmp_path / "config.yaml"
    settings.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    arguments = ["-c", str(settings), "-i", str(clean), "-o", str(output)]
    again = runner.invoke(app, ["predict", "--engine", "spark", *arguments])
    assert again.exit_code == 0, again.output
    assert again.output.startswith(f"wrote 4 predictions to {output} (1 Parquet part; Spark ")
    assert not scored.rejected_path.exists(), "no rows set aside by an earlier run stay"


@pytest.mark.spark
def test_a_table_with_no_valid_row_says_where_the_reasons_are(
    trained: tuple[Config, TrainingRun],
    sample: pd.DataFrame,
    spark: SparkSession,
    tmp_path: Path,
) -> None:
    config, _ = trained
    categorical = next(c.name for c in config.data.features if isinstance(c, CategoricalColumn))
    rows = sample.drop(columns=config.data.target.name).head(3).assign(**{categorical: "??"})
    write_table(rows, tmp_path / "rows.parquet")
    job = SparkScoring.prepare(config, tmp_path / "rows.parquet", tmp_path / "s", skip_invalid=True)
    with pytest.raises(DataError, match=r"no row is valid; all 3, .* in .*s\.rejected"):
        job.run(spark)
    assert not (tmp_path / "s").exists()
    assert len(pd.read_parquet(tmp_path / "s.rejected")) == 3


@pytest.mark.spark
def test_a_file_that_is_not_parquet_is_one_error(
    trained: tuple[Config, TrainingRun], spark: SparkSession, tmp_path: Path
) -> None:
    config, _ = trained
    (tmp_path / "rows.parquet").write_text("a,b\n1,2\n", encoding="utf-8")
    job = SparkScoring.prepare(config, tmp_path / "rows.parquet", tmp_path / "s")
    with pytest.raises(DataError, match=r"rows\.parquet: cannot read Parquet \(\S"):
        job.run(spark)
    assert not (tmp_path / "s").exists()
