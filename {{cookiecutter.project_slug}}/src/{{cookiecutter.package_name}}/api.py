"""The online prediction API: the saved pipeline behind FastAPI, loaded once per process.

The request models (``api_models``) carry every check of the data schema, so valid
records go straight to the same pipeline as batch prediction; ``api_guards`` bounds the
requests and, when a key is set, demands it. Every prediction is appended to a
JSON-lines log that ``monitor`` reads, and ``/feedback`` records the true outcome of
one predicted record, once.
"""

import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from . import __version__
from .api_guards import (
    API_KEY_VARIABLE,
    UNPROCESSABLE,
    BodySizeLimit,
    api_key_check,
    brief_validation_errors,
    configured_api_key,
)
from .api_models import Prediction, PredictionResponse, feedback_model, request_model
from .artifacts import SavedModel
from .config import Config
from .data import frame_from_records
from .errors import ProjectError
from .experiments import AB, CHALLENGER, SHADOW, Assignment, Experiment
from .json_lines import EXPERIMENT, SHADOW_ENTRY, JsonLinesLog, read_entries
from .predict import MODEL_VERSION, load_for_inference

NO_MODEL = "no trained model: run train first"
logger = logging.getLogger(__name__)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port``, for uvicorn to serve on.

    It names its protocol, which ``socket.create_server`` leaves at 0: asyncio turns
    Nagle's algorithm off only on connections that say they are TCP, and with it on,
    each response (headers and body sent apart) waits some 40 ms for the client's
    delayed acknowledgement.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":  # rebind at once after a restart, as servers do
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen()
    except OSError:
        listening.close()
        raise
    return listening


