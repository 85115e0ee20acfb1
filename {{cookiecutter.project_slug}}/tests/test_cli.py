"""The command line: fast help, the version, and exit codes a script can rely on."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.artifacts import TrainingRun
from {{ cookiecutter.package_name }}.cli import app, loading_libraries
from {{ cookiecutter.package_name }}.config import CategoricalColumn, Config, NumericColumn

runner = CliRunner()


def write(config: Config, tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    return path


def test_help_lists_the_pipeline_steps() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("train", "evaluate", "predict", "validate", "monitor"):
        assert command in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_does_not_import_the_ml_stack() -> None:
    code = "import sys; from {{ cookiecutter.package_name }}.cli import app; print(sorted({'sklearn', 'pandas', 'pandera'} & set(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Put the garbage collector back as it was: enabled, nothing frozen by the test."""
    yield
    gc.unfreeze()
    gc.enable()


@pytest.mark.usefixtures("collector_restored")
def test_libraries_load_with_the_collector_paused_then_stay_frozen() -> None:
    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    with loading_libraries():
        assert not gc.isenabled(), "no collection while the libraries load"
        loaded = [[index] for index in range(1000)]
    assert gc.isenabled(), "the command itself runs with the collector on"
    assert gc.get_freeze_count() >= frozen_before + len(loaded)


@pytest.mark.usefixtures("collector_restored")
def test_a_failed_import_still_turns_the_collector_back_on() -> None:
    with pytest.raises(ModuleNotFoundError), loading_libraries():
        import no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    gc.disable()
    with loading_libraries():
        pass
    assert not gc.isenabled()


