"""The API: every endpoint and error path, a real server over HTTP, and schema fuzzing."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pandas as pd
import pytest
import schemathesis
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.api import create_app
from {{ cookiecutter.package_name }}.artifacts import TrainingRun
from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import (
    CategoricalColumn,
    Config,
    ServingConfig,
)


def with_logs(config: Config, root: Path) -> Config:
    serving = ServingConfig(
        prediction_log=root / "predictions.jsonl", feedback_log=root / "feedback.jsonl"
    )
    return config.model_copy(update={"serving": serving})


@pytest.fixture(scope="module")
def served(trained: tuple[Config, TrainingRun], tmp_path_factory: pytest.TempPathFactory) -> Config:
    config, _ = trained
    return with_logs(config, tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def client(served: Config) -> Iterator[TestClient]:
    with TestClient(create_app(served)) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module", autouse=True)
def live_server(
    served: Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``serve`` in a process of its own, started as this module starts.

    It spends seconds importing its libraries before it answers; started first, it does
    so beside the in-process tests below. ``test_real_server_over_http`` waits for it.
    """
    config_path = tmp_path_factory.mktemp("live") / "config.yaml"
    config_path.write_text(yaml.safe_dump(served.model_dump(mode="json")), encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "serve"]
    server = subprocess.Popen(
        [*command, "-c", str(config_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield server, f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


def records(sample: pd.DataFrame, config: Config, count: int) -> list[dict[str, Any]]:
    rows = sample[config.data.feature_names].head(count)
    parsed: list[dict[str, Any]] = json.loads(rows.to_json(orient="records"))
    return parsed


def test_health_and_readiness(client: TestClient, trained: tuple[Config, TrainingRun]) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["model_version"] == trained[1].run_id


def test_metadata_describes_model_and_schema(client: TestClient, served: Config) -> None:
    body = client.get("/metadata").json()
    assert [f["name"] for f in body["features"]] == served.data.feature_names
    assert set(body["metrics"]) >= set(served.quality_gate.minimum)


def test_predict_one_and_many(client: TestClient, served: Config, sample: pd.DataFrame) -> None:
    for count in (1, 100):
        response = client.post("/predict", json={"records": records(sample, served, count)})
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["predictions"]) == count
        assert body["model_version"]
        if served.task == "classification":
            assert abs(sum(body["predictions"][0]["probabilities"].values()) - 1) < 1e-6


def test_online_and_batch_predictions_agree(
    client: TestClient, served: Config, sample: pd.DataFrame, trained: tuple[Config, TrainingRun]
) -> None:
    """The API skips the schema checks its request model already made: same answers."""
    from {{ cookiecutter.package_name }}.artifacts import load_run
    from {{ cookiecutter.package_name }}.predict import predict_frame

    rows = records(sample, served, 20)
    for row, column in zip(rows, [c for c in served.data.features if c.nullable], strict=False):
        row[column.name] = None  # missing values take the same path too
    body = client.post("/predict", json={"records": rows}).json()
    batch = predict_frame(load_run(served.paths.models), pd.DataFrame(rows), served, source="test")
    assert [p["prediction"] for p in body["predictions"]] == list(batch["prediction"])
    if served.task == "classification":
        online = [p["probabilities"] for p in body["predictions"]]
        for label in online[0]:
            assert [p[label] for p in online] == pytest.approx(list(batch[f"probability_{label}"]))


def test_every_prediction_is_logged(
    client: TestClient, served: Config, sample: pd.DataFrame
) -> None:
    response = client.post("/predict", json={"records": records(sample, served, 3)}).json()
    lines = served.serving.prediction_log.read_text(encoding="utf-8").splitlines()
    logged = [json.loads(line) for line in lines if response["request_id"] in line]
    assert [entry["index"] for entry in logged] == [0, 1, 2]
    assert {"time", "inputs", "output", "model_version", "latency_ms"} <= set(logged[0])


def test_feedback_needs_a_known_request(
    client: TestClient, served: Config, sample: pd.DataFrame
) -> None:
    request_id = client.post("/predict", json={"records": records(sample, served, 1)}).json()[
        "request_id"
    ]
    actual = sample[served.data.target.name].iloc[0]
    actual = actual if isinstance(actual, str) else float(actual)
    assert (
        client.post("/feedback", json={"request_id": request_id, "actual": actual}).status_code
        == 201
    )
    assert request_id in served.serving.feedback_log.read_text(encoding="utf-8")
    assert (
        client.post("/feedback", json={"request_id": "nope", "actual": actual}).status_code == 404
    )


def test_invalid_requests_get_field_level_422(
    client: TestClient, served: Config, sample: pd.DataFrame
) -> None:
    good = records(sample, served, 1)[0]
    name = served.data.feature_names[0]
    cases = [
        {"records": []},
        {
            "records": [
                {**good, name: "not a number" if served.data.features[0].type == "numeric" else 1}
            ]
        },
        {"records": [{k: v for k, v in good.items() if k != name}]},
        {"records": [{**good, "unexpected": 1}]},
    ]
    categorical = next(
        (c for c in served.data.features if isinstance(c, CategoricalColumn) and c.allowed), None
    )
    if categorical:
        cases.append({"records": [{**good, categorical.name: "never-seen"}]})
    for payload in cases:
        response = client.post("/predict", json=payload)
        assert response.status_code == 422, payload
        assert response.json()["detail"][0]["loc"][0] == "body"


def test_not_ready_without_a_model(config: Config, tmp_path: Path) -> None:
    with TestClient(create_app(with_logs(config, tmp_path))) as empty:
        assert empty.get("/health").status_code == 200
        assert empty.get("/ready").status_code == 503
        assert empty.post("/predict", json={"records": []}).status_code == 422


def test_fuzzed_requests_never_cause_a_server_error(served: Config, tmp_path: Path) -> None:
    """Requests generated from the OpenAPI schema, valid and invalid, never get a 5xx.

    Batches are capped at a few records: what breaks validation is what the records
    hold, and short lists let the same time try more of it.
    """
    serving = with_logs(served, tmp_path).serving.model_copy(update={"max_batch": 5})
    app = create_app(served.model_copy(update={"serving": serving}))
    with TestClient(app):  # runs the start-up that loads the model
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result
            operation = result.ok()

            @given(case=operation.as_strategy())
            @settings(
                max_examples=20,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def never_a_server_error(case: Any) -> None:
                case.call_and_validate(checks=[not_a_server_error])

            never_a_server_error()


def test_monitor_reads_the_prediction_log(
    served: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    from {{ cookiecutter.package_name }}.monitoring import monitor

    config = with_logs(served, tmp_path)
    with TestClient(create_app(config)) as fresh:
        fresh.post("/predict", json={"records": records(sample, config, 300)})
    report = monitor(config, config.data.path, config.serving.prediction_log, tmp_path)
    assert report.current_rows == 300
    assert not report.alert


def test_real_server_over_http(
    live_server: tuple[subprocess.Popen[bytes], str], served: Config, sample: pd.DataFrame
) -> None:
    server, base = live_server
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx2.get(f"{base}/ready", timeout=1).status_code == 200:
                break
        except httpx2.TransportError:
            pass
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.1)
    response = httpx2.post(
        f"{base}/predict", json={"records": records(sample, served, 2)}, timeout=10
    )
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 2


def test_a_busy_port_is_one_error_line(served: Config, tmp_path: Path) -> None:
    """One line saying why, and exit 1: not uvicorn's start-up lines and its exit code 3."""
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(served.model_dump(mode="json")), encoding="utf-8")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            app, ["serve", "-c", str(config_path), "--host", "127.0.0.1", "--port", str(port)]
        )
    assert (result.exit_code, result.output) == (
        1,
        f"error: cannot serve on 127.0.0.1:{port}: Address already in use\n",
    )
