"""The API: every endpoint and error path, a real server over HTTP, and schema fuzzing."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
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

from {{ cookiecutter.package_name }}.api import create_app, listening_socket
from {{ cookiecutter.package_name }}.api_guards import (
    API_KEY_HEADER,
    API_KEY_VARIABLE,
    MOST_ERRORS,
)
from {{ cookiecutter.package_name }}.api_models import record_model
from {{ cookiecutter.package_name }}.artifacts import TrainingRun
from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import (
    BooleanColumn,
    CategoricalColumn,
    Config,
    DatetimeColumn,
    ServingConfig,
)
from {{ cookiecutter.package_name }}.data import booleans_as_numbers, validate
from {{ cookiecutter.package_name }}.errors import ProjectError, ProjectWarning


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


Running = Callable[..., AbstractContextManager[httpx2.Client]]  # the ``running`` fixture
API_KEY = "test-key-" + "0" * 24


@pytest.fixture(scope="module")
def live_config(served: Config, tmp_path_factory: pytest.TempPathFactory) -> Config:
    """What the live server serves: the same model, with logs of its own."""
    return with_logs(served, tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="module", autouse=True)
def live_server(live_config: Config) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``serve`` in a process of its own, with an API key, started as this module starts.

    It spends seconds importing its libraries before it answers; started first, it does
    so beside the in-process tests below. ``live`` waits for it.
    """
    config, config_path = live_config, live_config.serving.feedback_log.parent / "config.yaml"
    config_path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "serve"]
    server = subprocess.Popen(
        [*command, "-c", str(config_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, API_KEY_VARIABLE: API_KEY},
    )
    yield server, f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def live(live_server: tuple[subprocess.Popen[bytes], str]) -> httpx2.Client:
    """A client of the live server, once it is ready, sending the API key."""
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
    return httpx2.Client(base_url=base, headers={API_KEY_HEADER: API_KEY}, timeout=30)


def records(sample: pd.DataFrame, config: Config, count: int) -> list[dict[str, Any]]:
    """The first ``count`` rows as a client sends them: booleans as JSON true and false,
    everything else as the file writes it."""
    rows = booleans_as_numbers(sample[config.data.feature_names].head(count), config.data)
    parsed: list[dict[str, Any]] = json.loads(rows.to_json(orient="records"))
    booleans = [c.name for c in config.data.features if isinstance(c, BooleanColumn)]
    for record in parsed:
        record.update({name: bool(record[name]) for name in booleans if record[name] is not None})
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
        if served.task.has_classes:
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
    if served.task.has_classes:
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


def test_feedback_is_checked_and_recorded_once(
    served: Config, sample: pd.DataFrame, tmp_path: Path, running: Running
) -> None:
    config = with_logs(served, tmp_path)
    wrong = "not-a-class" if config.task.has_classes else "not a number"
    with running(config) as client:
        answer = client.post("/predict", json={"records": records(sample, config, 2)})
        request_id = answer.json()["request_id"]

        def send(**changes: Any) -> int:
            body = {"request_id": request_id, "index": 1, "actual": records_target(sample, config)}
            return client.post("/feedback", json={**body, **changes}).status_code

        assert send() == 201
        assert send() == 409  # one outcome per predicted record
        assert send(index=0) == 201
        assert send(index=2) == 422  # the request had two records
        assert send(request_id="0" * 32) == 404
        assert send(request_id="nope") == 422
        assert send(index=0, actual=wrong) == 422
        assert send(index=0, extra=1) == 422
    log = config.serving.feedback_log.read_text(encoding="utf-8")
    recorded = [json.loads(line) for line in log.splitlines()]
    assert [(entry["request_id"], entry["index"]) for entry in recorded] == [
        (request_id, 1),
        (request_id, 0),
    ]


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


# Monitoring writes no predictions, so a passthrough column the log lacks is no news.
@pytest.mark.filterwarnings("error::{{ cookiecutter.package_name }}.errors.ProjectWarning")
def test_monitor_reads_the_prediction_log(
    served: Config, sample: pd.DataFrame, tmp_path: Path
) -> None:
    from {{ cookiecutter.package_name }}.monitoring import monitor

    config = with_logs(served, tmp_path)
    with TestClient(create_app(config)) as fresh:
        fresh.post("/predict", json={"records": records(sample, config, 300)})
    report = monitor(config, config.serving.prediction_log, tmp_path)
    assert report.current_rows == 300
    assert not report.alert


def test_real_server_over_http(live: httpx2.Client, served: Config, sample: pd.DataFrame) -> None:
    response = live.post("/predict", json={"records": records(sample, served, 2)})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 2


def test_the_server_sends_answers_without_waiting() -> None:
    """Nagle's algorithm is off on served connections: else each answer, whose headers
    and body go out apart, waits some 40 ms for the client's delayed acknowledgement."""

    async def nodelay_of_a_served_connection() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def on_connection(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connection = writer.get_extra_info("socket")
            accepted.set_result(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        listening = listening_socket("127.0.0.1", 0)
        async with await asyncio.start_server(on_connection, sock=listening):
            _, writer = await asyncio.open_connection(*listening.getsockname())
            nodelay = await accepted
            writer.close()
        return nodelay

    assert asyncio.run(nodelay_of_a_served_connection()) != 0


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


def text_columns(config: Config) -> list[str]:
    """The text features, those without an allowed list (where a request could put
    anything) first."""
    text = [column for column in config.data.features if isinstance(column, CategoricalColumn)]
    return [column.name for column in sorted(text, key=lambda column: bool(column.allowed))]


def numeric_column(config: Config) -> str:
    return next(column.name for column in config.data.features if column.type == "numeric")


def test_the_api_key_guards_all_but_health_and_ready(
    live: httpx2.Client, served: Config, sample: pd.DataFrame
) -> None:
    body = {"records": records(sample, served, 1)}
    anonymous = httpx2.Client(base_url=live.base_url, timeout=30)
    assert anonymous.post("/predict", json=body).status_code == 401
    assert (
        anonymous.post("/predict", json=body, headers={API_KEY_HEADER: "wrong"}).status_code == 401
    )
    assert anonymous.get("/metadata").status_code == 401
    assert anonymous.post("/feedback", json={}).status_code == 401
    assert anonymous.get("/health").status_code == 200
    assert anonymous.get("/ready").status_code == 200
    assert live.post("/predict", json=body).status_code == 200


def test_oversized_bodies_get_413_declared_or_streamed(
    live: httpx2.Client, served: Config, sample: pd.DataFrame
) -> None:
    row = records(sample, served, 1)[0]
    huge = json.dumps({"records": [row] * 20_000}).encode()  # several times the limit
    assert len(huge) > served.serving.max_request_bytes
    assert live.post("/predict", content=huge).status_code == 413

    def streamed() -> Iterator[bytes]:  # no Content-Length: the size shows only as it arrives
        yield from (huge[start : start + 65_536] for start in range(0, len(huge), 65_536))

    assert live.post("/predict", content=streamed()).status_code == 413
    assert live.post("/predict", json={"records": [row]}).status_code == 200


def test_hostile_values_get_a_brief_422(
    live: httpx2.Client, served: Config, sample: pd.DataFrame
) -> None:
    """Non-finite numbers, over-long and broken text: 422 naming the field, never echoing it."""
    row = records(sample, served, 1)[0]
    template = json.dumps({"records": [{**row, "PLACE": 0}]})
    number = numeric_column(served)
    long_value = "x" * (served.serving.max_text_length + 1)
    bodies = {
        "NaN": template.replace('"PLACE": 0', f'"{number}": NaN'),
        "Infinity": template.replace('"PLACE": 0', f'"{number}": -Infinity'),
        "1e400": template.replace('"PLACE": 0', f'"{number}": 1e400'),
        "surrogate key": template.replace('"PLACE": 0', '"\\ud800": 1'),
        "long key": template.replace('"PLACE": 0', f'"{"k" * 100_000}": 1'),
        "text for a number": template.replace('"PLACE": 0', f'"{number}": "12"'),
        "boolean for a number": template.replace('"PLACE": 0', f'"{number}": true'),
    }
    for text in text_columns(served)[:1]:
        bodies["surrogate"] = template.replace('"PLACE": 0', f'"{text}": "\\ud800"')
        bodies["long text"] = template.replace('"PLACE": 0', f'"{text}": "{long_value}"')
    for case, body in bodies.items():
        response = live.post(
            "/predict", content=body.encode(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, (case, response.text[:500])
        assert len(response.content) < 2_000, case  # the refused value is not sent back
        assert response.json()["detail"][0]["loc"][:3] == ["body", "records", 0], case


def test_a_400_record_422_stays_small(
    live: httpx2.Client, served: Config, sample: pd.DataFrame
) -> None:
    number = numeric_column(served)
    rows = [{**row, number: "x" * 100} for row in records(sample, served, 400)]
    response = live.post("/predict", json={"records": rows})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) == MOST_ERRORS + 1
    assert detail[-1]["msg"] == f"and {400 - MOST_ERRORS} more errors, not listed"
    assert "x" * 100 not in response.text


def test_hostile_feedback_gets_4xx(
    live: httpx2.Client, live_config: Config, sample: pd.DataFrame
) -> None:
    request_id = live.post("/predict", json={"records": records(sample, live_config, 1)}).json()[
        "request_id"
    ]
    actual = records_target(sample, live_config)
    bodies = [
        {"request_id": "f" * 20_000_000, "actual": 1},
        {"request_id": request_id, "actual": actual},  # which record: no default
        *(
            {"request_id": request_id, "index": index, "actual": actual}
            for index in (True, "0", 0.0)
        ),
        {"request_id": request_id, "index": -1, "actual": 1},
        {"request_id": request_id, "index": 10**30, "actual": 1},
        {"request_id": request_id, "actual": "y" * 1_000},
        {"request_id": request_id, "actual": None},
    ]
    for body in bodies:
        response = live.post("/feedback", json=body)
        assert 400 <= response.status_code < 500, response.text[:500]
        assert len(response.content) < 2_000
    nan = json.dumps({"request_id": request_id, "actual": float("nan")}).encode()
    response = live.post("/feedback", content=nan, headers={"content-type": "application/json"})
    assert response.status_code == 422
    valid = {"request_id": request_id, "index": 0, "actual": actual}
    assert live.post("/feedback", json=valid).status_code == 201
    logged = live_config.serving.feedback_log.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["request_id"] for line in logged].count(request_id) == 1
    assert "NaN" not in "".join(logged)


@pytest.mark.filterwarnings(
    "ignore::{{ cookiecutter.package_name }}.errors.ProjectWarning",  # a restart warns again
)
def test_a_torn_log_line_is_skipped_and_never_glued(
    served: Config, sample: pd.DataFrame, tmp_path: Path, running: Running
) -> None:
    """A crash cut the last line short: the server still starts, serves and takes feedback,
    and monitor reads the log, warning about the one line it skips."""
    config = with_logs(served, tmp_path)
    with running(config) as first:
        first.post("/predict", json={"records": records(sample, config, 50)})
    log = config.serving.prediction_log
    log.write_bytes(log.read_bytes() + b'{"time": "2026-01-01", "request_id": "ab')
    with (
        pytest.warns(ProjectWarning, match="not a whole JSON record"),
        running(config) as restarted,
    ):
        answer = restarted.post("/predict", json={"records": records(sample, config, 1)})
    request_id = answer.json()["request_id"]
    lines = log.read_bytes().splitlines()
    assert json.loads(lines[-1])["request_id"] == request_id  # whole, on a line of its own
    with running(config) as again:
        body = {"request_id": request_id, "index": 0, "actual": records_target(sample, config)}
        assert again.post("/feedback", json=body).status_code == 201
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["monitor", "-c", str(config_path), "-i", str(log), "-d", str(tmp_path / "drift")]
    )
    assert result.exit_code in (0, 3), result.output
    assert f"warning: {log}:51: not a whole JSON record (cut short?); skipped" in result.output
    assert "Traceback" not in result.output


def records_target(sample: pd.DataFrame, config: Config) -> bool | float | str:
    """The first row's outcome as a client reports it: typed as the target is."""
    first = validate(sample.head(1), config.data, with_target=True, source="the sample")
    actual: bool | float | str = first[config.data.target.name].tolist()[0]
    return actual


def test_logs_rotate_and_monitor_reads_across(
    served: Config, sample: pd.DataFrame, tmp_path: Path, running: Running
) -> None:
    from {{ cookiecutter.package_name }}.data import read_table
    from {{ cookiecutter.package_name }}.json_lines import rotated_files

    config = with_logs(served, tmp_path)
    serving = config.serving.model_copy(update={"log_rotate_bytes": 1_000, "log_keep": 2})
    config = config.model_copy(update={"serving": serving})
    log = config.serving.prediction_log
    with running(config) as rotating:
        for _ in range(8):  # two records are about 700 bytes: a file holds one request
            rotating.post("/predict", json={"records": records(sample, config, 2)})
            assert log.stat().st_size <= 1_000
    kept = rotated_files(log)
    assert len(kept) == 2  # the older ones were deleted
    logged = sum(len(path.read_bytes().splitlines()) for path in [*kept, log])
    assert len(read_table(log)) == logged > log.read_bytes().count(b"\n")  # what monitor reads


def test_unwritable_logs_are_a_503_that_says_why(
    served: Config, sample: pd.DataFrame, tmp_path: Path, running: Running
) -> None:
    (tmp_path / "logs").write_text("a file where the log folder should be", encoding="utf-8")
    config = with_logs(served, tmp_path / "logs")
    with running(config) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["detail"].startswith(f"cannot write {tmp_path / 'logs'}")
        body = {"records": records(sample, config, 1)}
        assert client.post("/predict", json=body).status_code == 503


def test_an_unloadable_model_is_a_503_that_says_why(
    trained: tuple[Config, TrainingRun], tmp_path: Path, running: Running
) -> None:
    import shutil

    config, run = trained
    models = tmp_path / "models"
    shutil.copytree(config.paths.models, models, symlinks=True)
    model_file = models / "runs" / run.run_id / "model.pkl"
    broken = with_logs(config, tmp_path).model_copy(
        update={"paths": config.paths.model_copy(update={"models": models})}
    )
    model_file.write_bytes(b"not the model that was trained")
    with running(broken) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert "refusing to unpickle" in ready.json()["detail"]
    model_file.unlink()
    with running(broken) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert (
            ready.json()["detail"] == f"no model found at {run.run_id!r} (a run folder or a run id)"
        )


def test_unknown_top_level_fields_are_refused(
    live: httpx2.Client, served: Config, sample: pd.DataFrame
) -> None:
    body = {"records": records(sample, served, 1), "extra": "x" * 1_000}
    response = live.post("/predict", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "extra"]


def test_a_log_that_cannot_be_written_any_more_is_a_503(
    served: Config, sample: pd.DataFrame, tmp_path: Path, running: Running
) -> None:
    """Predictions that cannot be logged are not served: 503 with the reason, not a 500."""
    config = with_logs(served, tmp_path)
    body = {"records": records(sample, config, 1)}
    with running(config) as client:
        assert client.post("/predict", json=body).status_code == 200
        log = config.serving.prediction_log
        log.unlink()
        log.mkdir()  # what a full disk or a changed permission does to the append
        refused = client.post("/predict", json=body)
        assert refused.status_code == 503
        assert refused.json()["detail"].startswith(f"cannot write {log}")


@pytest.mark.filterwarnings(
    "ignore::{{ cookiecutter.package_name }}.errors.ProjectWarning",  # for the lines skipped
)
def test_hand_edited_log_lines_never_stop_the_server(
    served: Config, sample: pd.DataFrame, tmp_path: Path, running: Running
) -> None:
    config = with_logs(served, tmp_path)
    config.serving.prediction_log.write_text("[" * 100_000 + "\n", encoding="utf-8")
    config.serving.feedback_log.write_text(
        '{"request_id": ["x"], "index": {}}\n{"request_id": "ab", "index": 0}\n',
        encoding="utf-8",
    )
    with running(config) as client:
        assert client.get("/ready").status_code == 200
        assert (
            client.post("/predict", json={"records": records(sample, config, 1)}).status_code == 200
        )


def test_a_model_trained_on_other_features_is_a_503_that_says_why(
    served: Config, tmp_path: Path, running: Running
) -> None:
    fewer = served.data.model_copy(update={"features": served.data.features[:-1]})
    config = with_logs(served, tmp_path).model_copy(update={"data": fewer})
    with running(config) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert "was trained on features" in ready.json()["detail"]


def test_an_api_key_must_be_ascii(monkeypatch: pytest.MonkeyPatch, served: Config) -> None:
    """A header could never carry it unchanged, so no client could ever send it."""
    monkeypatch.setenv(API_KEY_VARIABLE, "s3cret-k\u00e9y")
    with pytest.raises(ProjectError, match=f"{API_KEY_VARIABLE}: use printable ASCII"):
        create_app(served)


def test_booleans_are_json_booleans_and_dates_are_text_in_their_format(config: Config) -> None:
    features = [
        BooleanColumn(name="member", type="boolean"),
        DatetimeColumn(name="joined", type="datetime", format="%d/%m/%Y", nullable=True),
    ]
    typed = config.model_copy(
        update={"data": config.data.model_copy(update={"features": features})}
    )
    record = record_model(typed)
    accepted = record.model_validate({"member": False, "joined": "29/02/2024"})
    assert accepted.model_dump() == {"member": False, "joined": "29/02/2024"}
    assert record.model_validate({"member": True}).model_dump()["joined"] is None
    for member in ("false", 0, None):  # a word for a boolean is for files, not JSON
        with pytest.raises(ValueError, match="member"):
            record.model_validate({"member": member, "joined": None})
    for joined in ("2024-02-29", "30/02/2024", "x" * 65):
        with pytest.raises(ValueError, match="joined"):
            record.model_validate({"member": True, "joined": joined})
