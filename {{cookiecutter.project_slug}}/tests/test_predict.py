"""Batch prediction uses the saved pipeline and the same schema as training."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.artifacts import TrainingRun, load_run
from {{ cookiecutter.package_name }}.config import (
    BooleanColumn,
    CategoricalColumn,
    Config,
    NumericColumn,
    QualityGate,
)
from {{ cookiecutter.package_name }}.data import REASON, read_table, write_table
from {{ cookiecutter.package_name }}.errors import (
    CheckFailedError,
    DataError,
    InvalidRowsError,
    ModelNotFoundError,
    ProjectError,
)
from {{ cookiecutter.package_name }}.explain import explain_rows
from {{ cookiecutter.package_name }}.predict import (
    EXPLAINED,
    MODEL_VERSION,
    PREDICTION,
    fits_config,
{%- if cookiecutter.experiment_tracking == "none" %}
    load_for_inference,
{%- endif %}
    predict_file,
    probability_column,
)
from {{ cookiecutter.package_name }}.tasks import CLASSIFICATION, TASKS
from {{ cookiecutter.package_name }}.train import train


def unlabelled(config: Config, sample: pd.DataFrame, path: Path, rows: int = 25) -> Path:
    sample.drop(columns=config.data.target.name).head(rows).to_csv(path, index=False)
    return path


def test_round_trip_writes_one_prediction_per_row(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    config, run = trained
    output = tmp_path / "out" / "predictions.parquet"
    predict_file(config, unlabelled(config, sample, tmp_path / "in.csv"), output)
    result = read_table(output)
    assert len(result) == 25
    assert set(result[MODEL_VERSION]) == {run.run_id}
    assert result[PREDICTION].notna().all()
    if config.task.has_classes:
        assert set(map(str, result[PREDICTION])) <= set(run.metadata["classes"])
        probabilities = result.filter(like="probability_")
        assert probabilities.sum(axis=1).round(6).eq(1).all()


def test_explanations_cover_every_feature(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    config, _ = trained
    result = predict_file(
        config,
        unlabelled(config, sample, tmp_path / "in.csv", 5),
        tmp_path / "out.csv",
        explain=True,
    ).read_predictions()
    assert [f"contribution_{name}" for name in config.data.feature_names] == list(
        result.filter(like="contribution_").columns
    )
    if config.task.has_classes:
        explained = result[PREDICTION].map(probability_column).tolist()
        assert result[EXPLAINED].tolist() == explained
    else:
        assert set(result[EXPLAINED]) == {PREDICTION}


def test_each_row_explains_the_class_predicted_for_it() -> None:
    """With three classes, a row's contributions move the probability of its own
    predicted class, not of whichever class comes last."""
    from sklearn.linear_model import LogisticRegression

    features = pd.DataFrame({"size": np.tile([0.0, 5.0, 10.0], 10)})
    labels = np.tile(["small", "medium", "large"], 10)
    model = LogisticRegression().fit(features, labels)
    rows = features.head(3)

    contributions, explained = explain_rows(model, rows, {"size": 5.0}, CLASSIFICATION)

    assert explained is not None
    assert explained.tolist() == ["small", "medium", "large"]
    typical = model.predict_proba(pd.DataFrame({"size": [5.0] * 3}))
    own = model.predict_proba(rows)
    for row, label in enumerate(explained):
        position = list(model.classes_).index(label)
        expected = own[row, position] - typical[row, position]
        assert contributions["size"].iloc[row] == pytest.approx(expected)
    assert contributions["size"].iloc[1] == pytest.approx(0.0), "the typical row moves nothing"


def test_invalid_rows_write_nothing(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    config, _ = trained
    source = tmp_path / "in.csv"
    sample.drop(columns=config.data.feature_names[0]).to_csv(source, index=False)
    with pytest.raises(DataError, match="is missing"):
        predict_file(config, source, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_invalid_rows_are_set_aside_with_a_reason_on_request(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    """``skip_invalid`` scores the valid rows and writes the others, each with its reason,
    to ``<output>.rejected<suffix>``; the valid rows' predictions are those of a clean file."""
    config, _ = trained
    rows = sample.drop(columns=config.data.target.name).head(8)
    numeric = next(c.name for c in config.data.features if isinstance(c, NumericColumn))
    categorical = next(
        c.name for c in config.data.features if isinstance(c, CategoricalColumn) and c.allowed
    )
    broken = rows.astype({numeric: str})  # text, so that Parquet holds a word there too
    broken.loc[1, numeric] = "lots"
    broken.loc[2, numeric] = "inf"  # checked only once the word's row is out
    broken.loc[4, categorical] = "never-seen"
    broken.loc[6, numeric] = None
    source = tmp_path / f"in{suffix}"
    write_table(broken, source)
    output = tmp_path / f"scored{suffix}"

    with pytest.raises(InvalidRowsError):
        predict_file(config, source, output)
    scored = predict_file(config, source, output, skip_invalid=True)

    assert scored.rejected_path == tmp_path / f"scored.rejected{suffix}"
    rejected = read_table(scored.rejected_path)
    reasons = dict(zip([1, 2, 4, 6], rejected[REASON], strict=True))
    assert reasons[1] == f"{numeric}: 'lots' is not a number"
    assert reasons[2].startswith(f"{numeric}: infinite")
    assert reasons[4] == f"{categorical}: 'never-seen' is not an allowed value"
    assert reasons[6] == f"{numeric}: missing"
    predicted = read_table(output)
    assert len(predicted) == 4
    clean = tmp_path / f"clean{suffix}"
    write_table(rows.drop(index=[1, 2, 4, 6]), clean)
    expected = predict_file(config, clean, tmp_path / f"expected{suffix}").read_predictions()
    assert predicted[PREDICTION].tolist() == expected[PREDICTION].tolist()

    predict_file(config, clean, output)
    assert not scored.rejected_path.exists(), "no rows set aside by an earlier run stay"


