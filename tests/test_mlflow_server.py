"""Integration tier: a baked project against MLflow's own servers, on loopback.

A real tracking server: only the environment variable changes, as the baked README
promises; the project trains twice, and the server then holds both runs with their
lineage and artifacts, one registered version per run, and the champion alias on the
first (the second is no better).

MLflow's model server: ``mlflow models serve`` loads the registered champion, the very
file training wrote, and answers with the predictions the project's own command gives.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Bake, free_port, mlflow_server, run, user_env, wait_until_up

pytestmark = pytest.mark.integration

CHECK = """
import json, sys
from mlflow import MlflowClient
client = MlflowClient()
experiment = client.get_experiment_by_name(sys.argv[1])
runs = client.search_runs([experiment.experiment_id])
print(json.dumps({
    "tags": [r.data.tags for r in runs],
    "artifacts": [sorted(a.path for a in client.list_artifacts(r.info.run_id, "run")) for r in runs],
    "versions": sorted(v.version for v in client.search_model_versions(f"name='{sys.argv[1]}'")),
    "champion": client.get_model_version_by_alias(sys.argv[1], "champion").version,
}))
"""


# Posts five sample rows to MLflow's server and compares with the project's own model.
COMPARE = """
import importlib, json, sys, urllib.request
import pandas as pd
package, port = sys.argv[1], sys.argv[2]
config = importlib.import_module(package + ".config").load_config()
predict = importlib.import_module(package + ".predict")
rows = pd.read_csv(config.data.path)[config.data.feature_names].head(5)
body = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))})
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/invocations", data=body.encode(),
    headers={"Content-Type": "application/json"},
)
served = json.loads(urllib.request.urlopen(request, timeout=30).read())["predictions"]
ours = predict.load_for_inference(config).model.predict(rows).tolist()
assert served == ours, (served, ours)
print(f"same predictions for {len(ours)} rows")
"""


@pytest.fixture
def project(bake: Bake) -> Path:
    root = bake(git_init="yes")
    run(["uv", "sync"], root)
    return root


@pytest.fixture
def server(project: Path, tmp_path: Path) -> Iterator[str]:
    """`mlflow server` with a SQLite store, started from the project's own environment."""
    with mlflow_server(
        project, f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "artifacts"
    ) as url:
        yield url


def test_training_against_a_tracking_server(project: Path, server: str) -> None:
    slug = project.name
    env = {"MLFLOW_TRACKING_URI": server}
    for _ in range(2):
        trained = run(["uv", "run", slug, "train"], project, extra_env=env)
        assert trained.stderr == "", "no library output, even with a server's run links"
        assert [line.split()[0] for line in trained.stdout.splitlines()] == [
            "run",
            "saved",
            "registry:",
        ]
    assert not (project / "mlflow.db").exists(), "nothing was written to the local store"

    report = json.loads(
        run(["uv", "run", "python", "-c", CHECK, slug], project, extra_env=env).stdout
    )
    assert len(report["tags"]) == 2
    for tags in report["tags"]:
        assert {"git_commit", "data_sha256", "config_sha256", "package_version"} <= set(tags)
        assert tags["quality_gate"] == "passed"
    for files in report["artifacts"]:
        assert {"run/model_card.md", "run/metadata.json", "run/metrics.json"} <= set(files)
    assert [str(v) for v in report["versions"]] == ["1", "2"]
    assert str(report["champion"]) == "1", "an equal challenger does not take the alias"


# Two promotions at once against the server, each pausing between reading the champion
# and deciding, so that without the registry lock both would compare against the same
# champion and the later write would drop the other's. Both challengers beat the
# champion, so in turns both are crowned and the history keeps all three.
RACE = """
import importlib, sys, threading, time
package = sys.argv[1]
config = importlib.import_module(package + ".config").load_config()
registry = importlib.import_module(package + ".registry")
from mlflow import MlflowClient
client = MlflowClient()
name = config.tracking.registered_model
first = client.get_model_version(name, "1")
for _ in range(2):
    client.create_model_version(
        name,
        first.source,
        run_id=first.run_id,
        tags=first.tags,
        model_id=first.source.removeprefix("models:/"),
    )
recorded = client.get_run(first.run_id).data.metrics[config.tracking.promotion.metric]
step = 0.01 if config.task.is_better(config.tracking.promotion.metric, 1, 0, 0) else -0.01
held_out = registry.HeldOut(first.tags[registry.HELD_OUT_TAG], lambda: None)
read_champion = registry._champion
def slow_champion(*args):
    champion = read_champion(*args)
    time.sleep(1.0)
    return champion
registry._champion = slow_champion
outcomes = {}
def compete(version, margin):
    outcomes[version] = registry.promote(config, version, held_out, recorded + margin).promoted
threads = [threading.Thread(target=compete, args=(v, m)) for v, m in (("2", step), ("3", 2 * step))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
history = client.get_registered_model(name).tags[registry.HISTORY_TAG].split(",")
champion = client.get_model_version_by_alias(name, "champion").version
print(sorted(outcomes.items()), history, champion)
"""


def test_racing_promotions_lose_no_update(project: Path, server: str) -> None:
    slug = project.name
    env = {"MLFLOW_TRACKING_URI": server}
    run(["uv", "run", slug, "train"], project, extra_env=env)
    raced = run(["uv", "run", "python", "-c", RACE, slug.replace("-", "_")], project, extra_env=env)
    assert "[('2', True), ('3', True)]" in raced.stdout, raced.stdout
    assert raced.stdout.strip().endswith(("['1', '2', '3'] 3", "['1', '3', '2'] 2")), raced.stdout


def test_mlflow_serves_the_registered_champion(project: Path) -> None:
    slug = project.name
    run(["uv", "run", slug, "train"], project)
    port = free_port()
    env = {
        **user_env(),
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",  # MLflow asks for this before unpickling
        "MLFLOW_TRACKING_URI": "sqlite:///mlflow.db",  # the project's own store
    }
    command = ["uv", "run", "mlflow", "models", "serve", "--env-manager", "local"]
    server = subprocess.Popen(
        [*command, "-m", f"models:/{slug}@champion", "--host", "127.0.0.1", "-p", str(port)],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ping", server)
        done = run(
            ["uv", "run", "python", "-c", COMPARE, slug.replace("-", "_"), str(port)], project
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert done.stdout.strip() == "same predictions for 5 rows"
