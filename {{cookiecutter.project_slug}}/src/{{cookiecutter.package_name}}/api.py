"""The online prediction API: the saved pipeline behind FastAPI, loaded once per process.

Request and response models are built from the data schema in the config, so the
OpenAPI docs (``/docs``) list every column with its type and allowed values, and a bad
request gets a 422 naming the field. The request model carries every check of the data
schema, so valid records go straight to the same pipeline as batch prediction. Every
prediction is appended to a JSON-lines log that ``monitor`` can read, and ``/feedback``
records the true outcome for a request.
"""

import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic_core import to_json

from . import __version__
from .artifacts import SavedModel
from .config import CategoricalColumn, Column, Config
from .data import frame_from_records
from .errors import ModelNotFoundError
from .predict import MODEL_VERSION, load_for_inference, predict_features


class JsonLinesLog:
    """Append-only JSON-lines file, safe to share between the server's threads.

    ``knows`` reads only what was appended since it last looked, so checking a feedback
    against a long prediction log costs the new lines, not the whole file; lines other
    processes (more server workers) append are seen too.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._request_ids: set[str] = set()
        self._read_up_to = 0

    def append(self, entries: list[dict[str, Any]]) -> None:
        lines = b"".join(to_json(entry) + b"\n" for entry in entries)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as stream:
                stream.write(lines)

    def knows(self, request_id: str) -> bool:
        """Whether an entry with this ``request_id`` has been logged."""
        with self._lock:
            if request_id in self._request_ids:
                return True
            if not self.path.is_file():
                return False
            with self.path.open("rb") as stream:
                if stream.seek(0, os.SEEK_END) < self._read_up_to:  # the log was replaced
                    self._request_ids.clear()
                    self._read_up_to = 0
                stream.seek(self._read_up_to)
                appended = stream.read()
            complete = appended[: appended.rfind(b"\n") + 1]  # a line being written waits
            self._read_up_to += len(complete)
            for line in complete.splitlines():
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    self._request_ids.add(json.loads(line)["request_id"])
            return request_id in self._request_ids


def _field(column: Column) -> tuple[Any, Any]:
    if isinstance(column, CategoricalColumn):
        annotation: Any = Literal[tuple(column.allowed)] if column.allowed else str
        constraints: dict[str, Any] = {}
    else:
        annotation = float
        constraints = {"ge": column.min, "le": column.max, "allow_inf_nan": False}
    if column.nullable:
        return annotation | None, Field(default=None, **constraints)
    return annotation, Field(..., **constraints)


def record_model(config: Config) -> type[BaseModel]:
    """A pydantic model with one field per configured feature."""
    fields = {column.name: _field(column) for column in config.data.features}
    return create_model(  # type: ignore[call-overload, no-any-return]
        "Record", __config__=ConfigDict(extra="forbid"), **fields
    )


class Prediction(BaseModel):
    prediction: float | str
    probabilities: dict[str, float] | None = None


class PredictionResponse(BaseModel):
    request_id: str
    model_version: str
    predictions: list[Prediction]


class Feedback(BaseModel):
    request_id: str
    index: int = Field(default=0, ge=0, description="Position of the record in the request.")
    actual: float | str = Field(description="The true outcome, once known.")


class PredictionService:
    """Everything ``/predict`` and ``/feedback`` do apart from HTTP, callable on its own.

    The request model has already checked every field against the schema (types,
    allowed values, ranges, missing values), so records go straight to the model, as
    a frame typed like a validated one: no second pass of the schema checks per request.
    """

    def __init__(self, config: Config, reference: str | None) -> None:
        self.config = config
        self.reference = reference
        self.saved: SavedModel | None = None
        self.predictions_log = JsonLinesLog(config.serving.prediction_log)
        self.feedback_log = JsonLinesLog(config.serving.feedback_log)

    def load(self) -> None:
        """Load the model once, at start-up; without one the API answers 503 until restarted."""
        try:
            self.saved = load_for_inference(self.config, self.reference)
        except ModelNotFoundError:
            self.saved = None

    def require(self) -> SavedModel:
        if self.saved is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "no trained model: run train first"
            )
        return self.saved

    def predict(self, records: list[BaseModel]) -> PredictionResponse:
        """Predict ``records``, log every one of them, and name the model version."""
        saved = self.require()
        started = time.perf_counter()
        rows = [record.model_dump() for record in records]
        features = frame_from_records(rows, self.config.data)
        result = predict_features(saved, features, self.config.task)
        labels = result.labels.tolist()
        if result.probabilities is None:
            predictions = [Prediction(prediction=_plain(label)) for label in labels]
        else:
            predictions = [
                Prediction(
                    prediction=_plain(label),
                    probabilities=dict(zip(result.classes, row, strict=True)),
                )
                for label, row in zip(labels, result.probabilities.tolist(), strict=True)
            ]
        request_id = uuid.uuid4().hex
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        now = datetime.now(UTC).isoformat()
        self.predictions_log.append(
            [
                {
                    "time": now,
                    "request_id": request_id,
                    "index": index,
                    MODEL_VERSION: saved.version,
                    "latency_ms": latency_ms,
                    "inputs": row,
                    "output": prediction.model_dump(),
                }
                for index, (row, prediction) in enumerate(zip(rows, predictions, strict=True))
            ]
        )
        return PredictionResponse(
            request_id=request_id, model_version=saved.version, predictions=predictions
        )

    def record_feedback(self, item: Feedback) -> None:
        if not self.predictions_log.knows(item.request_id):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"unknown request_id {item.request_id!r}"
            )
        self.feedback_log.append([{"time": datetime.now(UTC).isoformat(), **item.model_dump()}])


def request_model(config: Config) -> type[BaseModel]:
    """The body of ``/predict``: a bounded list of records, each checked field by field."""
    record = record_model(config)
    return create_model(
        "PredictionRequest",
        records=(list[record], Field(min_length=1, max_length=config.serving.max_batch)),  # type: ignore[valid-type]
    )


def create_app(config: Config, model: str | None = None) -> FastAPI:
    """The API for ``config``; ``model`` picks a run (default: the latest good one)."""
    service = PredictionService(config, model)
    PredictionRequest = request_model(config)  # noqa: N806 - a class, built at run time

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.load()
        yield

    app = FastAPI(
        title={{ cookiecutter.project_name | python_string }},
        description={{ cookiecutter.description | python_string }},
        version=__version__,
        lifespan=lifespan,
    )

    @app.get("/health", tags=["operations"])
    def health() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"])
    def ready() -> dict[str, str]:
        """Readiness: a model is loaded and predictions can be served."""
        return {"status": "ready", "model_version": service.require().version}

    @app.get("/metadata", tags=["operations"])
    def metadata() -> dict[str, Any]:
        """The served model's version, metrics and input schema."""
        saved = service.require()
        return {
            "model_version": saved.version,
            "task": config.task,
            "created_at": saved.metadata["created_at"],
            "metrics": saved.metadata["metrics"],
            "classes": saved.metadata["classes"],
            "features": [column.model_dump() for column in config.data.features],
        }

    # A coroutine, so requests skip the thread pool: the prediction holds the GIL either way,
    # and handing it to a thread costs more than the work for small requests.
    @app.post("/predict", tags=["model"])
    async def predict(request: PredictionRequest) -> PredictionResponse:  # type: ignore[valid-type]
        """Predict one or many records; the response names the model version."""
        return service.predict(request.records)  # type: ignore[attr-defined]

    @app.post("/feedback", status_code=status.HTTP_201_CREATED, tags=["model"])
    def feedback(item: Feedback) -> dict[str, str]:
        """Record the true outcome of an earlier prediction, for monitoring performance."""
        service.record_feedback(item)
        return {"status": "recorded"}

    return app


def _plain(value: Any) -> float | str:
    """Labels as plain JSON types: text stays text, numbers become floats."""
    return value if isinstance(value, str) else float(value)
