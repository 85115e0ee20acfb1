"""Full tier: a baked project against a real MLflow tracking server on loopback.

Only the environment variable changes, as the baked README promises: the project trains
twice, and the server then holds both runs with their lineage and artifacts, one
registered version per run, and the champion alias on the first (the second is no better).
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Bake, run, user_env

pytestmark = pytest.mark.full

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def project(bake: Bake) -> Path:
    root = bake(git_init="yes")
    run(["uv", "sync"], root)
    return root


@pytest.fixture
def server(project: Path, tmp_path: Path) -> Iterator[str]:
    """`mlflow server` on 127.0.0.1, started from the project's own environment."""
    port = free_port()
    store = tmp_path / "server"
    store.mkdir()
    process = subprocess.Popen(
        [
            str(project / ".venv" / "bin" / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{store / 'mlflow.db'}",
            "--artifacts-destination",
            str(store / "artifacts"),
            "--workers",
            "1",
        ],
        cwd=tmp_path,
        env=user_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, "mlflow server exited"
            assert time.monotonic() < deadline, "mlflow server did not start"
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_training_against_a_tracking_server(project: Path, server: str) -> None:
    slug = project.name
    env = {"MLFLOW_TRACKING_URI": server}
    for _ in range(2):
        run(["uv", "run", slug, "train"], project, extra_env=env)
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
