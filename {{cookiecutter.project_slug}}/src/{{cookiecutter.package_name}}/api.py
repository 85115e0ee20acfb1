"""The online prediction API: the saved pipeline behind FastAPI, loaded once per process.

Request and response models are built from the data schema in the config, so the
OpenAPI docs (``/docs``) list every column with its type and allowed values, and a bad
request gets a 422 naming the field. Records then pass through the same validation and
pipeline as batch prediction. Every prediction is appended to a JSON-lines log that
``monitor`` can read, and ``/feedback`` records the true outcome for a request.
"""

import json
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

from . import __version__
from .artifacts import SavedModel
from .config import CategoricalColumn, Column, Config
from .errors import DataError, ModelNotFoundError
from .predict import MODEL_VERSION, PREDICTION, load_for_inference, predict_frame


class JsonLinesLog:
    """Append-only JSON-lines file, safe to share between the server's threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, entries: list[dict[str, Any]]) -> None:
        lines = "".join(json.dumps(entry, default=str) + "\n" for entry in entries)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as stream:
                stream.write(lines)

    def request_ids(self) -> set[str]:
        if not self.path.is_file():
            return set()
        with self.path.open(encoding="utf-8") as stream:
            return {json.loads(line)["request_id"] for line in stream if line.strip()}


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


class ModelState:
    """The model the process serves, loaded once at start-up (None until trained)."""

    def __init__(self, config: Config, reference: str | None) -> None:
        self.config = config
        self.reference = reference
        self.saved: SavedModel | None = None

    def load(self) -> None:
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


def create_app(config: Config, model: str | None = None) -> FastAPI:
    """The API for ``config``; ``model`` picks a run (default: the latest good one)."""
    state = ModelState(config, model)
    predictions_log = JsonLinesLog(config.serving.prediction_log)
    feedback_log = JsonLinesLog(config.serving.feedback_log)
    Record = record_model(config)  # noqa: N806 - a class, built at run time

    PredictionRequest = create_model(  # noqa: N806 - a class, built at run time
        "PredictionRequest",
        records=(list[Record], Field(min_length=1, max_length=config.serving.max_batch)),  # type: ignore[valid-type]
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.load()
        yield

    app = FastAPI(
        title="ML Project",
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
        saved = state.require()
        return {"status": "ready", "model_version": saved.version}

    @app.get("/metadata", tags=["operations"])
    def metadata() -> dict[str, Any]:
        """The served model's version, metrics and input schema."""
        saved = state.require()
        return {
            "model_version": saved.version,
            "task": config.task,
            "created_at": saved.metadata["created_at"],
            "metrics": saved.metadata["metrics"],
            "classes": saved.metadata["classes"],
            "features": [column.model_dump() for column in config.data.features],
        }

    @app.post("/predict", tags=["model"])
    def predict(request: PredictionRequest) -> PredictionResponse:
        """Predict one or many records; the response names the model version."""
        import pandas as pd

        saved = state.require()
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        rows = [record.model_dump() for record in request.records]  # type: ignore[attr-defined]
        frame = pd.DataFrame(rows, columns=config.data.feature_names)
        try:
            output = predict_frame(saved, frame, config, source="request")
        except DataError as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
        probability_columns = [c for c in output.columns if c.startswith("probability_")]
        predictions = [
            Prediction(
                prediction=_plain(row[PREDICTION]),
                probabilities={
                    c.removeprefix("probability_"): float(row[c]) for c in probability_columns
                }
                or None,
            )
            for _, row in output.iterrows()
        ]
        latency_ms = (time.perf_counter() - started) * 1000
        now = datetime.now(UTC).isoformat()
        predictions_log.append(
            [
                {
                    "time": now,
                    "request_id": request_id,
                    "index": index,
                    MODEL_VERSION: saved.version,
                    "latency_ms": round(latency_ms, 3),
                    "inputs": row,
                    "output": prediction.model_dump(),
                }
                for index, (row, prediction) in enumerate(zip(rows, predictions, strict=True))
            ]
        )
        return PredictionResponse(
            request_id=request_id, model_version=saved.version, predictions=predictions
        )

    @app.post("/feedback", status_code=status.HTTP_201_CREATED, tags=["model"])
    def feedback(item: Feedback) -> dict[str, str]:
        """Record the true outcome of an earlier prediction, for monitoring performance."""
        if item.request_id not in predictions_log.request_ids():
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"unknown request_id {item.request_id!r}"
            )
        feedback_log.append([{"time": datetime.now(UTC).isoformat(), **item.model_dump()}])
        return {"status": "recorded"}

    return app


def _plain(value: Any) -> float | str:
    """NumPy scalars to plain JSON types."""
    return value if isinstance(value, str) else float(value)
