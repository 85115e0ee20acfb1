"""A real training run on the sample data: gated, documented, reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, r2_score

from {{ cookiecutter.package_name }} import explain
from {{ cookiecutter.package_name }}.artifacts import (
    TrainingRun,
    load_run,
    resolve_run_dir,
)
from {{ cookiecutter.package_name }}.config import (
    Config,
    ModelConfig,
    QualityGate,
)
from {{ cookiecutter.package_name }}.data import load_dataset
from {{ cookiecutter.package_name }}.errors import (
    CheckFailedError,
    ConfigError,
    DataError,
    ProjectWarning,
)
from {{ cookiecutter.package_name }}.evaluate import share_of_training_rows
from {{ cookiecutter.package_name }}.explain import feature_importance
from {{ cookiecutter.package_name }}.model_card import describes_other_data
from {{ cookiecutter.package_name }}.tasks import class_codes
from {{ cookiecutter.package_name }}.train import split, train


def test_training_meets_the_gate_and_writes_the_run(trained: tuple[Config, TrainingRun]) -> None:
    config, run = trained
    assert run.passed
    for name in (
        "model.pkl",
        "metadata.json",
        "metrics.json",
        "config.yaml",
        "model_card.md",
        "feature_importance.png",
    ):
        assert (run.run_dir / name).is_file(), name
    assert resolve_run_dir(config.paths.models) == run.run_dir
    assert (config.paths.reports / "model_card.md").is_file()
    assert (config.paths.reports / "feature_importance.png").read_bytes().startswith(b"\x89PNG")


def test_metadata_records_lineage(trained: tuple[Config, TrainingRun]) -> None:
    config, run = trained
    metadata = json.loads((run.run_dir / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["config_sha256"] == config.fingerprint()
    assert len(metadata["data"]["sha256"]) == 64
    assert {"commit", "dirty"} <= set(metadata["git"])
    assert metadata["versions"]["scikit-learn"] != "not installed"
    assert metadata["seed"] == config.seed
    assert set(metadata["feature_importance"]) == set(config.data.feature_names)


def test_model_card_reports_the_metrics(trained: tuple[Config, TrainingRun]) -> None:
    _, run = trained
    card = (run.run_dir / "model_card.md").read_text(encoding="utf-8")
    assert run.run_id in card
    assert "Quality gate: passed" in card
    for name, value in run.metrics.items():
        assert f"| {name} | {value:.4f} |" in card


def test_same_seed_same_data_same_model(
    trained: tuple[Config, TrainingRun], config: Config
) -> None:
    _, first = trained
    second = train(config)
    assert second.metrics == first.metrics
    assert second.metadata["model_sha256"] == first.metadata["model_sha256"]


def test_saved_model_loads_and_matches(trained: tuple[Config, TrainingRun]) -> None:
    config, run = trained
    saved = load_run(config.paths.models)
    assert saved.version == run.run_id
    assert saved.metadata["metrics"] == run.metrics


def test_missed_gate_fails_and_keeps_the_previous_model(config: Config) -> None:
    good = train(config)
    metric, value = next(iter(good.metrics.items()))
    if config.task.metrics[metric]:
        unreachable = QualityGate(minimum={metric: value + 1})
    else:
        unreachable = QualityGate(maximum={metric: value / 2})
    with pytest.raises(CheckFailedError, match=f"quality gate failed.*{metric}"):
        train(config.model_copy(update={"quality_gate": unreachable}))
    assert resolve_run_dir(config.paths.models) == good.run_dir
    assert len(list((config.paths.models / "runs").iterdir())) == 2, (
        "the failed run is kept for inspection"
    )


def test_cross_validation_scores_are_recorded(config: Config) -> None:
    run = train(config.model_copy(update={"cv_folds": 3}))
    assert set(run.metadata["cv"]) == {"cv_mean", "cv_std"}


@pytest.mark.parametrize(
    ("estimator", "params", "message"),
    [
        ("sklearn.nowhere.Model", {}, "cannot import"),
        ("sklearn.linear_model.Ridge", {"no_such_param": 1}, "model.params"),
        ("sklearn.linear_model.Ridge", {"alpha": "x"}, "model.params: The 'alpha' parameter"),
        ("sklearn.linear_model.Ridge", {"max_iter": 1e400}, "model.params: The 'max_iter'"),
        ("subprocess.Popen", {"args": ["touch", "{marker}"]}, "not a scikit-learn estimator"),
        ("os.system", {"command": "touch {marker}"}, "not a scikit-learn estimator"),
        ("sklearn.preprocessing.StandardScaler", {}, "is not an estimator"),
    ],
)
def test_bad_estimator_settings(
    config: Config, estimator: str, params: dict[str, object], message: str
) -> None:
    marker = config.paths.models.parent / "code-ran"
    filled = json.loads(json.dumps(params).replace("{marker}", str(marker)))
    broken = config.model_copy(update={"model": ModelConfig(estimator=estimator, params=filled)})
    with pytest.raises(ConfigError, match=message):
        train(broken)
    assert not config.paths.models.exists(), "a run that never trained leaves nothing behind"
    assert not marker.exists(), "nothing the config names ran"


def test_importance_ranks_the_column_the_target_depends_on_first(config: Config) -> None:
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"noise": rng.normal(size=2000), "signal": rng.normal(size=2000)})
    model: LinearRegression | LogisticRegression
    if not config.task.has_classes:
        target = pd.Series(3 * features["signal"] + rng.normal(scale=0.1, size=2000))
        model = LinearRegression()
    else:
        target = pd.Series(np.where(features["signal"] > 0, "yes", "no"))
        model = LogisticRegression()
    model.fit(features, target)
    importance = feature_importance(model, features, target, config)
    assert list(importance) == ["signal", "noise"]
    assert importance["signal"] > 0.3
    assert abs(importance["noise"]) < 0.02
    assert feature_importance(model, features, target, config) == importance, "seeded"


@pytest.mark.parametrize("rows_per_call", [1, 100_000], ids=["column-by-column", "stacked"])
def test_importance_is_the_mean_score_drop_over_seeded_shuffles(
    trained: tuple[Config, TrainingRun],
    validated: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    rows_per_call: int,
) -> None:
    """Stacking the shuffled copies into few predict calls changes no number."""
    config, _ = trained
    model = load_run(config.paths.models).model
    features, target = validated[config.data.feature_names], validated[config.data.target.name]
    monkeypatch.setattr(explain, "PREDICT_BATCH_ROWS", rows_per_call)

    rows = features.sample(
        n=min(len(features), config.importance.max_rows), random_state=config.seed
    )
    truth = target.loc[rows.index]
    metric = accuracy_score if config.task.has_classes else r2_score
    baseline = metric(truth, model.predict(rows))
    rng = np.random.default_rng(config.seed)
    expected = {}
    for name in rows.columns:
        shuffled_scores = []
        for _ in range(config.importance.repeats):
            shuffled = rows.copy()
            shuffled[name] = rows[name].iloc[rng.permutation(len(rows))].to_numpy()
            shuffled_scores.append(metric(truth, model.predict(shuffled)))
        expected[name] = baseline - np.mean(shuffled_scores)

    importance = feature_importance(model, features, target, config)
    assert importance == pytest.approx(expected, abs=1e-12)
    assert list(importance) == sorted(expected, key=lambda name: -expected[name])


def test_the_answers_are_those_of_the_estimator_own_predict(
    trained: tuple[Config, TrainingRun], validated: pd.DataFrame
) -> None:
    """Labels taken from the probabilities (one pass through the pipeline) are the ones
    the estimator's own ``predict`` gives."""
    config, _ = trained
    model = load_run(config.paths.models).model
    features = validated[config.data.feature_names]
    answers = config.task.predict(model, features)
    assert answers.labels.tolist() == model.predict(features).tolist()