class PredictionService:
    """Everything ``/predict`` and ``/feedback`` do apart from HTTP, callable on its own.

    The request model has already checked every field against the schema (types,
    allowed values, ranges, missing values), so records go straight to the model, as
    a frame typed like a validated one: no second pass of the schema checks per request.
    Which requests were served, with how many records, and which records already have
    feedback are kept in memory, read from the logs once at start-up.
    """

    def __init__(
        self,
        config: Config,
        reference: str | None,
        *,
        challenger: str | None = None,
        mode: str = AB,
        share: float | None = None,
        allow_external_model: bool = False,
    ) -> None:
        """``reference`` names the champion (default: the latest good run); with
        ``challenger``, an experiment in ``mode`` runs between the two (``experiments``)."""
        self.config = config
        self.reference = reference
        self.challenger_reference = challenger
        self.allow_external_model = allow_external_model
        self.saved: SavedModel | None = None
        self.challenger: SavedModel | None = None
        self.loaded_at: str | None = None
        self.unavailable = NO_MODEL
        plan = config.serving.experiment
        self.experiment = Experiment(
            mode if challenger is not None else None,
            plan.challenger_share if share is None else share,
            plan.key,
        )
        self.shadow = ShadowQueue(self) if self.experiment.mode == SHADOW else None
        serving = config.serving
        limits = {"rotate_bytes": serving.log_rotate_bytes, "keep": serving.log_keep}
        self.predictions_log = JsonLinesLog(serving.prediction_log, **limits)
        self.feedback_log = JsonLinesLog(serving.feedback_log, **limits)
        self._records_in_request: dict[str, int] = {}
        self._with_feedback: set[tuple[str, int]] = set()
        self._feedback_lock = threading.Lock()

    def load(self) -> None:
        """Load the models at start-up; without them the API answers 503 until restarted
        or reloaded (``reload``)."""
        try:
            self._serve(*self._models())
        except ProjectError as error:
            self.saved, self.unavailable = None, str(error)
        for log in (self.predictions_log, self.feedback_log):
            problem = log.writable()
            if problem is not None:  # served predictions would go unlogged: serve none
                self.saved, self.unavailable = None, problem
        for request_id, index in _logged_records(self.predictions_log):
            known = self._records_in_request.get(request_id, 0)
            self._records_in_request[request_id] = max(known, index + 1)
        self._with_feedback.update(_logged_records(self.feedback_log))

    def reload(self) -> None:
        """Load the models again, as the references now name them: after ``promote``,
        ``rollback`` or ``experiment-report --promote`` moved the champion. A model that
        does not load leaves those being served in place (409 with the reason)."""
        try:
            models = self._models(promoted=True)
        except ProjectError as error:
            kept = "kept the models being served" if self.saved else "still serving no model"
            raise HTTPException(status.HTTP_409_CONFLICT, f"{kept}: {error}") from None
        if models[1] is None:  # over for good: a rollback later does not restart it
            self.challenger_reference = None
        self._serve(*models)

    def _models(self, *, promoted: bool = False) -> tuple[SavedModel, SavedModel | None]:
        """The champion and the challenger (if any), as their references name them now.

        Both naming one model is a mistake at start-up; on ``reload`` (``promoted``) it
        means the challenger was promoted: the experiment is over, the champion serves alone.
        """
        external = self.allow_external_model
        champion = load_for_inference(self.config, self.reference, allow_external=external)
        if self.challenger_reference is None:
            return champion, None
        challenger = load_for_inference(
            self.config, self.challenger_reference, allow_external=external
        )
        if challenger.version == champion.version:
            if promoted:
                return champion, None
            raise ProjectError(
                f"the challenger {self.challenger_reference} is the champion itself (run "
                f"{champion.version}): an experiment needs two different models"
            )
        return champion, challenger

    def _serve(self, champion: SavedModel, challenger: SavedModel | None) -> None:
        """Answer with these models from the next request on (records queued for a
        shadow challenger before are still predicted by the one they were queued for)."""
        self.saved, self.challenger = champion, challenger
        self.loaded_at = datetime.now(UTC).isoformat(timespec="seconds")

    @staticmethod
    def _log(log: JsonLinesLog, entries: list[dict[str, Any]]) -> None:
        """Append to ``log``; what cannot be logged is not served (503 with the reason)."""
        try:
            log.append(entries)
        except OSError as error:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"cannot write {log.path}: {error.strerror or error}",
            ) from None

    def require(self) -> SavedModel:
        if self.saved is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, self.unavailable)
        return self.saved

    def predict(
        self, records: list[BaseModel]
    ) -> tuple[PredictionResponse, Callable[[], None] | None]:
        """Predict ``records``, log every one of them, and name the model versions.

        In shadow mode the second value queues the records for the challenger, to be
        called once the response has gone (``ShadowQueue``); otherwise it is None.
        """
        champion = self.require()
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        rows = [record.model_dump() for record in records]
        features = frame_from_records(rows, self.config.data)
        key = self.experiment.key
        assignments = [
            self.experiment.assign(getattr(record, key, None) if key else None, request_id, index)
            for index, record in enumerate(records)
        ]
        challenger = self.challenger  # as it is now: a reload may change it before `later`
        answers = self._answer(champion, challenger, features, assignments)
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        now = datetime.now(UTC).isoformat()
        experiment = {}
        if challenger is not None:
            experiment = {EXPERIMENT: self.experiment.name(champion.version, challenger.version)}
        entries = [
            logged_prediction(now, request_id, index, answer, assignment.arm, assignment.key)
            | experiment
            | {"latency_ms": latency_ms, "inputs": row}
            for index, (row, answer, assignment) in enumerate(
                zip(rows, answers, assignments, strict=True)
            )
        ]
        self._log(self.predictions_log, entries)
        self._records_in_request[request_id] = len(rows)
        answered_by = {answer.model_version for answer in answers}
        response = PredictionResponse(
            request_id=request_id,
            model_version=answered_by.pop() if len(answered_by) == 1 else champion.version,
            predictions=answers,
        )
        later = None
        if self.shadow is not None and challenger is not None:
            work = ShadowWork(features, request_id, assignments, challenger, experiment)
            later = functools.partial(self.shadow.add, work)
        return response, later

    def _answer(
        self,
        champion: SavedModel,
        challenger: SavedModel | None,
        features: pd.DataFrame,
        assignments: list[Assignment],
    ) -> list[Prediction]:
        """Each record answered by the model of its arm, in the order of the request."""
        chosen = [index for index, a in enumerate(assignments) if a.arm == CHALLENGER]
        if challenger is None or not chosen:
            return answers_of(self.config, champion, features)
        if len(chosen) == len(assignments):
            return answers_of(self.config, challenger, features)
        answers = dict(
            zip(chosen, answers_of(self.config, challenger, features.iloc[chosen]), strict=True)
        )
        rest = [index for index in range(len(assignments)) if index not in answers]
        answers |= zip(rest, answers_of(self.config, champion, features.iloc[rest]), strict=True)
        return [answers[index] for index in range(len(assignments))]

    def described_experiment(self) -> dict[str, Any] | None:
        """The experiment as ``/metadata`` shows it: None when one model serves alone."""
        if self.challenger is None:
            return None
        experiment = self.experiment
        return {
            "mode": experiment.mode,
            "challenger_share": experiment.share if experiment.mode == AB else None,
            "key": experiment.key,
            "challenger": _described(self.challenger),
        }

    def record_feedback(self, request_id: str, index: int, actual: float | str) -> None:
        """Log the true outcome of record ``index`` of a served request, once."""
        records = self._records_in_request.get(request_id)
        if records is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown request_id {request_id}")
        if index >= records:
            raise HTTPException(
                UNPROCESSABLE,
                [
                    {
                        "loc": ["body", "index"],
                        "msg": f"request {request_id} had {records} record(s): index "
                        f"goes from 0 to {records - 1}",
                        "type": "index_out_of_range",
                    }
                ],
            )
        with self._feedback_lock:
            if (request_id, index) in self._with_feedback:
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    f"feedback for record {index} of request {request_id} is already recorded",
                )
            entry = {"request_id": request_id, "index": index, "actual": actual}
            self._log(self.feedback_log, [{"time": datetime.now(UTC).isoformat(), **entry}])
            self._with_feedback.add((request_id, index))


