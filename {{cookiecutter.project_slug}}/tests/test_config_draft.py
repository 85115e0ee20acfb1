"""``init-config``: a table nobody wrote a schema for becomes a config that trains."""

from __future__ import annotations

{% if cookiecutter.serving == "fastapi" -%}
import json
{% endif -%}
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
{% if cookiecutter.serving == "fastapi" -%}
from fastapi.testclient import TestClient
{% endif -%}
from typer.testing import CliRunner

{% if cookiecutter.serving == "fastapi" -%}
from {{ cookiecutter.package_name }}.api import create_app
{% endif -%}
from {{ cookiecutter.package_name }}.artifacts import load_run
from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import (
    DEFAULT_CONFIG,
    Config,
    PathsConfig,
    load_config,
)
from {{ cookiecutter.package_name }}.config_draft import decide_column, flow
{% if cookiecutter.serving == "fastapi" -%}
from {{ cookiecutter.package_name }}.data import booleans_as_numbers
{% endif -%}
from {{ cookiecutter.package_name }}.monitoring import monitor
from {{ cookiecutter.package_name }}.predict import predict_file
from {{ cookiecutter.package_name }}.tasks import CLASSIFICATION, REGRESSION
from {{ cookiecutter.package_name }}.train import train

PROJECT_ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def unseen_table(rows: int = 400, seed: int = 7) -> pd.DataFrame:
    """Penguin-like measurements: three classes, names with spaces and brackets, missing
    values, an ID, a constant and an empty column, day-first dates, booleans (as True/False
    and as yes/no) and a code that is the answer in disguise."""
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], rows, p=[0.45, 0.2, 0.35])
    bill = pd.Series(species).map({"Adelie": 38.8, "Chinstrap": 48.8, "Gentoo": 47.5})
    length = (bill + rng.normal(0, 2.5, rows)).round(1).where(rng.random(rows) > 0.05)
    mass = pd.Series(species).map({"Adelie": 3700, "Chinstrap": 3730, "Gentoo": 5070})
    return pd.DataFrame(
        {
            "Sample Number": np.arange(1, rows + 1),
            "Culmen Length (mm)": length,
            "Body Mass (g)": (mass + rng.normal(0, 400, rows)).round(),
            "Island": rng.choice(["Biscoe", "Dream", "Torgersen"], rows),
            "Sex": pd.Series(
                rng.choice(["MALE", "FEMALE", ""], rows, p=[0.48, 0.48, 0.04])
            ).replace("", None),
            "Date Egg": pd.date_range("2007-11-01", periods=rows, freq="D").strftime("%d/%m/%Y"),
            "Clutch Completion": rng.choice([True, False], rows),
            "Tagged": pd.Series(rng.choice(["Yes", "No", "yes", "NO", ""], rows)).replace("", None),
            "Study": "PAL0708",
            "Comments": None,
            "Species Code": [name[:3].upper() for name in species],
            "Species": species,
        }
    ).assign(Large=lambda table: np.where(table["Body Mass (g)"] > 4500, "yes", "no"))


@pytest.fixture
def in_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with the table and a pyproject.toml naming two authors."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nauthors = [{name = "Ada"}, {email = "grace@example.com"}]\n',
        encoding="utf-8",
    )
    unseen_table().to_csv(tmp_path / "penguins.csv", index=False)
    return tmp_path


def init_config(*arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["init-config", "-c", str(PROJECT_ROOT / DEFAULT_CONFIG), *arguments]
    )
    return result.exit_code, result.output


def runnable_here(config: Config, root: Path) -> Config:
    """``config`` writing under ``root``{{ ", without tracking" if cookiecutter.experiment_tracking == "mlflow" }}, with the suite's cheaper importance."""
    update: dict[str, object] = {
        "paths": PathsConfig(models=root / "models", reports=root / "reports"),
        "importance": config.importance.model_copy(update={"repeats": 2}),
    }
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    update["tracking"] = config.tracking.model_copy(update={"enabled": False})
{%- endif %}
    return config.model_copy(update=update)


