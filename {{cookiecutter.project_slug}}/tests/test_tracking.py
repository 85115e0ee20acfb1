"""MLflow tracking and the registry, against temporary local stores.

Tests that only read a tracked run share one store trained once (``registered``); tests
that change the registry get a store of their own.
"""

from __future__ import annotations

import contextlib
{%- if cookiecutter.serving == "fastapi" %}
import dataclasses
{%- endif %}
import hashlib
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from typer.testing import CliRunner

from {{ cookiecutter.package_name }} import leftovers, mlflow_store, registry
from {{ cookiecutter.package_name }}.artifacts import (
    MODEL_FILE,
    MODEL_HASH,
    SavedModel,
    TrainingRun,
)
from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import (
    Config,
    DatetimeColumn,
    ModelConfig,
    QualityGate,
)
from {{ cookiecutter.package_name }}.data import load_dataset
from {{ cookiecutter.package_name }}.errors import (
    ModelNotFoundError,
    ProjectError,
)
{%- if cookiecutter.serving == "fastapi" %}
from {{ cookiecutter.package_name }}.experiment_report import (
    Arm,
    ExperimentReport,
    promote_winner,
)
from {{ cookiecutter.package_name }}.experiments import CHALLENGER
{%- endif %}
from {{ cookiecutter.package_name }}.mlflow_store import session
from {{ cookiecutter.package_name }}.predict import load_for_inference
from {{ cookiecutter.package_name }}.registry import (
    CHAMPION,
    HeldOut,
    promote,
    rollback,
)
from {{ cookiecutter.package_name }}.tracking import tuning_runs
from {{ cookiecutter.package_name }}.tracking_worker import (
    TrackingWorker,
    decoded_example,
    encoded_example,
)
from {{ cookiecutter.package_name }}.train import (
    split,
    train,
)
from {{ cookiecutter.package_name }}.tuning import tune


class EmptyStore:
    """An MLflow SQLite store with its tables created and nothing in them.

    MLflow takes a couple of seconds to create the tables, so a separate process does it
    while the first tests run; each test that needs a store of its own gets a copy.
    """

    CREATE = "import sys; from mlflow import MlflowClient; MlflowClient(sys.argv[1], sys.argv[1])"

    def __init__(self, path: Path) -> None:
        self.path = path
        uri = f"sqlite:///{path}"
        self._process = subprocess.Popen(
            [sys.executable, "-c", self.CREATE, uri], stderr=subprocess.PIPE, text=True
        )

    def copy_to(self, destination: Path) -> None:
        _, errors = self._process.communicate(timeout=300)
        assert self._process.returncode == 0, f"creating the MLflow store failed:\n{errors}"
        shutil.copyfile(self.path, destination)


@pytest.fixture(scope="module", autouse=True)
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> EmptyStore:
    """Started as this module starts, so the store is ready when the first test needs it."""
    return EmptyStore(tmp_path_factory.mktemp("empty-store") / "mlflow.db")


@pytest.fixture(scope="module")
def tracked_config_in(
    isolated_in: Callable[[Path], Config], empty_store: EmptyStore
) -> Callable[[Path], Config]:
    """Makes configs that write under a given folder and track into a fresh store there."""

    def make(root: Path) -> Config:
        config = isolated_in(root)
        empty_store.copy_to(Path(config.tracking.uri.removeprefix("sqlite:///")))
        tracking = config.tracking.model_copy(update={"enabled": True})
        return config.model_copy(update={"tracking": tracking})

    return make


@pytest.fixture
def tracked_config(tracked_config_in: Callable[[Path], Config], tmp_path: Path) -> Config:
    """The isolated config with tracking on, against a store of its own."""
    return tracked_config_in(tmp_path)


@pytest.fixture(scope="module")
def registered(
    tracked_config_in: Callable[[Path], Config], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, TrainingRun]:
    """One tracked training run, the first champion of its own store; tests only read it."""
    config = tracked_config_in(tmp_path_factory.mktemp("registered"))
    return config, train(config)


def scores_line(config: Config) -> str:
    """The pattern of ``train``'s scores: each of the task's metrics, in its order."""
    return ", ".join(rf"{re.escape(metric)}=-?[\d.]+" for metric in config.task.metrics)