def test_a_class_the_model_never_saw_is_a_data_error() -> None:
    assert class_codes(pd.Series(["no", "yes", "no"]), ["no", "yes"]).tolist() == [0, 1, 0]
    with pytest.raises(DataError, match="not trained on: maybe"):
        class_codes(pd.Series(["no", "maybe"]), ["no", "yes"])


# Data other than the sample: the card the project ships says it speaks of the sample.
@pytest.mark.filterwarnings("ignore:model_card in the config speaks of synthetic sample data")
def test_a_run_names_no_home_folder(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data under the user's home, trained from elsewhere: the records say ``~``, not who."""
    home = tmp_path / "home" / "analyst"
    data = home / "datasets" / config.data.path.name
    data.parent.mkdir(parents=True)
    data.write_bytes(config.data.path.read_bytes())
    monkeypatch.setenv("HOME", str(home))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    run = train(config.model_copy(update={"data": config.data.model_copy(update={"path": data})}))
    assert run.metadata["data"]["path"] == f"~/datasets/{data.name}"
    for path in run.run_dir.iterdir():
        if path.suffix in (".json", ".yaml", ".md"):
            assert str(home) not in path.read_text(encoding="utf-8"), path.name


def test_evaluate_tells_training_rows_from_new_ones_whatever_the_file_type(
    trained: tuple[Config, TrainingRun], tmp_path: Path
) -> None:
    config, run = trained
    train_rows, test_rows = split(load_dataset(config.data), config)
    assert share_of_training_rows(run.metadata, test_rows, config) == 0.0
    assert share_of_training_rows(run.metadata, train_rows, config) == 1.0
    half = len(train_rows) // 2
    mixed = pd.concat([train_rows.iloc[:half], test_rows])
    assert share_of_training_rows(run.metadata, mixed, config) == pytest.approx(0.5, abs=0.1)

    as_parquet = tmp_path / "train.parquet"
    train_rows.to_parquet(as_parquet)
    read_back = load_dataset(config.data, as_parquet)
    assert share_of_training_rows(run.metadata, read_back, config) == 1.0


def test_a_card_that_speaks_of_the_sample_is_flagged_for_other_data(
    config: Config, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "mine.csv"
    elsewhere.write_bytes(config.data.path.read_bytes())
    shipped = config.model_card.model_copy(  # the words the sample's config ships with
        update={"limitations": "Trained on synthetic data: its scores say nothing about real ones."}
    )
    config = config.model_copy(update={"model_card": shipped})
    with pytest.warns(ProjectWarning, match=r"speaks of synthetic sample data.*mine\.csv"):
        train(config, elsewhere)
    assert describes_other_data(config, config.data.path) is None, "the sample itself"
    card = config.model_card.model_copy(
        update={"intended_use": "Retention offers.", "limitations": "Our own customers, 2024."}
    )
    assert describes_other_data(config.model_copy(update={"model_card": card}), elsewhere) is None