def answers_of(config: Config, saved: SavedModel, features: pd.DataFrame) -> list[Prediction]:
    """What ``saved`` predicts for each row of ``features``, as the API answers it."""
    result = config.task.predict(saved.model, features)
    labels = result.labels.tolist()
    if result.probabilities is None:
        return [
            Prediction(prediction=_plain(label), model_version=saved.version) for label in labels
        ]
    return [
        Prediction(
            prediction=_plain(label),
            probabilities=dict(zip(result.classes, row, strict=True)),
            model_version=saved.version,
        )
        for label, row in zip(labels, result.probabilities.tolist(), strict=True)
    ]


SHADOW_BATCH = 64  # records the shadow model predicts in one call
SHADOW_WAIT_SECONDS = 5.0  # the longest a record waits for its batch to fill


def logged_prediction(
    now: str, request_id: str, index: int, answer: Prediction, arm: str, assignment_key: str
) -> dict[str, Any]:
    """One record's prediction as the prediction log keeps it, champion's or challenger's."""
    return {
        "time": now,
        "request_id": request_id,
        "index": index,
        MODEL_VERSION: answer.model_version,
        "arm": arm,
        "assignment_key": assignment_key,
        "output": answer.model_dump(exclude={MODEL_VERSION}),
    }


@dataclass(frozen=True)
class ShadowWork:
    """The records of one request, for the challenger that was serving when it came."""

    features: pd.DataFrame
    request_id: str
    assignments: list[Assignment]
    challenger: SavedModel
    experiment: dict[str, str]  # the experiment's name, as the champion's lines log it