NEVER_A_PID = 4_194_305  # above the largest process id Linux or macOS hands out


@pytest.fixture
def config(tracked_config: Config) -> Config:
    """In this module, ``config`` tracks runs, in a store of its own."""
    return tracked_config


@pytest.fixture(scope="module", autouse=True)
def trainings_at_once(
    tracked_config_in: Callable[[Path], Config], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Config, list[subprocess.Popen[str]]]]:
    """Two ``train`` processes on one fresh store, started together as this module starts.

    Each spends seconds importing its libraries; started first, they run beside the
    tests below instead of after them. The last test checks what they did.
    """
    root = tmp_path_factory.mktemp("at-once")
    config = tracked_config_in(root)
    command = [
        sys.executable,
        "-m",
        "{{ cookiecutter.package_name }}",
        "train",
        "-c",
        str(write(config, root / "config.yaml")),
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    yield config, processes
    for process in processes:
        if process.poll() is None:  # a test failed before waiting for it
            process.kill()
            process.communicate()


@pytest.fixture(scope="module", autouse=True)
def broken_store(
    tracked_config_in: Callable[[Path], Config], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Config, TrackingWorker]]:
    """A config whose store is not a database, and a logging process already started on it."""
    root = tmp_path_factory.mktemp("broken-store")
    config = tracked_config_in(root)
    not_a_database = root / "broken.db"
    not_a_database.write_text("not a database", encoding="utf-8")
    settings = config.tracking.model_copy(update={"uri": f"sqlite:///{not_a_database}"})
    config = config.model_copy(update={"tracking": settings})
    with TrackingWorker(config) as worker:
        yield config, worker


def dummy(config: Config) -> Config:
    """A deliberately weak model that still passes an open gate."""
    name = "DummyClassifier" if config.task.has_classes else "DummyRegressor"
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


def write(config: Config, path: Path) -> Path:
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    return path


def test_run_is_logged_with_lineage_and_artifacts(registered: tuple[Config, TrainingRun]) -> None:
    config, run = registered
    with session(config) as client:
        experiment = client.get_experiment_by_name(config.tracking.experiment)
        assert experiment is not None
        [logged] = client.search_runs([experiment.experiment_id])
        files = {item.path for item in client.list_artifacts(logged.info.run_id, "run")}
    tags = logged.data.tags
    assert tags["run_id"] == run.run_id
    assert tags["data_sha256"] == run.metadata["data"]["sha256"]
    assert tags["config_sha256"] == config.fingerprint()
    assert {"git_commit", "git_dirty", "package_version", "mlflow.source.name"} <= set(tags)
    assert logged.data.metrics == pytest.approx(run.metrics)
    assert logged.inputs is not None
    [dataset_input] = logged.inputs.dataset_inputs
    assert dataset_input.dataset.digest == run.metadata["data"]["sha256"][:8]
    schema = dataset_input.dataset.schema
    assert schema is not None
    assert config.data.target.name in schema, "the schema is the config's"
    assert files == {
        "run/metadata.json",
        "run/model_card.md",
        "run/feature_importance.png",
        "run/metrics.json",
        "run/config.yaml",
    }, "the run folder but the model file, which is logged once, as the model"
    metric = config.tracking.promotion.metric
    assert run.promotion == f"version 1 is the first champion ({metric}={run.metrics[metric]:.4f})"


def test_mlflow_tools_load_the_very_file_training_wrote(
    registered: tuple[Config, TrainingRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One serialized model per run: MLflow's copy is the file whose hash the registry keeps."""
    config, run = registered
    uri = f"models:/{config.tracking.registered_model}@{CHAMPION}"
    with session(config):
        folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp_path)))
        model_bytes = (folder / MODEL_FILE).read_bytes()
        assert hashlib.sha256(model_bytes).hexdigest() == run.metadata[MODEL_HASH]
        assert model_bytes == (run.run_dir / MODEL_FILE).read_bytes()

        monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")  # MLflow's own gate
        loaded = mlflow.pyfunc.load_model(uri)
    example = loaded.input_example
    assert list(example.columns) == config.data.feature_names
    assert loaded.metadata.get_input_schema().input_names() == config.data.feature_names
    ours = load_for_inference(config, run.run_id).model.predict(example)
    assert list(loaded.predict(example)) == list(ours)