def test_train_predict_evaluate_end_to_end(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    config_path = write(config, tmp_path)
    trained = runner.invoke(app, ["train", "--config", str(config_path)])
    assert trained.exit_code == 0, trained.output
    assert "model card" in trained.output
    pipeline = config.paths.models / "pipeline"
    for _ in range(2):  # the copy a pipeline tracks: made, then replaced by the next run
        copied = runner.invoke(app, ["train", "-c", str(config_path), "-d", str(pipeline)])
        assert copied.exit_code == 0, copied.output
        assert copied.output.endswith(f"copied it to {pipeline}\n")
        metadata = json.loads((pipeline / "metadata.json").read_text(encoding="utf-8"))
        assert metadata["run_id"] == (config.paths.models / "latest").read_text().strip()
    assert len(list((config.paths.models / "runs").iterdir())) == 3, "every run is kept"
    models = config.paths.models
    assert sorted(path.name for path in models.iterdir() if path.name.startswith(".")) == []

    rows = tmp_path / "rows.csv"
    sample.drop(columns=config.data.target.name).head(10).to_csv(rows, index=False)
    predicted = runner.invoke(
        app, ["predict", "-c", str(config_path), "-i", str(rows), "-o", str(tmp_path / "p.csv")]
    )
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == 10

    evaluated = runner.invoke(
        app,
        [
            "evaluate",
            "-c",
            str(config_path),
            "-i",
            str(config.data.path),
            "-m",
            str(pipeline),
            "-o",
            str(tmp_path / "evaluation.json"),
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert '"model_version"' in evaluated.stdout
    assert (
        f"holds about 100% of the rows model {metadata['run_id']} was trained on"
        in evaluated.stderr
    ), "the training file itself"
    evaluation = json.loads((tmp_path / "evaluation.json").read_text(encoding="utf-8"))
    assert evaluation["model_version"] == metadata["run_id"]


def test_train_copies_only_over_an_earlier_copy(config: Config, tmp_path: Path) -> None:
    """A folder holding anything else is refused before training, and left as it was."""
    occupied = tmp_path / "notes"
    occupied.mkdir()
    (occupied / "todo.txt").write_text("keep me", encoding="utf-8")
    (occupied / "metadata.json").write_text('{"run_id": "mine"}', encoding="utf-8")
    config_path = write(config, tmp_path)
    result = runner.invoke(app, ["train", "-c", str(config_path), "-d", str(occupied)])
    assert result.exit_code == 1
    assert result.output == (
        f"error: {occupied}: exists and is not a copy made by --output-dir; choose another folder\n"
    )
    a_file = runner.invoke(app, ["train", "-c", str(config_path), "-d", str(occupied / "todo.txt")])
    assert a_file.exit_code == 2, "a file is not a folder: a usage error"
    assert "is a file" in a_file.stderr
    assert (occupied / "todo.txt").read_text(encoding="utf-8") == "keep me"
    assert not config.paths.models.exists(), "nothing was trained"


def test_train_never_copies_over_a_run(trained: tuple[Config, TrainingRun], tmp_path: Path) -> None:
    config, run = trained
    before = {path.name: path.read_bytes() for path in run.run_dir.iterdir()}
    config_path = write(config, tmp_path)
    result = runner.invoke(app, ["train", "-c", str(config_path), "-d", str(run.run_dir)])
    assert result.exit_code == 1
    assert "is not a copy made by --output-dir" in result.output
    assert {path.name: path.read_bytes() for path in run.run_dir.iterdir()} == before


def test_ingest_writes_a_validated_copy(config: Config, tmp_path: Path) -> None:
    output = tmp_path / "dataset.parquet"
    result = runner.invoke(
        app,
        [
            "ingest",
            "-c",
            str(write(config, tmp_path)),
            "-i",
            str(config.data.path),
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    ingested = pd.read_parquet(output)
    assert list(ingested.columns) == [*config.data.feature_names, config.data.target.name]


def test_validate_reports_a_valid_file(config: Config, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["validate", "-c", str(write(config, tmp_path)), "-i", str(config.data.path)]
    )
    assert result.exit_code == 0
    assert "valid" in result.output


def test_bad_input_is_one_line_and_exit_1(config: Config, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["validate", "-c", str(write(config, tmp_path)), "-i", str(tmp_path / "none.csv")]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {tmp_path / 'none.csv'}: data file not found"
    ]


def test_bad_config_is_exit_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--config", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert "config file not found" in result.output


def test_drift_exits_3(config: Config, sample: pd.DataFrame, tmp_path: Path) -> None:
    numeric = [c.name for c in config.data.features if c.type == "numeric"]
    moved = sample.copy()
    moved[numeric] = moved[numeric] + 2 * moved[numeric].std()  # within the schema's ranges
    current = tmp_path / "current.csv"
    moved.to_csv(current, index=False)
    result = runner.invoke(
        app,
        [
            "monitor",
            "-c",
            str(write(config, tmp_path)),
            "-i",
            str(current),
            "-d",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 3
    assert "drift detected" in result.output
    moved.head(config.monitoring.min_rows - 1).to_csv(current, index=False)
    arguments = ["-c", str(tmp_path / "config.yaml"), "-i", str(current), "-d", str(tmp_path)]
    few = runner.invoke(app, ["monitor", *arguments])
    assert few.exit_code == 0, few.output
    assert few.output.startswith("not enough data to judge drift:")


def test_every_option_name_works(config: Config, tmp_path: Path) -> None:
    """The short names do what the long ones do, and an earlier name still works."""
    config_path = str(write(config, tmp_path))
    checked = runner.invoke(app, ["validate", "-c", config_path, "-v"])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith(f"{config.data.path}: "), "default input: data.path"
    old = runner.invoke(app, ["evaluate", "-c", config_path, "--data", str(config.data.path)])
    assert "note: --data is now --input (-i)" in old.stderr
    assert "run the train command first" in old.stderr, "the old name reached the command"
    both = ["evaluate", "-c", config_path, "-i", "a.csv", "--data", "b.csv"]
    assert runner.invoke(app, both).exit_code == 2
    missing = runner.invoke(app, ["monitor", "-c", config_path])
    assert missing.exit_code == 2
    assert "Invalid value for '--input' / '-i': missing: name the file to read" in missing.stderr


@pytest.mark.parametrize("command", ["ingest", "evaluate"])
def test_an_output_never_replaces_what_the_command_reads(
    trained: tuple[Config, TrainingRun], tmp_path: Path, command: str
) -> None:
    config, _ = trained
    config_path = write(config, tmp_path)
    source = tmp_path / "rows.csv"
    source.write_bytes(config.data.path.read_bytes())
    kept = {path: path.read_bytes() for path in (source, config_path)}
    for output in kept:
        result = runner.invoke(
            app, [command, "-c", str(config_path), "-i", str(source), "-o", str(output)]
        )
        assert (result.exit_code, result.stderr) == (
            1,
            f"error: {output}: is a file this command reads; write to another\n",
        )
    assert {path: path.read_bytes() for path in kept} == kept


def test_verbose_before_the_command_still_works_with_a_note(config: Config, tmp_path: Path) -> None:
    result = runner.invoke(app, ["-v", "validate", "-c", str(write(config, tmp_path))])
    assert result.exit_code == 0
    assert result.stderr.startswith("note: -v now goes after the command")


def test_a_model_outside_the_models_folder_needs_the_opt_in(
    trained: tuple[Config, TrainingRun], config: Config, tmp_path: Path
) -> None:
    """``config`` has a models folder of its own; the trained run lies outside it."""
    _, run = trained
    config_path = write(config, tmp_path)
    scored = tmp_path / "scored.csv"
    command = ["predict", "-c", str(config_path), "-i", str(config.data.path), "-o", str(scored)]
    refused = runner.invoke(app, [*command, "--model", str(run.run_dir)])
    assert refused.exit_code == 1
    assert refused.output.startswith(f"error: {run.run_dir}: outside {config.paths.models}")
    assert len(refused.output.splitlines()) == 1
    assert not scored.exists()
    allowed = runner.invoke(app, [*command, "--model", str(run.run_dir), "--allow-external-model"])
    assert allowed.exit_code == 0, allowed.output
    assert scored.is_file()


def test_validate_makes_the_checks_train_makes_and_warns_of_suspicious_features(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    features = config.data.feature_names
    config_path = write(config, tmp_path)
    table = tmp_path / "table.csv"

    def validate(frame: pd.DataFrame) -> tuple[int, str]:
        frame.to_csv(table, index=False)
        result = runner.invoke(app, ["validate", "-c", str(config_path), "-i", str(table)])
        return result.exit_code, result.output

    code, output = validate(sample.assign(**{features[0]: sample[features[0]].iloc[0]}))
    assert code == 1
    assert f"constant column(s) {features[0]} carry no information" in output, "as train says"

    with_code = config.data.model_copy(
        update={
            "features": [*config.data.features, CategoricalColumn(name="code", type="categorical")]
        }
    )
    config_path = write(config.model_copy(update={"data": with_code}), tmp_path)
    numbered = sample.assign(code=[f"C{row:05}" for row in range(len(sample))])
    code, output = validate(numbered)  # an ID in disguise
    assert code == 0, output
    assert f"warning: {table}: feature 'code' looks like an ID" in output
    assert "move it to data.passthrough" in output

    code, output = validate(sample.rename(columns={features[-1]: features[-1].upper()}))
    assert code == 1
    assert f"column {features[-1]!r} is missing (did you mean {features[-1].upper()!r}?)" in output


def test_an_error_about_some_rows_says_how_to_use_the_others(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    config, _ = trained
    numeric = next(c.name for c in config.data.features if isinstance(c, NumericColumn))
    rows = sample.head(5).astype({numeric: object})
    rows.loc[rows.index[2], numeric] = "lots"
    rows.to_csv(tmp_path / "in.csv", index=False)
    config_path = write(config, tmp_path)
    result = runner.invoke(
        app, ["predict", "-c", str(config_path), "-i", str(tmp_path / "in.csv"), "-o", "x.csv"]
    )
    assert result.exit_code == 1
    assert result.stderr.endswith("; --skip-invalid uses the valid rows and sets these aside\n")

    misspelled = config.data.model_copy(update={"passthrough": [f"{numeric}_"]})
    config_path = write(config.model_copy(update={"data": misspelled}), tmp_path)
    result = runner.invoke(app, ["validate", "-c", str(config_path), "-i", str(config.data.path)])
    assert result.exit_code == 0, result.output
    assert (
        f"warning: {config.data.path}: passthrough column '{numeric}_' is not in the file, so "
        f"the output goes without it (did you mean '{numeric}'?)"
    ) in result.stderr