class ShadowQueue:
    """The challenger's predictions in shadow mode, made and logged off the request path.

    Each response has gone before its records are queued here, and the challenger
    predicts them in batches of ``SHADOW_BATCH`` records: one call's fixed cost, most of
    the work for a few records, is spread over many requests instead of following each;
    a batch that does not fill within ``SHADOW_WAIT_SECONDS`` of its first record is
    predicted as it is. One queue serves the server's whole life, so records queued just
    before a reload are still predicted, by the challenger they were queued for; what is
    queued when the server stops is predicted then. A failure is logged as a warning:
    the clients have their answers and the champion's entries are logged.
    """

    def __init__(self, service: PredictionService) -> None:
        self.service = service
        self._pending: list[ShadowWork] = []
        self._deadline: threading.Timer | None = None  # flushes a batch that does not fill
        self._lock = threading.Lock()

    def add(self, work: ShadowWork) -> None:
        with self._lock:
            self._pending.append(work)
            if sum(len(each.features) for each in self._pending) < SHADOW_BATCH:
                if self._deadline is None:
                    self._deadline = threading.Timer(SHADOW_WAIT_SECONDS, self.flush)
                    self._deadline.daemon = True
                    self._deadline.start()
                return
            batch = self._taken()
        self._predict(batch)

    def flush(self) -> None:
        with self._lock:
            batch = self._taken()
        if batch:
            self._predict(batch)

    def _taken(self) -> list[ShadowWork]:
        """Everything queued, the queue emptied (called with the lock held)."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        batch, self._pending = self._pending, []
        return batch

    def _predict(self, batch: list[ShadowWork]) -> None:
        by_challenger: dict[str, list[ShadowWork]] = {}
        for work in batch:
            by_challenger.setdefault(work.challenger.version, []).append(work)
        for works in by_challenger.values():
            self._predict_with(works[0].challenger, works)

    def _predict_with(self, challenger: SavedModel, batch: list[ShadowWork]) -> None:
        started = time.perf_counter()
        try:
            features = pd.concat([work.features for work in batch], ignore_index=True)
            answers = iter(answers_of(self.service.config, challenger, features))
            latency_ms = round((time.perf_counter() - started) * 1000 / len(features), 3)
            now = datetime.now(UTC).isoformat()
            self.service.predictions_log.append(
                [
                    logged_prediction(
                        now, work.request_id, index, next(answers), CHALLENGER, assignment.key
                    )
                    | work.experiment
                    # per record, predicted in a batch
                    | {SHADOW_ENTRY: True, "latency_ms": latency_ms}
                    for work in batch
                    for index, assignment in enumerate(work.assignments)
                ]
            )
        except Exception as error:
            requests = ", ".join(work.request_id for work in batch[:3])
            logger.warning("shadow predictions for requests %s... failed: %s", requests, error)


def create_app(
    config: Config,
    model: str | None = None,
    *,
    challenger: str | None = None,
    mode: str = AB,
    share: float | None = None,
    allow_external_model: bool = False,
) -> FastAPI:
    """The API for ``config``; ``model`` picks a run (default: the latest good one), and
    ``challenger`` another to run an experiment with in ``mode`` (``experiments``).

    Everything but the liveness and readiness probes asks for the API key when one is set.
    """
    service = PredictionService(
        config,
        model,
        challenger=challenger,
        mode=mode,
        share=share,
        allow_external_model=allow_external_model,
    )
    api_key = configured_api_key()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.load()
        if service.saved is None:  # up, but not ready: say why where the operator looks
            logger.error("serving no model, /ready answers 503: %s", service.unavailable)
        yield
        if service.shadow is not None:
            service.shadow.flush()

    app = FastAPI(
        title={{ cookiecutter.project_name | python_string }},
        description={{ cookiecutter.description | python_string }},
        version=__version__,
        lifespan=lifespan,
        exception_handlers={RequestValidationError: brief_validation_errors},
    )
    app.state.service = service
    app.add_middleware(BodySizeLimit, limit=config.serving.max_request_bytes)
    app.include_router(probes)
    guarded = [Depends(api_key_check(api_key))] if api_key else []
    app.include_router(model_routes(config, reloadable=bool(api_key)), dependencies=guarded)
    return app


def the_service(request: Request) -> PredictionService:
    """The app's prediction service, for the routes that need it."""
    service: PredictionService = request.app.state.service
    return service