def test_a_drafted_config_trains_on_an_unseen_table(in_a_project: Path) -> None:
    code, output = init_config("-i", "penguins.csv", "--target", "Species", "-o", "drafted.yaml")
    assert code == 0, output
    assert "task: classification, as 'Species' has 3 classes" in output
    text = (in_a_project / "drafted.yaml").read_text(encoding="utf-8")
    config = load_config(in_a_project / "drafted.yaml")

    assert config.task is CLASSIFICATION
    assert config.data.target.model_dump(exclude_defaults=True) == {
        "name": "Species",
        "type": "categorical",
        "allowed": ["Adelie", "Chinstrap", "Gentoo"],
    }
    features = {column.name: column for column in config.data.features}
    assert list(features) == [
        "Culmen Length (mm)",
        "Body Mass (g)",
        "Island",
        "Sex",
        "Date Egg",
        "Clutch Completion",
        "Tagged",
        "Large",
    ]
    assert features["Date Egg"].model_dump(exclude_defaults=True) == {
        "name": "Date Egg",
        "type": "datetime",
        "format": "%d/%m/%Y",
    }
    assert features["Clutch Completion"].type == "boolean"
    assert features["Tagged"].type == "boolean"
    assert features["Tagged"].nullable
    assert features["Culmen Length (mm)"].nullable
    assert not features["Body Mass (g)"].nullable
    assert getattr(features["Body Mass (g)"], "min", None) == 0
    assert getattr(features["Sex"], "allowed", None) == ["FEMALE", "MALE"]
    assert config.data.passthrough == ["Sample Number"]
    for left_out, why in [
        ("Study", "the same value ('PAL0708') in every row"),
        ("Comments", "empty in every row"),
        ("Species Code", "gives the target away alone"),
    ]:
        assert f"#   {left_out}: {why}" in text
        assert f"left out: {left_out}: {why}" in output

    majority = unseen_table()["Species"].value_counts(normalize=True).iloc[0]
    assert config.quality_gate.minimum == {
        "roc_auc": 0.6,
        "accuracy": round(math.floor(majority * 100) / 100 + 0.01, 2),
    }
    assert config.model_card.owners == ["Ada", "grace@example.com"]
    assert "penguins.csv (400 rows)" in config.model_card.limitations
    assert "synthetic" not in text.lower()

    config = runnable_here(config, in_a_project)
    run = train(config)
    assert run.metadata["quality_gate"]["passed"]
    model_inputs = set(load_run(config.paths.models).model[:-1].get_feature_names_out())
    assert {"Date Egg_year", "Date Egg_month", "Date Egg_weekday", "Tagged"} <= model_inputs

    # The same table as the model will meet it: scored, explained, watched for drift.
    scored = predict_file(
        config, in_a_project / "penguins.csv", in_a_project / "p.csv", explain=True
    )
    predictions = scored.read_predictions()
    assert predictions["prediction"].isin(["Adelie", "Chinstrap", "Gentoo"]).all()
    assert predictions["contribution_Date Egg"].notna().all()
    report = monitor(config, config.data.path, in_a_project / "drift")
    tests = {feature.name: feature.test for feature in report.features}
    assert tests["Date Egg"] == "chi2 of months"
    assert tests["Tagged"] == "chi2"
    assert not report.alert


def test_a_numeric_target_makes_it_a_regression(in_a_project: Path) -> None:
    code, output = init_config(
        "-i", "penguins.csv", "--target", "Body Mass (g)", "-o", "drafted.yaml"
    )
    assert code == 0, output
    config = load_config(in_a_project / "drafted.yaml")
    assert config.task is REGRESSION
    assert config.model.estimator == "sklearn.linear_model.Ridge"
    assert list(config.tuning.space) == ["alpha"]
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    assert config.tracking.promotion.metric == "rmse"
{%- endif %}
    spread = unseen_table()["Body Mass (g)"].std()
    assert spread * 0.99 < config.quality_gate.maximum["rmse"] <= spread, "the mean alone fails"
    assert "Species" in config.data.feature_names, "the other task's target is a feature now"

    run = train(runnable_here(config, in_a_project))
    assert run.metadata["quality_gate"]["passed"]


def test_an_existing_file_is_replaced_only_with_force(in_a_project: Path) -> None:
    target = in_a_project / "drafted.yaml"
    target.write_text("mine\n", encoding="utf-8")
    code, output = init_config("-i", "penguins.csv", "--target", "Species", "-o", str(target))
    assert code == 1
    assert "exists; add --force to replace it" in output
    assert target.read_text(encoding="utf-8") == "mine\n"
    code, output = init_config(
        "-i", "penguins.csv", "--target", "Species", "-o", str(target), "--force"
    )
    assert code == 0, output
    assert load_config(target).data.target.name == "Species"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("species", "no column 'species' (did you mean 'Species'"),
        ("Date Egg", "400 distinct values in 400 rows: an identifier or a free text"),
        ("Study", "the target 'Study' has a single value"),
        ("Comments", "'Comments' has a value in fewer than 10 rows"),
    ],
)
def test_a_target_that_cannot_be_predicted_is_named(
    in_a_project: Path, target: str, message: str
) -> None:
    code, output = init_config("-i", "penguins.csv", "--target", target, "-o", "drafted.yaml")
    assert code == 1
    assert message in output
    assert not (in_a_project / "drafted.yaml").exists()


