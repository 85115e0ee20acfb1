"""MLflow tracking and the registry, against a temporary local store."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.artifacts import MODEL_HASH
from {{ cookiecutter.package_name }}.config import (
    Config,
    ModelConfig,
    QualityGate,
)
from {{ cookiecutter.package_name }}.errors import ModelNotFoundError, ProjectError
from {{ cookiecutter.package_name }}.predict import load_for_inference
from {{ cookiecutter.package_name }}.tracking import CHAMPION, rollback, session
from {{ cookiecutter.package_name }}.train import train


@pytest.fixture
def config(config: Config) -> Config:
    """The isolated config with tracking on, against its own temporary store."""
    return config.model_copy(
        update={"tracking": config.tracking.model_copy(update={"enabled": True})}
    )


def dummy(config: Config) -> Config:
    """A deliberately weak model that still passes an open gate."""
    name = "DummyClassifier" if config.task == "classification" else "DummyRegressor"
    return config.model_copy(
        update={
            "model": ModelConfig(estimator=f"sklearn.dummy.{name}"),
            "quality_gate": QualityGate(),
        }
    )


def champion(config: Config) -> str:
    with session(config) as client:
        version = client.get_model_version_by_alias(config.tracking.registered_model, CHAMPION)
    return str(version.version)


def test_run_is_logged_with_lineage_and_artifacts(config: Config) -> None:
    run = train(config)
    with session(config) as client:
        experiment = client.get_experiment_by_name(config.tracking.experiment)
        assert experiment is not None
        [logged] = client.search_runs([experiment.experiment_id])
        files = {item.path for item in client.list_artifacts(logged.info.run_id, "run")}
    tags = logged.data.tags
    assert tags["run_id"] == run.run_id
    assert tags["data_sha256"] == run.metadata["data"]["sha256"]
    assert tags["config_sha256"] == config.fingerprint()
    assert {"git_commit", "git_dirty", "package_version"} <= set(tags)
    assert logged.data.metrics == pytest.approx(run.metrics)
    assert logged.inputs is not None
    assert logged.inputs.dataset_inputs, "the training data is logged as a dataset input"
    assert {"run/model_card.md", "run/metadata.json", "run/feature_importance.png"} <= files
    assert run.promotion is not None
    assert "first champion" in run.promotion


def test_better_challenger_takes_the_alias_and_rollback_returns_it(config: Config) -> None:
    train(dummy(config))
    assert champion(config) == "1"
    better = train(config)
    assert champion(config) == "2"
    assert better.promotion is not None
    assert "takes" in better.promotion
    worse = train(dummy(config))
    assert worse.promotion is not None
    assert "does not take" in worse.promotion
    assert champion(config) == "2"
    assert rollback(config) == "1"
    assert champion(config) == "1"
    with pytest.raises(ProjectError, match="no earlier champion"):
        rollback(config)


def test_equal_challenger_does_not_take_the_alias(config: Config) -> None:
    train(config)
    second = train(config)
    assert second.promotion is not None
    assert "does not take" in second.promotion
    assert champion(config) == "1"


def test_failed_gate_is_logged_but_not_registered(config: Config) -> None:
    strict = config.model_copy(
        update={
            "quality_gate": QualityGate(
                minimum={"r2": 2.0} if config.task == "regression" else {"accuracy": 2.0}
            )
        }
    )
    with pytest.raises(ProjectError):
        train(strict)
    with session(config) as client:
        assert not client.search_registered_models()
        experiment = client.get_experiment_by_name(config.tracking.experiment)
        assert experiment is not None
        [logged] = client.search_runs([experiment.experiment_id])
    assert logged.data.tags["quality_gate"] == "failed"


def test_predict_loads_the_champion_from_the_registry(
    config: Config, sample: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = train(config)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    saved = load_for_inference(config, f"models:/{config.tracking.registered_model}@{CHAMPION}")
    assert saved.version == run.run_id
    features = sample[config.data.feature_names].head(5)
    assert len(saved.model.predict(features)) == 5
    assert not list((tmp_path / "scratch").iterdir()), "the downloaded run is removed"


def test_registry_load_checks_the_hash_the_registry_keeps(config: Config) -> None:
    """The registered version's hash, not the downloaded folder's, decides what loads."""
    run = train(config)
    name = config.tracking.registered_model
    with session(config) as client:
        version = client.get_model_version_by_alias(name, CHAMPION).version
        assert client.get_model_version(name, version).tags[MODEL_HASH] == run.metadata[MODEL_HASH]
        client.set_model_version_tag(name, version, MODEL_HASH, "0" * 64)
    with pytest.raises(ModelNotFoundError, match="refusing to unpickle"):
        load_for_inference(config, f"models:/{name}@{CHAMPION}")


def test_two_trainings_at_once_share_one_store(config: Config, tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "{{ cookiecutter.package_name }}",
        "train",
        "-c",
        str(config_path),
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    with session(config) as client:
        experiment = client.get_experiment_by_name(config.tracking.experiment)
        assert experiment is not None
        runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    for logged in runs:
        local_id = logged.data.tags["run_id"]
        folder = mlflow.artifacts.download_artifacts(
            run_id=logged.info.run_id,
            artifact_path="run/metadata.json",
            dst_path=str(tmp_path / local_id),
        )
        assert local_id in Path(folder).read_text(encoding="utf-8")