Service = Annotated[PredictionService, Depends(the_service)]
probes = APIRouter(tags=["operations"])


@probes.get("/health")
def health() -> dict[str, str]:
    """Liveness: the process is up."""
    return {"status": "ok"}


@probes.get("/ready")
def ready(service: Service) -> dict[str, str]:
    """Readiness: a model is loaded and predictions can be served; if not, 503 says why."""
    return {"status": "ready", "model_version": service.require().version}


def model_routes(config: Config, *, reloadable: bool) -> APIRouter:
    """``/metadata``, ``/predict``, ``/feedback`` and ``/reload``; the bodies follow the
    data schema. ``reloadable``: whether ``/reload`` may be used (an API key is set)."""
    PredictionRequest = request_model(config)  # noqa: N806 - classes, built at run time
    Feedback = feedback_model(config)  # noqa: N806
    routes = APIRouter()

    @routes.get("/metadata", tags=["operations"])
    def metadata(service: Service) -> dict[str, Any]:
        """The served model's version, metrics and input schema."""
        saved = service.require()
        return {
            **_described(saved),
            "task": config.task.name,
            "classes": saved.metadata["classes"],
            "features": [column.model_dump() for column in config.data.features],
            "experiment": service.described_experiment(),
            "loaded_at": service.loaded_at,
        }

    @routes.post("/reload", tags=["operations"])
    def reload(service: Service) -> dict[str, Any]:
        """Load the models again, as ``promote``, ``rollback`` or ``experiment-report
        --promote`` left them, without a restart. Only with an API key set (403 if not):
        anyone who can reach an open API could otherwise make it reload at will.
        409: a model did not load; the ones being served stay.
        """
        if not reloadable:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"set {API_KEY_VARIABLE} to allow /reload"
            )
        service.reload()
        return {
            "model_version": service.require().version,
            "challenger_version": None
            if service.challenger is None
            else service.challenger.version,
            "loaded_at": service.loaded_at,
        }

    # A coroutine, so requests skip the thread pool: the prediction holds the GIL either way,
    # and handing it to a thread costs more than the work for small requests.
    @routes.post("/predict", tags=["model"])
    async def predict(
        request: PredictionRequest,  # type: ignore[valid-type]
        service: Service,
        later: BackgroundTasks,
    ) -> PredictionResponse:
        """Predict one or many records; the response names the model versions."""
        response, shadow = service.predict(request.records)  # type: ignore[attr-defined]
        if shadow is not None:
            later.add_task(shadow)
        return response

    @routes.post("/feedback", status_code=status.HTTP_201_CREATED, tags=["model"])
    def feedback(item: Feedback, service: Service) -> dict[str, str]:  # type: ignore[valid-type]
        """Record the true outcome of one predicted record, for monitoring performance.

        404: unknown request_id; 409: this record's outcome is already recorded.
        """
        service.record_feedback(item.request_id, item.index, item.actual)  # type: ignore[attr-defined]
        return {"status": "recorded"}

    return routes


def _described(saved: SavedModel) -> dict[str, Any]:
    return {
        "model_version": saved.version,
        "created_at": saved.metadata["created_at"],
        "metrics": saved.metadata["metrics"],
    }


def _logged_records(log: JsonLinesLog) -> Iterator[tuple[str, int]]:
    """``(request_id, index)`` of every entry in ``log`` that has both, well typed."""
    for entry in read_entries(log.path):
        request_id, index = entry.get("request_id"), entry.get("index")
        if isinstance(request_id, str) and isinstance(index, int):
            yield request_id, index


def _plain(value: Any) -> bool | int | float | str:
    """Labels as plain JSON types: text, booleans and whole-number classes as they are,
    predicted quantities as floats."""
    return value if isinstance(value, str | bool | int) else float(value)