def test_rows_without_a_label_are_pointed_out(in_a_project: Path) -> None:
    table = unseen_table()
    table.loc[:2, "Species"] = None
    table.to_csv(in_a_project / "penguins.csv", index=False)
    code, output = init_config("-i", "penguins.csv", "--target", "Species", "-o", "drafted.yaml")
    assert code == 0, output
    assert "warning: 3 rows have no 'Species': remove them before training" in output


@pytest.mark.parametrize(
    "value",
    ["yes", "no", "1.5", "#tag", "a: b", "[x]", "Culmen Length (mm)", "null", "", "née", 0, True],
)
def test_names_and_values_survive_the_round_trip_through_yaml(value: object) -> None:
    assert yaml.safe_load(flow({"name": value})) == {"name": value}


@pytest.mark.parametrize(
    ("target", "values", "kind"),
    [("Large", None, bool), ("Gentoo", lambda table: (table["Species"] == "Gentoo") * 1, int)],
    ids=["yes/no", "0/1"],
)
def test_a_target_of_booleans_or_whole_numbers_comes_back_in_its_own_type(
    in_a_project: Path, target: str, values: Any, kind: type
) -> None:
    table = unseen_table() if values is None else unseen_table().assign(**{target: values})
    table.to_csv(in_a_project / "table.csv", index=False)
    code, output = init_config("-i", "table.csv", "--target", target, "-o", "drafted.yaml")
    assert code == 0, output
    config = runnable_here(load_config(in_a_project / "drafted.yaml"), in_a_project)
    expected_classes = [False, True] if kind is bool else [0, 1]
    assert config.data.target.type == ("boolean" if kind is bool else "categorical")
    train(config)

    scored = predict_file(config, in_a_project / "table.csv", in_a_project / "p.csv")
    predictions = scored.read_predictions()
    assert {type(label) for label in predictions["prediction"].tolist()} == {kind}
    assert set(predictions["prediction"]) <= set(expected_classes)
    assert {f"probability_{label}" for label in expected_classes} <= set(predictions)
{%- if cookiecutter.serving == "fastapi" %}

    first = booleans_as_numbers(table.head(1), config.data)[config.data.feature_names]
    record = json.loads(first.to_json(orient="records"))[0]
    for column in config.data.features:
        if column.type == "boolean" and record[column.name] is not None:
            record[column.name] = bool(record[column.name])
    with TestClient(create_app(config)) as client:
        response = client.post("/predict", json={"records": [record]})
    assert response.status_code == 200, response.text
    [answer] = response.json()["predictions"]
    assert type(answer["prediction"]) is kind
    assert set(answer["probabilities"]) == {str(label) for label in expected_classes}
{%- endif %}


@pytest.mark.parametrize(
    ("values", "entry", "note"),
    [
        (["31-12-2024", "01-01-2025", None] * 10, {"type": "datetime", "format": "%d-%m-%Y"}, ""),
        (
            ["01/02/2024", "03/04/2024", "12/11/2024"] * 10,
            {"type": "datetime", "format": "%d/%m/%Y"},
            "check: no day is past the 12th, so it may be %m/%d/%Y",
        ),
        (["Y", "n", "N", "y"] * 10, {"type": "boolean"}, ""),
        ([0, 1, 1] * 10, {"type": "boolean"}, ""),
        ([0.123456789, 2.5, 3] * 10, {"type": "numeric", "min": 0}, "seen 0.123457 to 3"),
    ],
)
def test_a_column_is_typed_from_what_it_holds(
    values: list[object], entry: dict[str, object], note: str
) -> None:
    column = pd.Series(values, name="x")
    target = pd.Series(np.random.default_rng(0).random(len(values)) < 0.5, name="y")
    decision = decide_column("x", column, target, CLASSIFICATION)
    assert decision.entry is not None
    assert {key: decision.entry[key] for key in entry} == entry
    assert decision.note.startswith(note)