def test_predict_loads_the_champion_from_the_registry(
    registered: tuple[Config, TrainingRun],
    validated: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, run = registered
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    saved = load_for_inference(config, f"models:/{config.tracking.registered_model}@{CHAMPION}")
    assert saved.version == run.run_id
    features = validated[config.data.feature_names].head(5)
    assert len(saved.model.predict(features)) == 5
    assert not list((tmp_path / "scratch").iterdir()), "the downloaded model is removed"


def test_registry_commands_print_only_their_own_lines(
    registered: tuple[Config, TrainingRun], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Results, paths and decisions; MLflow's logs and progress bars only with --verbose.

    Anything a library writes behind the command's back lands in ``capfd``.
    """
    config, run = registered
    config_file = str(write(config, tmp_path / "config.yaml"))
    model = f"models:/{config.tracking.registered_model}@{CHAMPION}"
    output = tmp_path / "predictions.csv"
    runner = CliRunner()
    predict = ["predict", "-c", config_file, "--model", model, "--input", str(config.data.path)]

    predicted = runner.invoke(app, [*predict, "--output", str(output)])
    rows = len(pd.read_csv(config.data.path))
    assert (predicted.exit_code, predicted.stdout) == (0, f"wrote {rows} predictions to {output}\n")
    promoted = runner.invoke(app, ["promote", "1", "-c", config_file])
    assert promoted.exit_code == 0
    latest = f"{config.paths.models / 'latest'}: run {run.run_id}"
    assert promoted.stdout == f"version 1 already holds the champion alias\n{latest}\n"
    assert predicted.stderr == promoted.stderr == ""
    assert capfd.readouterr() == ("", "")

    verbose = runner.invoke(app, [*predict, "--output", str(output), "-v"])
    assert verbose.exit_code == 0
    assert "Downloading artifacts" in verbose.stderr, "progress bars are back with --verbose"


def test_training_that_stops_early_logs_nothing(config: Config, tmp_path: Path) -> None:
    """The logging process is stopped with training: one error line, no run in the store."""
    config_file = str(write(config, tmp_path / "config.yaml"))
    missing = tmp_path / "missing.csv"
    result = CliRunner().invoke(app, ["train", "-c", config_file, "-i", str(missing)])
    assert (result.exit_code, result.stderr) == (1, f"error: {missing}: data file not found\n")
    with session(config) as client:
        experiment = client.get_experiment_by_name(config.tracking.experiment)
        assert experiment is None or not client.search_runs([experiment.experiment_id])


def test_registry_load_checks_the_hash_the_registry_keeps(
    registered: tuple[Config, TrainingRun], tmp_path: Path
) -> None:
    """The registered version's hash, not the downloaded metadata's, decides what loads.

    The tag is changed in a copy of the shared store's database, whose artifacts stay
    where they are: only the registry's record differs.
    """
    shared, run = registered
    database = tmp_path / "mlflow.db"
    shutil.copyfile(shared.tracking.uri.removeprefix("sqlite:///"), database)
    config = shared.model_copy(
        update={"tracking": shared.tracking.model_copy(update={"uri": f"sqlite:///{database}"})}
    )
    name = config.tracking.registered_model
    with session(config) as client:
        assert client.get_model_version(name, "1").tags[MODEL_HASH] == run.metadata[MODEL_HASH]
        client.set_model_version_tag(name, "1", MODEL_HASH, "0" * 64)
    with pytest.raises(ModelNotFoundError, match="refusing to unpickle"):
        load_for_inference(config, f"models:/{name}@{CHAMPION}")
    assert load_for_inference(shared, f"models:/{name}@{CHAMPION}").version == run.run_id


{%- if cookiecutter.serving == "fastapi" %}


def test_an_experiment_s_winner_takes_the_champion_alias_with_its_reason(
    config: Config, tmp_path: Path
) -> None:
    """experiment-report --promote with tracking on: the challenger's registered version
    becomes the champion through the registry, the verdict kept as the reason; an
    undecided experiment promotes nobody. ``models/latest`` follows the champion each
    time, so that commands run without --model use it."""
    champion_run = train(config)
    challenger_run = train(dummy(config))  # registered, but worse: no alias
    assert champion(config) == "1"
    latest = config.paths.models / "latest"
    assert latest.read_text(encoding="utf-8").split() == [challenger_run.run_id], "the newest"

    def arm(run: TrainingRun) -> Arm:
        return Arm(run.run_id, requests=400, labelled=300, value=0.8, interval=(0.75, 0.85))

    verdict = ExperimentReport(
        metric="accuracy",
        higher_is_better=True,
        test="two-proportion",
        significance=0.05,
        champion=arm(champion_run),
        challenger=arm(challenger_run),
        difference=0.1,
        difference_interval=(0.04, 0.16),
        p_value=0.001,
        winner=CHALLENGER,
        reason="the challenger is better",
        needed_per_arm=200,
        still_needed_per_arm=0,
    )
    undecided = dataclasses.replace(verdict, winner="undecided")
    said = promote_winner(config, undecided)
    assert said == f"not promoted: the winner is undecided; {latest}: run {champion_run.run_id}"
    assert champion(config) == "1"
    assert latest.read_text(encoding="utf-8").split() == [champion_run.run_id]

    said = promote_winner(config, verdict)
    assert said == (
        f"promoted: version 2 (run {challenger_run.run_id}) is the champion; "
        f"{latest}: run {challenger_run.run_id}"
    )
    assert champion(config) == "2"
    assert latest.read_text(encoding="utf-8").split() == [challenger_run.run_id]
    again = promote_winner(config, verdict)
    assert again.startswith("already the champion: version 2"), "nothing changed"
    with session(config) as client:
        tags = client.get_model_version(config.tracking.registered_model, "2").tags
    assert tags["promotion_reason"] == "experiment-report: the challenger is better"

    config_file = str(write(config, tmp_path / "config.yaml"))
    rolled_back = CliRunner().invoke(app, ["rollback", "-c", config_file])
    assert rolled_back.exit_code == 0, rolled_back.output
    assert (
        rolled_back.stdout == f"champion is version 1 again\n{latest}: run {champion_run.run_id}\n"
    )
    assert champion(config) == "1", "an experiment's promotion rolls back like any other"
    assert latest.read_text(encoding="utf-8").split() == [champion_run.run_id]
    with pytest.raises(ProjectError, match="was rolled back from champion since"):
        promote_winner(config, verdict)  # the same report, read again
    compared = promote(config, "2", HeldOut.of_configured_data(config))
    assert not compared.promoted, "the worse model, compared anew"
    with pytest.raises(ProjectError, match="was rolled back from champion since"):
        promote_winner(config, verdict)
    assert champion(config) == "1"
    with session(config) as client:
        tags = client.get_model_version(config.tracking.registered_model, "2").tags
    assert tags["promotion_reason"] == compared.describe(), "the latest decision's reason"
{%- endif %}


def test_champion_and_challengers_then_rollback(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Better takes the alias, equal and worse do not, rollback hands it back.

    The equal and the worse challengers are the same two models registered once more.
    All versions were scored on the same held-out rows, so their recorded scores are
    compared rather than the models loaded and scored again; other rows mean scoring.
    """
    loads: list[str] = []
    load_version = registry.load_version

    def counted_load(config: Config, version: str) -> SavedModel:
        loads.append(version)
        return load_version(config, version)

    monkeypatch.setattr(registry, "load_version", counted_load)

    train(dummy(config))
    assert champion(config) == "1"
    better = train(config)
    assert champion(config) == "2"
    assert better.promotion is not None
    assert "takes the champion alias from version 1" in better.promotion

    name = config.tracking.registered_model
    with session(config) as client:
        for again in ("2", "1"):  # equal, then worse
            original = client.get_model_version(name, again)
            assert original.source is not None
            client.create_model_version(
                name, original.source, run_id=original.run_id, tags=original.tags
            )
    reads: list[str] = []

    def read_rows() -> pd.DataFrame:
        reads.append("held-out rows")
        return split(load_dataset(config.data), config)[1]

    held_out = HeldOut(better.metadata["data"]["held_out_fingerprint"], read_rows)
    for version in ("3", "4"):
        outcome = promote(config, version, held_out)
        assert not outcome.promoted
        assert "does not take the champion alias from version 2" in outcome.describe()
    assert champion(config) == "2"
    assert loads == [], "recorded scores on the same rows were compared"
    assert reads == [], "so the rows were not even read"

    other_rows = promote(config, "4", HeldOut("other rows", read_rows))
    assert sorted(loads) == ["2", "4"], "on other rows both versions are scored again"
    assert reads == ["held-out rows"], "on rows read once"
    assert not other_rows.promoted
    assert other_rows.champion_score == pytest.approx(better.metrics[other_rows.metric])

    assert rollback(config) == "1"
    assert champion(config) == "1"
    with pytest.raises(ProjectError, match="no earlier champion"):
        rollback(config)


def test_a_champion_the_config_no_longer_fits_is_replaced_uncompared(config: Config) -> None:
    """After the schema changes (here, one feature fewer), the champion can neither be
    scored on the new rows nor serve requests of the new schema: the new version takes
    the alias, and the registry line says it was not compared."""
    train(dummy(config))
    data = config.data.model_copy(update={"features": config.data.features[:-1]})
    narrower = train(dummy(config).model_copy(update={"data": data}))
    assert champion(config) == "2"
    assert narrower.promotion is not None
    assert "from version 1, which the config no longer fits" in narrower.promotion


def test_a_promotion_lock_left_by_a_dead_process_is_taken_over(config: Config) -> None:
    """A promotion killed while holding the lock does not block the next one for ever."""
    name = config.tracking.registered_model
    with session(config) as client:
        client.create_registered_model(
            registry.PROMOTION_LOCK.format(name=name),
            tags={mlflow_store.OWNER_TAG: f"{leftovers.HOST}-{NEVER_A_PID}"},
        )
    started = time.monotonic()
    train(config)
    assert champion(config) == "1"
    assert time.monotonic() - started < registry.LOCK_WAIT_SECONDS
    with session(config) as client:
        assert [model.name for model in client.search_registered_models()] == [name]


def test_no_credentials_in_what_a_run_writes(config: Config) -> None:
    """A token in the tracking address stays out of the run folder MLflow uploads."""
    address = "https://analyst:s3cr3t-token@mlflow.example.com:5000/"
    settings = config.tracking.model_copy(update={"uri": address, "enabled": False})
    run = train(config.model_copy(update={"tracking": settings}))
    texts = [path for path in run.run_dir.iterdir() if path.suffix in (".yaml", ".json", ".md")]
    written = [path.read_text(encoding="utf-8") for path in texts]
    assert len(written) == 4, "config, metadata, metrics and the model card"
    assert not [text for text in written if "s3cr3t-token" in text or "analyst" in text]
    recorded = yaml.safe_load((run.run_dir / "config.yaml").read_text(encoding="utf-8"))
    assert recorded["tracking"]["uri"] == "https://mlflow.example.com:5000/"


def test_a_server_that_does_not_answer_fails_the_training(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that hangs up is asked MLflow's few times, then training fails in one line.

    The project does not add retries of its own on top: those are for two writers that
    meet in the store, not for a server that is down. No waiting between attempts here,
    since the count is what is under test.
    """
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    connections = 0

    def hang_up(server: socket.socket) -> None:
        nonlocal connections
        with contextlib.suppress(OSError):  # the listening socket closes at the end
            while True:
                accepted, _ = server.accept()
                connections += 1
                accepted.close()

    with socket.create_server(("127.0.0.1", 0)) as server:
        threading.Thread(target=hang_up, args=(server,), daemon=True).start()
        address = f"http://127.0.0.1:{server.getsockname()[1]}"
        settings = config.tracking.model_copy(update={"uri": address})
        with pytest.raises(ProjectError, match=r"^tracking: "):
            train(config.model_copy(update={"tracking": settings}))
    assert connections == 1 + int(mlflow_store.HTTP_RETRIES["MLFLOW_HTTP_REQUEST_MAX_RETRIES"])
    assert not (config.paths.models / "latest").exists()


def test_failed_gate_is_logged_but_not_registered(config: Config) -> None:
    strict = dummy(config).model_copy(
        update={
            "quality_gate": QualityGate(
                minimum={"accuracy": 2.0} if config.task.has_classes else {"r2": 2.0}
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


def test_a_run_left_running_by_a_dead_process_is_marked_failed(config: Config) -> None:
    """Killed while logging, a run stays RUNNING; the next training ends it, and only it."""
    dead = f"{leftovers.HOST}-{NEVER_A_PID}"
    owners = {"dead": dead, "alive": leftovers.owner(), "elsewhere": "other-host-1"}
    with session(config) as client:
        experiment = mlflow_store.use_experiment(config)
        started = {
            who: client.create_run(
                experiment.experiment_id, tags={mlflow_store.OWNER_TAG: owner}
            ).info.run_id
            for who, owner in owners.items()
        }
    train(config)
    with session(config) as client:
        status = {who: client.get_run(run_id).info.status for who, run_id in started.items()}
    assert status == {"dead": "FAILED", "alive": "RUNNING", "elsewhere": "RUNNING"}


def test_a_store_that_fails_fails_the_training(
    broken_store: tuple[Config, TrackingWorker],
) -> None:
    """Training finishes, the logging process cannot log: one error, and no latest model."""
    config, worker = broken_store
    with pytest.raises(ProjectError, match=r"^tracking: DatabaseError: [^\n]+$"):
        train(config, log_run=worker.log)
    assert [path.name for path in (config.paths.models / "runs").iterdir()], "run kept"
    assert not (config.paths.models / "latest").exists()


def test_two_trainings_at_once_share_one_store(
    trainings_at_once: tuple[Config, list[subprocess.Popen[str]]], tmp_path: Path
) -> None:
    """Two processes, one SQLite store: both runs land, and each prints only its own lines."""
    config, processes = trainings_at_once
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    for stdout, stderr in outputs:
        assert stderr == ""
        lines = stdout.splitlines(keepends=True)
        assert len(lines) == 3, stdout
        assert re.fullmatch(rf"run \S+: {scores_line(config)}\n", lines[0]), lines[0]
        assert re.fullmatch(r"saved \S+ \(model card: \S+model_card\.md\)\n", lines[1])
        assert lines[2].startswith("registry: version ")
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


def test_the_input_example_reaches_the_worker_as_it_left(config: Config) -> None:
    """Through JSON and back: numbers, text, missing values and dates, as validation types them."""
    dated = config.data.model_copy(
        update={
            "features": [
                *config.data.features,
                DatetimeColumn(name="joined", type="datetime", nullable=True),
            ]
        }
    )
    with_dates = config.model_copy(update={"data": dated})
    example = pd.DataFrame(
        {
            "amount": [1.5, float("nan")],
            "plan": ["basic", None],
            "joined": pd.to_datetime(pd.Series(["2024-02-29T10:30:00", None])).astype(
                "datetime64[ns]"
            ),
        }
    )
    message = json.loads(json.dumps(encoded_example(example)))
    pd.testing.assert_frame_equal(decoded_example(message, with_dates), example)


def test_a_tuning_study_is_one_parent_run_with_a_child_per_trial(
    tracked_config_in: Callable[[Path], Config], tmp_path: Path
) -> None:
    config = tracked_config_in(tmp_path)
    quick = config.model_copy(update={"tuning": config.tuning.model_copy(update={"cv_folds": 2})})
    with tuning_runs(quick) as log_trial:
        result = tune(quick, trials=3, log_trial=log_trial)
    with session(config) as client:
        experiment = client.get_experiment_by_name(config.tracking.experiment)
        assert experiment is not None
        runs = client.search_runs([experiment.experiment_id])
    [parent] = [run for run in runs if run.info.run_name == "tuning"]
    children = [
        run for run in runs if run.data.tags.get(MLFLOW_PARENT_RUN_ID) == parent.info.run_id
    ]
    assert parent.info.status == "FINISHED"
    assert [child.info.status for child in children] == ["FINISHED"] * 3
    assert all(set(child.data.params) == set(config.tuning.space) for child in children)
    metric = f"cv_{config.task.cross_validation.name}"
    assert result.best_score in [pytest.approx(child.data.metrics[metric]) for child in children]