def test_a_file_with_no_valid_row_fails_and_says_where_the_reasons_are(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    config, _ = trained
    categorical = next(c.name for c in config.data.features if isinstance(c, CategoricalColumn))
    rows = sample.drop(columns=config.data.target.name).head(3).assign(**{categorical: "??"})
    source = tmp_path / "in.csv"
    rows.to_csv(source, index=False)
    with pytest.raises(DataError, match=r"no row is valid; all 3, .* in .*scored\.rejected\.csv"):
        predict_file(config, source, tmp_path / "scored.csv", skip_invalid=True)
    assert not (tmp_path / "scored.csv").exists()
    assert len(read_table(tmp_path / "scored.rejected.csv")) == 3


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_earlier_output_scores_again(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    config, _ = trained
    first = predict_file(
        config, unlabelled(config, sample, tmp_path / "in.csv"), tmp_path / f"a{suffix}"
    ).read_predictions()
    again = predict_file(
        config, tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    ).read_predictions()
    assert list(again.columns) == list(first.columns), "no doubled columns"
    assert again[PREDICTION].tolist() == first[PREDICTION].tolist()
    assert list(read_table(tmp_path / f"b{suffix}").columns) == list(first.columns)


def test_predictions_never_replace_their_input(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    config, _ = trained
    source = unlabelled(config, sample, tmp_path / "rows.csv")
    original = source.read_bytes()
    same_file = tmp_path / "." / "rows.csv"
    with pytest.raises(ProjectError, match="is a file this command reads"):
        predict_file(config, source, same_file)
    assert source.read_bytes() == original


def test_no_model_yet(config: Config, sample: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="run the train command first"):
        predict_file(config, unlabelled(config, sample, tmp_path / "in.csv"), tmp_path / "out.csv")


def test_when_no_run_passed_the_gate_predict_says_by_how_much(
    config: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    metric = "accuracy" if config.task.has_classes else "r2"
    strict = config.model_copy(update={"quality_gate": QualityGate(minimum={metric: 2.0})})
    with pytest.raises(CheckFailedError):
        train(strict)
    with pytest.raises(
        ModelNotFoundError,
        match=rf"has passed the quality gate yet \(1 tried\); .* missed it: {metric} .* < minimum 2",
    ):
        predict_file(config, unlabelled(config, sample, tmp_path / "in.csv"), tmp_path / "out.csv")


{%- if cookiecutter.experiment_tracking == "none" %}


def test_a_registry_reference_says_the_registry_needs_tracking(
    trained: tuple[Config, TrainingRun],
) -> None:
    config, _ = trained
    with pytest.raises(ModelNotFoundError, match=r"^'models:/model@champion' names a regis"):
        load_for_inference(config, "models:/model@champion")
{%- endif %}


def test_a_model_trained_on_other_features_is_refused(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    config, _ = trained
    fewer = config.model_copy(
        update={"data": config.data.model_copy(update={"features": config.data.features[:-1]})}
    )
    with pytest.raises(ModelNotFoundError, match=r"was trained on features .* train again"):
        predict_file(fewer, unlabelled(config, sample, tmp_path / "in.csv"), tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()

    # The same names, one of another type: the model would get numbers where it saw text.
    last = config.data.features[-1]
    retyped_column = (
        BooleanColumn(name=last.name, type="boolean")
        if last.type != "boolean"
        else NumericColumn(name=last.name, type="numeric")
    )
    retyped = config.model_copy(
        update={
            "data": config.data.model_copy(
                update={"features": [*config.data.features[:-1], retyped_column]}
            )
        }
    )
    with pytest.raises(ModelNotFoundError, match=rf"{last.name} \({last.type}\)"):
        predict_file(retyped, unlabelled(config, sample, tmp_path / "in.csv"), tmp_path / "out.csv")


def test_csv_output_never_hands_a_spreadsheet_a_formula(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    """Text cells that would run as formulas are quoted in CSV; Parquet keeps them as read."""
    config, _ = trained
    config = config.model_copy(
        update={"data": config.data.model_copy(update={"passthrough": ["note"]})}
    )
    notes = [
        '=HYPERLINK("http://example.com","x")',
        "-2+3",
        "+A1",
        "@SUM(A1)",
        "\r@SUM(1+1)",
        "C1\r=2+5",
        "plain",
        "-2",
        "+1.5e3",
    ]
    rows = sample.drop(columns=config.data.target.name).head(len(notes))
    source = tmp_path / "in.csv"
    write_table(rows.assign(note=notes), source, quote_formulas=False)
    predict_file(config, source, tmp_path / "out.csv")
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as stream:
        written = list(csv.DictReader(stream))
    assert [row["note"] for row in written] == [f"'{note}" for note in notes[:5]] + notes[5:]
    predict_file(config, source, tmp_path / "out.parquet")
    assert list(read_table(tmp_path / "out.parquet")["note"]) == notes


def test_only_configured_columns_are_read_and_passthrough_is_kept(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path
) -> None:
    """Other columns are never read: not into memory, not into the output."""
    config, _ = trained
    key = "row_key"
    config = config.model_copy(
        update={"data": config.data.model_copy(update={"passthrough": [key]})}
    )
    rows = unlabelled(config, sample, tmp_path / "plain.csv")
    wide = pd.read_csv(rows).head(20)
    wide.insert(0, key, [f"k{i}" for i in range(len(wide))])
    unread = pd.DataFrame(
        np.zeros((len(wide), 1_000)), columns=[f"unread_{i}" for i in range(1_000)]
    )
    for suffix in (".csv", ".parquet"):
        source = tmp_path / f"wide{suffix}"
        write_table(pd.concat([wide, unread], axis=1), source)
        assert set(read_table(source, config.data.columns)) == {key, *config.data.feature_names}
        result = predict_file(config, source, tmp_path / f"out{suffix}").read_predictions()
        assert result[key].tolist() == wide[key].tolist()
        assert not [name for name in result.columns if name.startswith("unread_")]


def test_a_model_stands_in_only_for_a_config_of_its_own_shape(
    trained: tuple[Config, TrainingRun],
) -> None:
    """Features, their types, the task and the target's type and classes must all match."""
    config, _ = trained
    saved = load_run(config.paths.models)
    assert fits_config(saved, config)

    def with_target(target: object) -> Config:
        return config.model_copy(update={"data": config.data.model_copy(update={"target": target})})

    name = config.data.target.name
    retyped = (
        CategoricalColumn(name=name, type="categorical", allowed=["a", "b"])
        if isinstance(config.data.target, BooleanColumn)
        else BooleanColumn(name=name, type="boolean")
    )
    assert not fits_config(saved, with_target(retyped))
    for other_task in [task for task in TASKS.values() if task is not config.task]:
        assert not fits_config(saved, config.model_copy(update={"task": other_task}))
    if isinstance(config.data.target, CategoricalColumn) and config.data.target.allowed:
        more = CategoricalColumn(
            name=name, type="categorical", allowed=[*map(str, config.data.target.allowed), "new"]
        )
        assert not fits_config(saved, with_target(more))


def with_gaps(config: Config, sample: pd.DataFrame, rows: int) -> pd.DataFrame:
    """Unlabelled sample rows whose nullable numeric feature is empty in the last rows
    only: a CSV read in batches gives its first batches whole numbers, its last floats."""
    frame = sample.drop(columns=config.data.target.name).head(rows).reset_index(drop=True)
    nullable = next(
        c.name for c in config.data.features if isinstance(c, NumericColumn) and c.nullable
    )
    frame[nullable] = frame[nullable].round()
    frame.loc[rows - 3 :, nullable] = None
    return frame


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_scored_in_batches_comes_out_as_scored_whole(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    config, _ = trained
    source = tmp_path / "in.csv"
    with_gaps(config, sample, 200).to_csv(source, index=False)
    whole = predict_file(config, source, tmp_path / f"whole{suffix}", explain=True)
    batched = predict_file(
        config, source, tmp_path / f"batched{suffix}", explain=True, batch_rows=30
    )
    assert (whole.rows, batched.rows) == (200, 200)
    # The same labels and columns; the numbers agree to the last bits that a matrix
    # product of 30 rows may round differently from one of 200.
    pd.testing.assert_frame_equal(
        batched.read_predictions(), whole.read_predictions(), check_exact=False, rtol=1e-9
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_bad_row_in_a_later_batch_fails_the_file_and_writes_nothing(
    trained: tuple[Config, TrainingRun], sample: pd.DataFrame, tmp_path: Path, suffix: str
) -> None:
    """Not the output, not a temporary file, not the folders made to hold them."""
    config, _ = trained
    rows = with_gaps(config, sample, 100)
    numeric = config.data.numeric_features[0]
    rows[numeric] = rows[numeric].astype(str)
    rows.loc[95, numeric] = "lots"
    source = tmp_path / f"in{suffix}"
    write_table(rows, source)
    output = tmp_path / "scored" / "today" / f"out{suffix}"
    with pytest.raises(InvalidRowsError, match=r"not a number \(e\.g\. 'lots'\)"):
        predict_file(config, source, output, batch_rows=10)
    assert sorted(path.name for path in tmp_path.iterdir()) == [source.name]

    scored = predict_file(config, source, output, batch_rows=10, skip_invalid=True)
    assert (scored.rows, scored.rejected_rows) == (99, 1)
    assert scored.rejected_path is not None
    rejected = read_table(scored.rejected_path)
    assert rejected[REASON].tolist() == [f"{numeric}: 'lots' is not a number"]
    assert len(read_table(output)) == 99


@pytest.mark.parametrize(
    "arguments",
    [["predict", "-i", "in.csv", "-o", "out.csv"], ["monitor", "-i", "in.csv"]],
    ids=["predict", "monitor"],
)
def test_a_batch_of_no_rows_is_a_usage_error(arguments: list[str]) -> None:
    from typer.testing import CliRunner

    from {{ cookiecutter.package_name }}.cli import app

    result = CliRunner().invoke(app, [*arguments, "--batch-rows", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--batch-rows'" in result.output
